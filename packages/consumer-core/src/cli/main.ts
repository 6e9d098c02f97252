// The `shardline` operator CLI: `shardline status` and `shardline reset` for one application's lease table.
import { Command, InvalidArgumentError, Option } from 'commander';
import type { ExtendedSequenceNumber } from '../checkpoint/ExtendedSequenceNumber.js';
import type { AwsConnection } from './connection.js';
import { openLeaseTable } from './dynamodb/leaseTable.js';
import { openStream } from './kinesis/stream.js';
import {
  formatCheckpoint,
  formatPendingDeletionSummary,
  formatStatusTable,
  shardStatusRows,
} from './shardStatus.js';

interface CommonOptions {
  app: string;
  table?: string;
  stream: string;
  region?: string;
  endpointUrl?: string;
  kinesisEndpoint?: string;
  dynamodbEndpoint?: string;
  watchMs: number;
}

const positiveInt = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('must be a positive integer');
  return n;
};

function connectionOf(options: CommonOptions): AwsConnection {
  const kinesisEndpoint = options.kinesisEndpoint ?? options.endpointUrl;
  const dynamoDBEndpoint = options.dynamodbEndpoint ?? options.endpointUrl;
  const isLocal = kinesisEndpoint !== undefined || dynamoDBEndpoint !== undefined;
  const hasCredentials = process.env.AWS_ACCESS_KEY_ID !== undefined || process.env.AWS_PROFILE !== undefined;
  return {
    region: options.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
    kinesisEndpoint,
    dynamoDBEndpoint,
    // The local twin accepts any key: spare its users the credential chain.
    credentials:
      isLocal && !hasCredentials
        ? { accessKeyId: 'shardline-local', secretAccessKey: 'shardline-local-secret' }
        : undefined,
  };
}

function common(command: Command): Command {
  return command
    .requiredOption('--app <name>', 'application name (the lease table, unless --table)')
    .requiredOption('--stream <name>', 'stream name')
    .option('--table <name>', 'lease table name (default: the application name)')
    .option('--region <region>', 'AWS region (default: AWS_REGION or us-east-1)')
    .option('--endpoint-url <url>', 'one endpoint for both services (the local twin)')
    .option('--kinesis-endpoint <url>', 'Kinesis endpoint (e.g. http://127.0.0.1:4567)')
    .option('--dynamodb-endpoint <url>', 'DynamoDB endpoint (e.g. http://127.0.0.1:4568)')
    .addOption(
      new Option(
        '--watch-ms <ms>',
        'how long to watch lease counters to judge liveness (above the renew interval)',
      )
        .default(4_000)
        .argParser(positiveInt),
    );
}

async function watchLeases(table: ReturnType<typeof openLeaseTable>, watchMs: number) {
  const before = await table.listLeases();
  await new Promise((resolve) => setTimeout(resolve, watchMs));
  const after = await table.listLeases();
  return { before, after };
}

