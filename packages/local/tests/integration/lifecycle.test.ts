import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  PutRecordCommand,
} from '@aws-sdk/client-kinesis';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import {
  ConfigurationError,
  type LocalService,
  PortInUseError,
  ServiceStartError,
  startLocalTwin,
} from '@shardline/local';
import { killAndWait } from '@shardline/test-kit';
import { afterAll, describe, expect, it } from 'vitest';
import { isAlive, spawnTs, waitForExit, waitForLine } from '../helpers/processes.js';

const ownerScript = fileURLToPath(new URL('../helpers/owner.ts', import.meta.url));
const mainScript = fileURLToPath(new URL('../../src/main.ts', import.meta.url));
const tempDirs: string[] = [];
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'shardline-local-'));
  tempDirs.push(dir);
  return dir;
}

describe('owner death', () => {
  it.each(['fast', 'faithful'])('SIGKILL of the owner ends every %s service within 5 s', async (engine) => {
    const owner = spawnTs(ownerScript, [engine]);
    try {
      const line = await waitForLine(owner, /^OWNER /);
      const { services } = JSON.parse(line.slice('OWNER '.length)) as { services: LocalService[] };
      const pids = services.map((s) => s.pid!);
      expect(pids).toHaveLength(3);
      expect(pids.every(isAlive)).toBe(true);

      await killAndWait(owner, 'SIGKILL');
      const startedWaiting = Date.now();
      const survivors = await waitForExit(pids, 5_000);
      expect(survivors, `still running after ${Date.now() - startedWaiting} ms`).toEqual([]);
    } finally {
      await killAndWait(owner);
    }
  });

  it('Ctrl-C (SIGINT) of `shardline-local up` stops every service and exits', async () => {
    const cli = spawnTs(mainScript, ['up', '--stream', 'orders:2', '--bucket', 'archive']);
    try {
      const printed = await waitForLine(cli, /Press Ctrl-C to stop/, 20_000, true);
      expect(printed).toMatch(/^ {2}export AWS_ENDPOINT_URL_KINESIS=http:\/\/127\.0\.0\.1:\d+$/m);
      expect(printed).toMatch(/^ {2}export AWS_ENDPOINT_URL_S3=http:\/\/127\.0\.0\.1:\d+$/m);
      expect(printed).toMatch(/^ {2}export SHARDLINE_INGEST_URL=http:\/\/127\.0\.0\.1:\d+$/m);
      expect(printed).toMatch(/^ {2}curl -s http:\/\/127\.0\.0\.1:\d+\/v1\/events /m);
      const pids = childPids(cli.pid!).filter((pid) =>
        readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('watchdog.cjs'),
      );
      expect(pids.length).toBe(4); // kinesis, dynamodb, s3 and the ingest gateway
      const exit = new Promise<number | null>((resolve) => cli.once('exit', (code) => resolve(code)));
      cli.kill('SIGINT');
      expect(await exit).toBe(130);
      expect(await waitForExit(pids, 5_000)).toEqual([]);
    } finally {
      await killAndWait(cli);
    }
  });
});

describe('clear errors', () => {
  it('lists every wrong option in one ConfigurationError', async () => {
    const error = await startLocalTwin({
      kinesis: 'slow' as never,
      ports: { kinesis: 70_000, dynamodb: -1 },
      startTimeoutMs: 5,
      colour: 'blue',
    } as never).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigurationError);
    const paths = (error as ConfigurationError).problems.map((p) => p.path).sort();
    expect(paths).toEqual(['colour', 'kinesis', 'ports.dynamodb', 'ports.kinesis', 'startTimeoutMs']);
  });

  it('a port in use gives PortInUseError naming the service and port', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const error = await startLocalTwin({ kinesis: false, s3: false, ports: { dynamodb: port } }).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(PortInUseError);
      expect((error as PortInUseError).port).toBe(port);
      expect((error as PortInUseError).service).toContain('dynamodb');
    } finally {
      blocker.close();
    }
  });

  it('a service that dies at start gives its exit code and last output, and nothing is left running', async () => {
    const dataDir = tempDir();
    const first = await startLocalTwin({ dataDir, s3: false });
    try {
      // The same data directory twice: the second kinesalite cannot take its LevelDB lock and exits.
      const error = await startLocalTwin({ dataDir, s3: false }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ServiceStartError);
      const failure = error as ServiceStartError;
      expect(failure.exitCode).toBe(1);
      expect(failure.outputTail).toMatch(/LOCK/);
      expect(failure.message).toContain(failure.outputTail.split('\n').at(-1)!.trim());
    } finally {
      await first.stop();
    }
    const pids = first.services.map((s) => s.pid!);
    expect(pids.filter(isAlive)).toEqual([]);
  });
});

describe('lifecycle', () => {
  it('stop() is safe to call twice and ends every process', async () => {
    const stack = await startLocalTwin();
    const pids = stack.services.map((s) => s.pid!);
    await Promise.all([stack.stop(), stack.stop()]);
    await stack.stop();
    expect(stack.state).toBe('stopped');
    expect(pids.filter(isAlive)).toEqual([]);
  });

  it('keeps streams, tables and objects in a data directory across restarts', async () => {
    const dataDir = tempDir();
    const first = await startLocalTwin({ dataDir });
    let sequenceNumber: string | undefined;
    try {
      await first.createStream('kept', { shardCount: 1 });
      const put = await first.kinesis.send(
        new PutRecordCommand({
          StreamName: 'kept',
          PartitionKey: 'k',
          Data: new TextEncoder().encode('survives'),
        }),
      );
      sequenceNumber = put.SequenceNumber;
      await first.createLeaseTable('kept-leases');
      await first.dynamodb.send(
        new PutItemCommand({
          TableName: 'kept-leases',
          Item: { leaseKey: { S: 'shardId-0' }, leaseCounter: { N: '7' } },
        }),
      );
      await first.createBucket('kept-bucket');
      await first.s3.send(
        new PutObjectCommand({ Bucket: 'kept-bucket', Key: '2026/11/25/a.json', Body: 'hello' }),
      );
    } finally {
      await first.stop();
    }

    const second = await startLocalTwin({ dataDir });
    try {
      const summary = await second.kinesis.send(new DescribeStreamSummaryCommand({ StreamName: 'kept' }));
      expect(summary.StreamDescriptionSummary?.StreamStatus).toBe('ACTIVE');
      const { ShardIterator } = await second.kinesis.send(
        new GetShardIteratorCommand({
          StreamName: 'kept',
          ShardId: 'shardId-000000000000',
          ShardIteratorType: 'TRIM_HORIZON',
        }),
      );
      const { Records } = await second.kinesis.send(new GetRecordsCommand({ ShardIterator }));
      expect(Records?.map((r) => [r.SequenceNumber, new TextDecoder().decode(r.Data)])).toEqual([
        [sequenceNumber, 'survives'],
      ]);

      const { Item } = await second.dynamodb.send(
        new GetItemCommand({ TableName: 'kept-leases', Key: { leaseKey: { S: 'shardId-0' } } }),
      );
      expect(Item?.leaseCounter).toEqual({ N: '7' });

      const object = await second.s3.send(
        new GetObjectCommand({ Bucket: 'kept-bucket', Key: '2026/11/25/a.json' }),
      );
      expect(await object.Body?.transformToString()).toBe('hello');
    } finally {
      await second.stop();
    }
  });
});

function childPids(parent: number): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
    .filter((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === parent;
      } catch {
        return false;
      }
    });
}
