import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type LocalTwinInfo, uniqueName } from '@shardline/local';
import { until } from '@shardline/test-kit';
import { afterAll, expect, it } from 'vitest';
import { compareExtendedSequenceNumbers, DynamoDBLeaseStore } from '../../src/index.js';
import { makeRecords, putRecords, useTwins } from '../helpers/localTwin.js';
import { kinesisFor, RETRIEVAL_MODES, withKinesisOf } from '../helpers/retrievalModes.js';

const { local, faithful, dynamodb } = useTwins();
const children: ChildProcess[] = [];
const dir = mkdtempSync(join(tmpdir(), 'shardline-crash-'));
const workerScript = join(import.meta.dirname, '../helpers/crashWorker.ts');

afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

function startWorker(
  info: LocalTwinInfo,
  spec: Record<string, unknown>,
): {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
} {
  const child = spawn(process.execPath, ['--conditions=@shardline/source', '--import', 'tsx', workerScript], {
    env: { ...process.env, SHARDLINE_TEST: JSON.stringify({ info, ...spec }) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

function ledger(path: string): { shardId: string; sequenceNumber: string; body: string }[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [shardId, sequenceNumber, body] = line.split(' ') as [string, string, string];
      return { shardId, sequenceNumber, body };
    });
}

it.each(RETRIEVAL_MODES)(
  'at-least-once (%s): a worker killed mid-batch is replaced, every record is processed, duplicates only after the last checkpoint',
  async (retrieval) => {
    const twin = kinesisFor(retrieval, local, faithful);
    const info = withKinesisOf(local.info, twin);
    const streamName = uniqueName('crash');
    const applicationName = uniqueName('crash-app');
    await twin.createStream(streamName, { shardCount: 2 });
    const written = await putRecords(twin.kinesis, streamName, makeRecords(600));
    const ledgerPath = join(dir, `${applicationName}.ledger`);

    const crashing = startWorker(info, {
      streamName,
      applicationName,
      ledgerPath,
      crashAfterRecords: 250,
      retrieval,
    });
    await crashing.exited;
    expect(crashing.output()).toContain('CRASH_POINT mid-batch'); // the named point was reached
    expect(crashing.child.signalCode).toBe('SIGKILL');
    const beforeRestart = ledger(ledgerPath);
    expect(beforeRestart).toHaveLength(250);
    // Its batch never finished, so it cannot have been checkpointed: it must be processed again.
    const crashRecord = beforeRestart.at(-1)!.body;

    // The durable checkpoints at the moment of the crash: anything processed twice must lie after them.
    const store = new DynamoDBLeaseStore({ client: dynamodb, tableName: applicationName });
    const checkpoints = new Map((await store.listLeases()).map((l) => [l.leaseKey, l.checkpoint]));

    const survivor = startWorker(info, { streamName, applicationName, ledgerPath, retrieval });
    await until(
      () => new Set(ledger(ledgerPath).map((l) => l.body)).size >= written.length,
      45_000,
      'the survivor to finish',
    );
    survivor.child.kill('SIGTERM');
    await survivor.exited;
    expect(survivor.output()).toContain('STOPPED');

    const lines = ledger(ledgerPath);
    expect(new Set(lines.map((l) => l.body))).toEqual(new Set(written.map((r) => r.body)));
    const counts = new Map<string, number>();
    for (const line of lines) counts.set(line.body, (counts.get(line.body) ?? 0) + 1);
    const duplicates = lines.filter((l) => counts.get(l.body)! > 1);
    for (const duplicate of duplicates) {
      const checkpoint = checkpoints.get(duplicate.shardId)!;
      const position = { sequenceNumber: duplicate.sequenceNumber, subSequenceNumber: 0 };
      expect(
        compareExtendedSequenceNumbers(position, checkpoint),
        `${duplicate.body} re-delivered at or before the checkpoint`,
      ).toBeGreaterThan(0);
    }
    expect(counts.get(crashRecord)).toBe(2);
    // No record is processed more than twice (one crash), and the survivor released its leases.
    expect(Math.max(...counts.values())).toBeLessThanOrEqual(2);
    expect((await store.listLeases()).every((l) => l.leaseOwner === undefined)).toBe(true);
  },
  90_000,
);
