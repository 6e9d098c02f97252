// The `shardline` operator CLI: `shardline status`, `shardline reset` and `shardline skip` for one
// application's lease table; `shardline consumers list|deregister` for a stream's registered (enhanced
// fan-out) consumers.
import { Command, InvalidArgumentError, Option } from 'commander';
import {
  compareExtendedSequenceNumbers,
  type ExtendedSequenceNumber,
  SentinelCheckpoint,
} from '../checkpoint/ExtendedSequenceNumber.js';
import { DependencyError } from '../errors.js';
import type { Lease } from '../leases/Lease.js';
import { retrievalOf } from '../leases/retrievalAttribute.js';
import { shardFailureOf } from '../leases/shardFailure.js';
import {
  MAX_STREAM_CONSUMERS,
  type StreamConsumer,
} from '../retrieval/kinesis/streamConsumerRegistration.js';
import type { AwsConnection } from './connection.js';
import { openLeaseTable } from './dynamodb/leaseTable.js';
import { openStream } from './kinesis/stream.js';
import { fanOutConsumerOf, summarizeRetrieval } from './retrievalMode.js';
import {
  formatCheckpoint,
  formatPendingDeletionSummary,
  formatStatusTable,
  shardStatusRows,
} from './shardStatus.js';
import { formatTextTable } from './textTable.js';

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