/** Builds the program (exported for tests). `write` receives stdout text. */
export function buildProgram(write: (text: string) => void = (t) => process.stdout.write(t)): Command {
  const program = new Command('shardline')
    .description(
      'Operate a Shardline (or Java KCL) application: who holds which shard, and checkpoint resets.',
    )
    .exitOverride()
    .configureOutput({ writeOut: write });

  common(program.command('status'))
    .description('One row per shard: owner, lease liveness, checkpoint, lag, parent/child state.')
    .option('--json', 'print JSON instead of a table')
    .option('--no-lag', 'skip the lag lookup (one GetRecords per shard)')
    .action(async (options: CommonOptions & { json?: boolean; lag: boolean }) => {
      const connection = connectionOf(options);
      const table = openLeaseTable(connection, options.table ?? options.app);
      const stream = openStream(connection, options.stream);
      try {
        const [{ before, after }, shards] = await Promise.all([
          watchLeases(table, options.watchMs),
          stream.listShards(),
        ]);
        const lags = new Map<string, number | undefined>();
        if (options.lag) {
          for (const lease of after) {
            if (shards.some((s) => s.shardId === lease.leaseKey)) {
              lags.set(lease.leaseKey, await stream.lagMs(lease.leaseKey, lease.checkpoint));
            }
          }
        }
        const rows = shardStatusRows(before, after, shards, lags);
        write(
          options.json
            ? `${JSON.stringify({ application: options.app, stream: options.stream, watchedMs: options.watchMs, shards: rows }, null, 2)}\n`
            : `${formatStatusTable(rows)}\n(lease liveness: counter watched for ${options.watchMs} ms)\n${formatPendingDeletionSummary(rows)}\n`,
        );
      } finally {
        table.destroy();
        stream.destroy();
      }
    });

  common(program.command('reset'))
    .description(
      'Move every checkpoint to TRIM_HORIZON, LATEST or a point in time, and bind the leases to the stream as it is now (ARN and creation time). Refuses while workers hold live leases.',
    )
    .requiredOption('--to <position>', 'TRIM_HORIZON | LATEST | an ISO 8601 timestamp')
    .option('--yes', 'confirm: without it, only the plan is printed')
    .action(async (options: CommonOptions & { to: string; yes?: boolean }) => {
      const target = parseTarget(options.to);
      const connection = connectionOf(options);
      const table = openLeaseTable(connection, options.table ?? options.app);
      const stream = openStream(connection, options.stream);
      try {
        const { before, after } = await watchLeases(table, options.watchMs);
        const counters = new Map(before.map((l) => [l.leaseKey, l.leaseCounter]));
        const live = after.filter(
          (lease) =>
            counters.get(lease.leaseKey) !== lease.leaseCounter || lease.checkpointOwner !== undefined,
        );
        if (live.length > 0) {
          write(
            `Refusing: workers hold live leases (${live.map((l) => `${l.leaseKey} by ${l.leaseOwner}`).join(', ')}). Stop the application first.\n`,
          );
          process.exitCode = 2;
          return;
        }
        const leases = after;
        const plan: { lease: (typeof leases)[number]; checkpoint: ExtendedSequenceNumber }[] = [];
        for (const lease of leases) {
          const checkpoint: ExtendedSequenceNumber =
            target === 'TRIM_HORIZON' || target === 'LATEST'
              ? { sequenceNumber: target, subSequenceNumber: 0 }
              : await stream.checkpointBefore(lease.leaseKey, target);
          plan.push({ lease, checkpoint });
        }
        for (const { lease, checkpoint } of plan) {
          write(
            `${lease.leaseKey}: ${formatCheckpoint(lease.checkpoint)} -> ${formatCheckpoint(checkpoint)}\n`,
          );
        }
        if (!options.yes) {
          write('Nothing written. Re-run with --yes to apply.\n');
          process.exitCode = 1;
          return;
        }
        let failed = 0;
        // The reset leases belong to this stream from now on (the stream identity guard's stamp): a
        // table of a deleted and recreated stream is reused deliberately.
        const identity = await stream.describe();
        for (const { lease, checkpoint } of plan) {
          if (!(await table.resetCheckpoint(lease, checkpoint))) {
            failed += 1;
            write(`${lease.leaseKey}: NOT reset (a worker wrote it meanwhile)\n`);
          } else await table.stampStreamIdentity(lease.leaseKey, identity);
        }
        write(
          failed === 0
            ? `Reset ${plan.length} leases.\n`
            : `Reset ${plan.length - failed} of ${plan.length} leases.\n`,
        );
        if (failed > 0) process.exitCode = 2;
      } finally {
        table.destroy();
        stream.destroy();
      }
    });
  return program;
}

function parseTarget(value: string): 'TRIM_HORIZON' | 'LATEST' | Date {
  if (value === 'TRIM_HORIZON' || value === 'LATEST') return value;
  const at = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(value) || Number.isNaN(at.getTime())) {
    throw new InvalidArgumentError(
      `--to must be TRIM_HORIZON, LATEST or an ISO 8601 timestamp, got ${value}`,
    );
  }
  return at;
}

/** Runs the CLI with `argv` (as `process.argv`). */
export async function main(argv: readonly string[]): Promise<void> {
  try {
    await buildProgram().parseAsync([...argv]);
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'commander.helpDisplayed' || code === 'commander.version') return;
    if (typeof code === 'string' && code.startsWith('commander.')) {
      process.exitCode = 1;
      return;
    }
    process.stderr.write(`shardline: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  }
}
