/**
 * The programs of the packaging test (`packaging.test.ts`): for each publishable package, a minimal
 * TypeScript program a user could write. It imports the package's main entry from the installed tarball,
 * constructs or calls one thing and checks the result at run time; it throws when the check fails.
 *
 * Every tarball is installed in the same project, so a program may import several packages: a check
 * across packages (one `ConfigurationError` class that `instanceof` recognises whichever package threw
 * it, say) is one more entry. A publishable package that no entry names gets the default program below.
 */
export interface PackagingProgram {
  /** The package the program is about: its main entry is what the program imports first. */
  readonly packageName: string;
  /** The program's file name, without extension. */
  readonly name: string;
  /** The TypeScript source (an ES module compiled with module/moduleResolution nodenext). */
  readonly source: string;
}

/**
 * A module written beside the programs (`src/expect.ts`), which they import as `./expect.js`: the one
 * check most of them make.
 */
export const PROGRAM_HELPER_SOURCE = `
/** Checks that \`call\` throws an instance of \`errorClass\` whose problems name \`path\`. */
export function expectConfigurationError(
  call: () => unknown,
  errorClass: new (...args: never[]) => Error & { problems: readonly { path: string }[] },
  path: string,
): void {
  try {
    call();
  } catch (error) {
    if (!(error instanceof errorClass)) throw error;
    if (!error.problems.some((p) => p.path === path)) throw new Error(error.message);
    return;
  }
  throw new Error(\`a bad \${path} was accepted\`);
}
`;

export const PACKAGING_PROGRAMS: readonly PackagingProgram[] = [
  {
    packageName: '@shardline/common',
    name: 'common',
    source: `
import { ConfigurationError, ProblemList, splitBatches } from '@shardline/common';
import { expectConfigurationError } from './expect.js';

const batches = splitBatches(['aaa', 'bbb', 'ccc'], (item) => item.length, 2, 1_000);
if (JSON.stringify(batches) !== '[["aaa","bbb"],["ccc"]]') throw new Error(\`split into \${JSON.stringify(batches)}\`);
const problems = new ProblemList('widget options');
problems.add('size', 'must be positive');
expectConfigurationError(() => problems.throwIfAny(), ConfigurationError, 'size');
`,
  },
  {
    packageName: '@shardline/kpl',
    name: 'kpl',
    source: `
import { aggregate, deaggregate } from '@shardline/kpl';

const data = aggregate([
  { partitionKey: 'a', data: new TextEncoder().encode('one') },
  { partitionKey: 'b', data: new TextEncoder().encode('two') },
]);
const records = deaggregate(data);
if (records?.length !== 2 || records[1]?.partitionKey !== 'b') throw new Error('the aggregate did not round-trip');
`,
  },
  {
    // One ConfigurationError class across packages: whichever package threw it, instanceof recognises it.
    packageName: '@shardline/common',
    name: 'one-configuration-error',
    source: `
import { ConfigurationError, ShardlineError } from '@shardline/common';
import { ConfigurationError as CoreConfigurationError } from '@shardline/consumer-core';
import { ConfigurationError as IngestConfigurationError } from '@shardline/ingest';
import { RecordAggregator } from '@shardline/kpl';
import { resolveLocalTwinConfig } from '@shardline/local';
import { resolveProducerConfig } from '@shardline/producer';
import { ConfigurationError as SinkConfigurationError } from '@shardline/s3-sink';
import { expectConfigurationError } from './expect.js';

if (CoreConfigurationError !== ConfigurationError || IngestConfigurationError !== ConfigurationError || SinkConfigurationError !== ConfigurationError) {
  throw new Error('a package exports a ConfigurationError class of its own');
}
// Each thrown by another package, each caught as common's class.
expectConfigurationError(() => new RecordAggregator({ maxRecordBytes: 0 }), ConfigurationError, 'maxRecordBytes');
expectConfigurationError(() => resolveLocalTwinConfig({ shardLimit: 0 }), ConfigurationError, 'shardLimit');
expectConfigurationError(() => resolveProducerConfig({ lingerMs: -5 } as never), ConfigurationError, 'lingerMs');
if (!(new ConfigurationError([]) instanceof ShardlineError)) throw new Error('ConfigurationError is not a ShardlineError');
`,
  },
  {
    packageName: '@shardline/consumer-core',
    name: 'consumer-core',
    source: `
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { ConfigurationError, resolveConsumerConfig } from '@shardline/consumer-core';
import { expectConfigurationError } from './expect.js';

const clients = { kinesisClient: new KinesisClient({ region: 'eu-west-1' }), dynamoDBClient: new DynamoDBClient({ region: 'eu-west-1' }) };
const config = resolveConsumerConfig({ streamName: 'events', applicationName: 'app', ...clients });
if (config.streamName !== 'events') throw new Error('the resolved config lost the stream name');
expectConfigurationError(
  () => resolveConsumerConfig({ streamName: 'events', applicationName: 'app', ...clients, failoverTimeMs: -1 }),
  ConfigurationError,
  'failoverTimeMs',
);
`,
  },
  {
    packageName: '@shardline/ingest',
    name: 'ingest',
    source: `
import { decodeEnvelope, encodeEnvelope } from '@shardline/ingest';

const bytes = encodeEnvelope({ eventId: 'order-1', data: { amount: 12 } });
const envelope = decodeEnvelope(bytes);
if (envelope.eventId !== 'order-1') throw new Error(\`decoded \${envelope.eventId}\`);
`,
  },
  {
    packageName: '@shardline/local',
    name: 'local',
    source: `
import { ConfigurationError, resolveLocalTwinConfig } from '@shardline/local';
import { expectConfigurationError } from './expect.js';

expectConfigurationError(() => resolveLocalTwinConfig({ shardLimit: 0 }), ConfigurationError, 'shardLimit');
`,
  },
  {
    packageName: '@shardline/producer',
    name: 'producer',
    source: `
import { ConfigurationError, httpTransport, resolveProducerConfig } from '@shardline/producer';
import { expectConfigurationError } from './expect.js';

const transport = httpTransport({ url: 'http://127.0.0.1:1/events', apiKey: 'key' });
expectConfigurationError(() => resolveProducerConfig({ transport, lingerMs: -5 }), ConfigurationError, 'lingerMs');
`,
  },
  {
    packageName: '@shardline/s3-sink',
    name: 's3-sink',
    source: `
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { S3Client } from '@aws-sdk/client-s3';
import { ConfigurationError, createS3Sink } from '@shardline/s3-sink';
import { expectConfigurationError } from './expect.js';

const region = 'eu-west-1';
expectConfigurationError(
  () =>
    createS3Sink({
    streamName: 'events',
    bucket: 'archive',
    applicationName: 'archive',
    kinesisClient: new KinesisClient({ region }),
    dynamoDBClient: new DynamoDBClient({ region }),
    s3Client: new S3Client({ region }),
    prefix: '!{firehose:random-string}/',
  }),
  ConfigurationError,
  'prefix',
);
`,
  },
];

/** The program of a package without an entry above: its main entry loads and exports something. */
export function defaultProgram(packageName: string, unscopedName: string): PackagingProgram {
  return {
    packageName,
    name: unscopedName,
    source: `
import * as api from '${packageName}';

if (Object.keys(api).length === 0) throw new Error('${packageName} exports nothing');
`,
  };
}
