import { Command, InvalidArgumentError, Option } from 'commander';
import type { LocalTwinOptions } from './config/resolveLocalTwinConfig.js';
import { LocalTwinError } from './errors.js';
import { type LocalTwin, startLocalTwin } from './startLocalTwin.js';

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65_535)
    throw new InvalidArgumentError('must be a port from 0 to 65535');
  return n;
}

function streamSpec(value: string, previous: { name: string; shards: number }[] = []) {
  const [name, shards = '1'] = value.split(':');
  const count = Number(shards);
  if (!name || !Number.isInteger(count) || count < 1) {
    throw new InvalidArgumentError(`'${value}' is not <name>[:<shards>] (e.g. events:4)`);
  }
  return [...previous, { name, shards: count }];
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

interface UpFlags {
  kinesis: 'fast' | 'faithful';
  dynamodb: boolean;
  s3: boolean;
  gateway: boolean;
  gatewayStream: { name: string; shards: number }[];
  apiKey?: string[];
  gatewayPort?: number;
  kinesisPort?: number;
  dynamodbPort?: number;
  s3Port?: number;
  dataDir?: string;
  region?: string;
  stream?: { name: string; shards: number }[];
  table?: string[];
  bucket?: string[];
  json?: boolean;
}

/** Text a user can paste into a shell to point AWS SDKs and CLIs at the stack. */
export function describeStack(stack: LocalTwin): string {
  const lines = ['Shardline local AWS twin is running:', ''];
  for (const s of stack.services) {
    lines.push(`  ${s.service.padEnd(9)} ${s.endpoint.padEnd(24)} (${s.engine}, pid ${s.pid})`);
  }
  if (stack.info.kinesisEngine === 'faithful') {
    lines.push('', '  note: kinesis-local listens on all interfaces, not only 127.0.0.1.');
  }
  if (stack.info.ingest) {
    const { url, apiKey, streamName } = stack.info.ingest;
    lines.push(
      '',
      `Ingest API (writes to stream '${streamName}'):`,
      '',
      `  curl -s ${url}/v1/events -H 'content-type: application/json' -H 'x-api-key: ${apiKey}' \\`,
      `       -d '{"records":[{"data":{"event_type":"view","product_id":"44600062"}}]}'`,
    );
  }
  lines.push('', 'Paste into another shell:', '');
  for (const [key, value] of Object.entries(stack.env)) lines.push(`  export ${key}=${value}`);
  lines.push('', 'Press Ctrl-C to stop.');
  return lines.join('\n');
}

async function up(flags: UpFlags): Promise<void> {
  const abort = new AbortController();
  let stack: LocalTwin | undefined;
  let isStopping = false;
  const stop = (code: number) => {
    if (isStopping) return;
    isStopping = true;
    abort.abort(new Error('interrupted'));
    void (stack?.stop() ?? Promise.resolve()).finally(() => process.exit(code));
  };
  process.on('SIGINT', () => stop(130));
  process.on('SIGTERM', () => stop(143));
  process.on('SIGHUP', () => stop(129));

  const options: LocalTwinOptions = {
    kinesis: flags.kinesis,
    dynamodb: flags.dynamodb,
    s3: flags.s3,
    gateway: flags.gateway && {
      streamName: flags.gatewayStream.at(-1)?.name,
      shardCount: flags.gatewayStream.at(-1)?.shards,
      apiKeys: flags.apiKey,
    },
    ports: {
      kinesis: flags.kinesisPort,
      dynamodb: flags.dynamodbPort,
      s3: flags.s3Port,
      gateway: flags.gatewayPort,
    },
    dataDir: flags.dataDir,
    region: flags.region,
    signal: abort.signal,
    onServiceExit: (exit) => {
      process.stderr.write(
        `\n${exit.service} stopped unexpectedly (${exit.signal ?? `exit code ${exit.exitCode}`}):\n${exit.outputTail}\n`,
      );
      stop(1);
    },
  };
  stack = await startLocalTwin(options);
  for (const s of flags.stream ?? []) {
    if (s.name === stack.info.ingest?.streamName) {
      process.stderr.write(
        `stream '${s.name}' is the ingest gateway's, created with it: --stream ${s.name} ignored\n`,
      );
      continue;
    }
    await stack.createStream(s.name, { shardCount: s.shards });
  }
  for (const t of flags.table ?? []) await stack.createLeaseTable(t);
  for (const b of flags.bucket ?? []) await stack.createBucket(b);

  if (flags.json) {
    process.stdout.write(`${JSON.stringify({ ...stack.info, services: stack.services, env: stack.env })}\n`);
  } else {
    process.stdout.write(`${describeStack(stack)}\n`);
  }
  // Stay in the foreground until a signal arrives.
  await new Promise<never>(() => {});
}

/** The `shardline-local` command. */
export function buildCli(): Command {
  const program = new Command('shardline-local')
    .description('The local AWS twin for Shardline: Kinesis, DynamoDB and S3 emulators on 127.0.0.1.')
    .showHelpAfterError()
    .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : 2));
  program
    .command('up')
    .description('start the services, print their endpoints and export lines, stop them on Ctrl-C')
    .addOption(
      new Option(
        '--kinesis <engine>',
        'fast (kinesalite) or faithful (kinesis-local: resharding, ChildShards)',
      )
        .choices(['fast', 'faithful'])
        .default('fast'),
    )
    .option('--no-dynamodb', 'do not start the DynamoDB emulator')
    .option('--no-s3', 'do not start the S3 emulator')
    .option('--no-gateway', 'do not start the ingest gateway')
    .option('--gateway-stream <name[:shards]>', 'stream the ingest gateway writes to', streamSpec, [
      { name: 'events', shards: 4 },
    ])
    .option(
      '--api-key <key>',
      'an API key the ingest gateway accepts (repeatable; default: a random one)',
      collect,
    )
    .option('--gateway-port <port>', 'ingest gateway port (default: a free one)', port)
    .option('--kinesis-port <port>', 'Kinesis port (default: a free one)', port)
    .option('--dynamodb-port <port>', 'DynamoDB port (default: a free one)', port)
    .option('--s3-port <port>', 'S3 port (default: a free one)', port)
    .option('--data-dir <dir>', 'keep data in this directory across restarts (default: in memory)')
    .option('--region <region>', 'region for the clients', 'us-east-1')
    .option('--stream <name[:shards]>', 'create a stream (repeatable)', streamSpec)
    .option('--table <name>', 'create a KCL-style lease table (repeatable)', collect)
    .option('--bucket <name>', 'create a bucket (repeatable)', collect)
    .option('--json', 'print the endpoints as one JSON line instead of text')
    .action((flags: UpFlags) => up(flags));
  return program;
}

export async function main(argv: readonly string[] = process.argv): Promise<void> {
  try {
    await buildCli().parseAsync([...argv]);
  } catch (error) {
    if (error instanceof LocalTwinError) {
      process.stderr.write(`shardline-local: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}