function connectionOf(
  options: Pick<CommonOptions, 'region' | 'endpointUrl' | 'kinesisEndpoint' | 'dynamodbEndpoint'>,
): AwsConnection {
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

function connectionFlags(command: Command): Command {
  return command
    .option('--region <region>', 'AWS region (default: AWS_REGION or us-east-1)')
    .option('--endpoint-url <url>', 'one endpoint for both services (the local twin)')
    .option('--kinesis-endpoint <url>', 'Kinesis endpoint (e.g. http://127.0.0.1:4567)')
    .option('--dynamodb-endpoint <url>', 'DynamoDB endpoint (e.g. http://127.0.0.1:4568)');
}

function common(command: Command): Command {
  return connectionFlags(
    command
      .requiredOption('--app <name>', 'application name (the lease table, unless --table)')
      .requiredOption('--stream <name>', 'stream name')
      .option('--table <name>', 'lease table name (default: the application name)'),
  ).addOption(
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
      'Operate a Shardline (or Java KCL) application: who holds which shard, checkpoint resets, and skipping a poison record.',
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
        // The mode of the workers at work: leases of finished shards keep the mode they ended with.
        const retrieval = summarizeRetrieval(
          after.filter((l) => l.checkpoint.sequenceNumber !== SentinelCheckpoint.ShardEnd),
        );
        write(
          options.json
            ? `${JSON.stringify(
                {
                  application: options.app,
                  stream: options.stream,
                  watchedMs: options.watchMs,
                  retrieval: { modes: retrieval.modes, unrecorded: retrieval.unrecorded },
                  shards: rows,
                },
                null,
                2,
              )}\n`
            : `${retrieval.text}\n${formatStatusTable(rows)}\n(lease liveness: counter watched for ${options.watchMs} ms)\n${formatPendingDeletionSummary(rows)}\n`,
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
  common(program.command('skip'))
    .description(
      "Move one shard's checkpoint past a poison record on purpose (and clear its halt). Refuses while the shard's lease is live.",
    )
    .requiredOption('--shard <id>', 'the shard, e.g. shardId-000000000003')
    .option(
      '--to <sequenceNumber>',
      'treat every record up to and including this one as handled (sequenceNumber or sequenceNumber/subSequenceNumber)',
    )
    .option('--next', 'skip exactly the next record after the checkpoint (a KPL sub-record when aggregated)')
    .option('--yes', 'confirm: without it, only the plan is printed')
    .action(
      async (options: CommonOptions & { shard: string; to?: string; next?: boolean; yes?: boolean }) => {
        if ((options.to === undefined) === (options.next === undefined)) {
          throw new Error('skip needs exactly one of --to <sequenceNumber> or --next');
        }
        const to = options.to === undefined ? undefined : parseSequenceNumber(options.to);
        const connection = connectionOf(options);
        const table = openLeaseTable(connection, options.table ?? options.app);
        const stream = openStream(connection, options.stream);
        try {
          const { before, after } = await watchLeases(table, options.watchMs);
          const lease = after.find((l) => l.leaseKey === options.shard);
          if (!lease) {
            write(`Refusing: the lease table has no lease ${options.shard}.\n`);
            process.exitCode = 2;
            return;
          }
          const watched = before.find((l) => l.leaseKey === options.shard);
          if (watched?.leaseCounter !== lease.leaseCounter || lease.checkpointOwner !== undefined) {
            write(
              `Refusing: ${lease.leaseKey} is held by a live worker (${lease.leaseOwner ?? lease.checkpointOwner}). ` +
                'Stop it first, or wait until its session failed and the lease was released.\n',
            );
            process.exitCode = 2;
            return;
          }
          const current = lease.checkpoint;
          if (
            !/^\d+$/.test(current.sequenceNumber) &&
            current.sequenceNumber !== SentinelCheckpoint.TrimHorizon
          ) {
            write(
              `Refusing: ${lease.leaseKey} is checkpointed at ${current.sequenceNumber}; skip moves a checkpoint ` +
                'that is a sequence number or TRIM_HORIZON (use shardline reset for the others).\n',
            );
            process.exitCode = 2;
            return;
          }
          let target: ExtendedSequenceNumber;
          if (to) {
            if (
              current.sequenceNumber !== SentinelCheckpoint.TrimHorizon &&
              compareExtendedSequenceNumbers(to, current) <= 0
            ) {
              write(
                `Refusing: ${formatCheckpoint(to)} is not after the checkpoint ${formatCheckpoint(current)} ` +
                  '(skip only moves forward; use shardline reset to go back).\n',
              );
              process.exitCode = 2;
              return;
            }
            target = to;
          } else {
            const next = await stream.nextRecordAfter(lease.leaseKey, current);
            if (!next) {
              write(
                `Nothing to skip: ${lease.leaseKey} holds no record after ${formatCheckpoint(current)}.\n`,
              );
              process.exitCode = 1;
              return;
            }
            target = { sequenceNumber: next.sequenceNumber, subSequenceNumber: next.subSequenceNumber };
            write(
              `Next record: ${formatCheckpoint(target)} (partition key ${JSON.stringify(next.partitionKey)}, ` +
                `${next.data.byteLength} bytes, arrived ${next.approximateArrivalTimestamp.toISOString()})\n`,
            );
          }
          const failure = shardFailureOf(lease);
          write(
            `${lease.leaseKey}: ${formatCheckpoint(current)} -> ${formatCheckpoint(target)}` +
              (failure.haltedAt !== undefined
                ? ` (clears the halt since ${failure.haltedAt}: ${failure.lastFailure ?? 'no error recorded'})`
                : failure.failureCount > 0
                  ? ` (clears ${failure.failureCount} recorded failures)`
                  : '') +
              '\n',
          );
          if (!options.yes) {
            write('Nothing written. Re-run with --yes to apply.\n');
            process.exitCode = 1;
            return;
          }
          // Conditional on the counter watched: a worker that took the lease meanwhile wins.
          if (!(await table.resetCheckpoint(lease, target))) {
            write(`${lease.leaseKey}: NOT moved (a worker wrote the lease meanwhile). Nothing written.\n`);
            process.exitCode = 2;
            return;
          }
          write(
            `${lease.leaseKey}: checkpoint moved to ${formatCheckpoint(target)}; the next owner resumes after it.\n`,
          );
        } finally {
          table.destroy();
          stream.destroy();
        }
      },
    );
  const consumers = program
    .command('consumers')
    .description("A stream's registered consumers (enhanced fan-out): list them, deregister one.");
  connectionFlags(consumers.command('list'))
    .description('One row per registered consumer of the stream: name, status, creation time, ARN.')
    .requiredOption('--stream <name>', 'stream name')
    .option('--json', 'print JSON instead of a table')
    .action(async (options: ConsumersOptions & { json?: boolean }) => {
      const stream = openStream(connectionOf(options), options.stream);
      try {
        const { streamArn } = await stream.describe();
        const list = await stream.listConsumers(streamArn);
        write(
          options.json
            ? `${JSON.stringify({ stream: options.stream, streamArn, consumers: list }, null, 2)}\n`
            : `${formatConsumerTable(list)}\n${list.length} of at most ${MAX_STREAM_CONSUMERS} registered consumers (each is billed per shard-hour while registered).\n`,
        );
      } finally {
        stream.destroy();
      }
    });
  connectionFlags(consumers.command('deregister'))
    .description(
      'Deregister one consumer of the stream. Prints the plan; --yes applies it. Refuses while a lease table given with --app (default: the table named like the consumer, if there is one) has live leases reading through it.',
    )
    .requiredOption('--stream <name>', 'stream name')
    .requiredOption('--consumer <name>', 'the registered consumer (its name, as `consumers list` shows it)')
    .option(
      '--app <name>',
      'an application (lease table) that may read through this consumer: checked for live leases (repeatable)',
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .addOption(
      new Option(
        '--watch-ms <ms>',
        'how long to watch lease counters to judge liveness (above the renew interval)',
      )
        .default(4_000)
        .argParser(positiveInt),
    )
    .option('--yes', 'confirm: without it, only the plan is printed')
    .action(
      async (
        options: ConsumersOptions & { consumer: string; app?: string[]; watchMs: number; yes?: boolean },
      ) => {
        const connection = connectionOf(options);
        const stream = openStream(connection, options.stream);
        try {
          const { streamArn } = await stream.describe();
          const target = (await stream.listConsumers(streamArn)).find(
            (c) => c.consumerName === options.consumer,
          );
          if (!target) {
            write(`Nothing to do: ${options.stream} has no registered consumer named ${options.consumer}.\n`);
            process.exitCode = 1;
            return;
          }
          write(
            `Consumer ${target.consumerName} (${target.status}, registered ${target.createdAt?.toISOString() ?? '?'})\n  ${target.consumerArn}\n`,
          );
          // By default the table named like the consumer: an application's consumer name defaults to
          // its application name. Another application that reads through it is only checked when named.
          const apps = options.app ?? [options.consumer];
          const isDefaultApp = options.app === undefined;
          const users: string[] = [];
          for (const app of apps) {
            const check = await checkLeaseTable(connection, app, options.consumer, options.watchMs);
            if (check.kind === 'missing') {
              write(
                `Lease table ${app}: ${isDefaultApp ? 'none (no application of that name checked)' : 'does not exist'}\n`,
              );
            } else if (check.live.length === 0) {
              write(`Lease table ${app}: no live lease reads through ${options.consumer}\n`);
            } else {
              users.push(app);
              write(
                `Lease table ${app}: live leases read through it: ${check.live.map((l) => `${l.leaseKey} by ${l.leaseOwner ?? l.checkpointOwner} (${retrievalOf(l) ?? 'mode not recorded'})`).join(', ')}\n`,
              );
            }
          }
          if (users.length > 0) {
            write(
              `Refusing: ${users.join(', ')} read${users.length === 1 ? 's' : ''} through ${options.consumer}. Stop ${users.length === 1 ? 'it' : 'them'}, or switch ${users.length === 1 ? 'it' : 'them'} to polling, first (a worker with fan-out registers the consumer again when it starts).\n`,
            );
            process.exitCode = 2;
            return;
          }
          if (isDefaultApp) {
            write(
              `Warning: only the lease table ${options.consumer} was checked; name every application that uses this consumer with --app.\n`,
            );
          }
          write(`${target.consumerName}: ${target.status} -> deregistered\n`);
          if (!options.yes) {
            write('Nothing written. Re-run with --yes to apply.\n');
            process.exitCode = 1;
            return;
          }
          await stream.deregisterConsumer(streamArn, target.consumerName);
          const gone = await waitUntilGone(stream, target, DEREGISTER_WAIT_MS);
          write(
            gone
              ? `Deregistered ${target.consumerName}.\n`
              : `Deregistering ${target.consumerName}: still DELETING after ${DEREGISTER_WAIT_MS / 1000} s; it disappears from the list when done.\n`,
          );
        } finally {
          stream.destroy();
        }
      },
    );
  return program;
}

/** Connection flags of the `consumers` commands. */
interface ConsumersOptions {
  stream: string;
  region?: string;
  endpointUrl?: string;
  kinesisEndpoint?: string;
  dynamodbEndpoint?: string;
}

/** How long `consumers deregister --yes` waits for the consumer to disappear. */
const DEREGISTER_WAIT_MS = 30_000;

async function waitUntilGone(
  stream: ReturnType<typeof openStream>,
  consumer: StreamConsumer,
  waitMs: number,
): Promise<boolean> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    if ((await stream.describeConsumer(consumer.consumerArn)) === undefined) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
}

/**
 * Watches one lease table for `watchMs`: its live leases (counter moved, or a hand-off running) that
 * read through `consumerName`, or whose mode is not recorded (a worker of a Shardline version that
 * does not record it; counted as a user to be safe).
 */
async function checkLeaseTable(
  connection: AwsConnection,
  tableName: string,
  consumerName: string,
  watchMs: number,
): Promise<{ kind: 'missing' } | { kind: 'checked'; live: Lease[] }> {
  const table = openLeaseTable(connection, tableName);
  try {
    const { before, after } = await watchLeases(table, watchMs);
    const counters = new Map(before.map((l) => [l.leaseKey, l.leaseCounter]));
    const live = after.filter((lease) => {
      const isLive =
        counters.get(lease.leaseKey) !== lease.leaseCounter || lease.checkpointOwner !== undefined;
      const mode = retrievalOf(lease);
      return isLive && (mode === undefined || fanOutConsumerOf(mode) === consumerName);
    });
    return { kind: 'checked', live };
  } catch (error) {
    if (error instanceof DependencyError && error.errorName === 'ResourceNotFoundException') {
      return { kind: 'missing' };
    }
    throw error;
  } finally {
    table.destroy();
  }
}

/** Renders consumers as an aligned text table. */
function formatConsumerTable(consumers: readonly StreamConsumer[]): string {
  const header = ['CONSUMER', 'STATUS', 'REGISTERED', 'ARN'];
  const lines = consumers.map((c) => [
    c.consumerName,
    c.status,
    c.createdAt?.toISOString() ?? '-',
    c.consumerArn,
  ]);
  return formatTextTable(header, lines).join('\n');
}

/** Parses `sequenceNumber` or `sequenceNumber/subSequenceNumber` (as `shardline status` prints them). */
function parseSequenceNumber(value: string): ExtendedSequenceNumber {
  const match = /^(\d{1,128})(?:\/(\d{1,15}))?$/.exec(value);
  if (!match) {
    throw new Error(`--to must be a sequence number (digits, optionally /subSequenceNumber), got ${value}`);
  }
  return { sequenceNumber: match[1]!, subSequenceNumber: Number(match[2] ?? 0) };
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
