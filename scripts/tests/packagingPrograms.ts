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

export const PACKAGING_PROGRAMS: readonly PackagingProgram[] = [
  {
    packageName: '@shardline/consumer-core',
    name: 'consumer-core',
    source: `
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { ConfigurationError, resolveConsumerConfig } from '@shardline/consumer-core';

const clients = { kinesisClient: new KinesisClient({ region: 'eu-west-1' }), dynamoDBClient: new DynamoDBClient({ region: 'eu-west-1' }) };
const config = resolveConsumerConfig({ streamName: 'events', applicationName: 'app', ...clients });
if (config.streamName !== 'events') throw new Error('the resolved config lost the stream name');
try {
  resolveConsumerConfig({ streamName: 'events', applicationName: 'app', ...clients, failoverTimeMs: -1 });
  throw new Error('a negative failoverTimeMs was accepted');
} catch (error) {
  if (!(error instanceof ConfigurationError)) throw error;
  if (!error.problems.some((p) => p.path === 'failoverTimeMs')) throw new Error(error.message);
}
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

try {
  resolveLocalTwinConfig({ shardLimit: 0 });
  throw new Error('shardLimit 0 was accepted');
} catch (error) {
  if (!(error instanceof ConfigurationError)) throw error;
  if (!error.problems.some((p) => p.path === 'shardLimit')) throw new Error(error.message);
}
`,
  },
  {
    packageName: '@shardline/producer',
    name: 'producer',
    source: `
import { ConfigurationError, httpTransport, resolveProducerConfig } from '@shardline/producer';

const transport = httpTransport({ url: 'http://127.0.0.1:1/events', apiKey: 'key' });
try {
  resolveProducerConfig({ transport, lingerMs: -5 });
  throw new Error('a negative lingerMs was accepted');
} catch (error) {
  if (!(error instanceof ConfigurationError)) throw error;
  if (!error.problems.some((p) => p.path === 'lingerMs')) throw new Error(error.message);
}
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

const region = 'eu-west-1';
try {
  createS3Sink({
    streamName: 'events',
    bucket: 'archive',
    applicationName: 'archive',
    kinesisClient: new KinesisClient({ region }),
    dynamoDBClient: new DynamoDBClient({ region }),
    s3Client: new S3Client({ region }),
    prefix: '!{firehose:random-string}/',
  });
  throw new Error('a random-string prefix was accepted');
} catch (error) {
  if (!(error instanceof ConfigurationError)) throw error;
  if (!error.problems.some((p) => p.path === 'prefix')) throw new Error(error.message);
}
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
