import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { ListObjectsV2Command, UploadPartCommand } from '@aws-sdk/client-s3';
import { dynamoDBClientConfig, uniqueName } from '@shardline/local';
import { useLocalTwin } from '@shardline/local/vitest';
import { seededRandom, testSeed } from '@shardline/test-kit';
import { afterAll, describe, expect, it } from 'vitest';
import {
  checkExactlyOnce,
  defaultKeyPattern,
  incompleteUploads,
  putEvents,
  readObjects,
  until,
} from '../helpers/archive.js';
import { kill, stopGracefully, targetArgs, useSinkProcesses, waitFor } from '../helpers/processes.js';

const local = useLocalTwin();
const { kinesis, s3 } = local;
const spawnSink = useSinkProcesses();

const MIB = 1024 * 1024;
// Objects over 10 MiB, so multipart really happens: 11 MiB buffers, 5 MiB parts (fauxqs takes single
// requests up to 11 MiB only).
const SINK_FLAGS = [
  '--buffer-size-bytes',
  String(11 * MIB),
  '--upload-part-size-bytes',
  String(5 * MIB),
  '--buffer-interval-ms',
  '1500',
  // Renewals get a deadline of a fraction of this: with 3 s, a loaded machine (six sinks and their
  // streams side by side) lost leases to slow DynamoDB answers and never reached the crash points.
  '--failover-time-ms',
  '10000',
  '--idle-time-between-reads-ms',
  '100',
  '--shutdown-timeout-ms',
  '10000',
];
const RECORDS = 1700; // ~8 KiB each: ~13.5 MiB, one multipart object and the rest
const seed = testSeed('s3-sink crash');
// Six sink processes, six streams of ~13.5 MiB and their restarts run side by side on a loaded 2-core
// machine: one case took ~55 s under load, against vitest's 60 s default. Each wait below has its own
// bound (what it waits for is named when it fails); the test's bound is their sum plus the checks.
const WAIT_MS = 90_000;
const TEST_TIMEOUT_MS = 4 * WAIT_MS;

/** Sums the record counts of the manifests (cheap to poll; the final check reads the objects). */
async function manifestRecordCount(bucket: string): Promise<number> {
  const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'manifests/' }));
  let total = 0;
  const { GetObjectCommand } = await import('@aws-sdk/client-s3');
  for (const o of page.Contents ?? []) {
    const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: o.Key! }));
    total += (JSON.parse(await out.Body!.transformToString()) as { recordCount: number }).recordCount;
  }
  return total;
}

/** Whether a multipart upload still takes parts (UploadPart answers NoSuchUpload once it is aborted). */
async function isUploadOpen(bucket: string, key: string, uploadId: string): Promise<boolean> {
  try {
    await s3.send(
      new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumber: 9, Body: 'x' }),
    );
    return true;
  } catch (error) {
    if ((error as Error).name === 'NoSuchUpload') return false;
    throw error;
  }
}

const points = [
  { point: 'range-sealed', at: 1, redo: false, lostCheckpoint: false },
  { point: 'pending-written', at: 1, redo: true, lostCheckpoint: false },
  { point: 'mid-multipart', at: 1, redo: true, lostCheckpoint: false },
  { point: 'objects-written', at: 1, redo: true, lostCheckpoint: false },
  { point: 'checkpointed', at: 1, redo: false, lostCheckpoint: false },
  // The second range is prepared, and the checkpoint after the first is rolled back, as if its write
  // had been lost: the first range's records are in S3 already and must not be written again.
  { point: 'pending-written', at: 2, redo: true, lostCheckpoint: true },
] as const;
// Each crash point for both record formats: Parquet objects are read back by DuckDB (readObjects).
const cases = (['json', 'parquet'] as const).flatMap((format) => points.map((p) => ({ ...p, format })));
/** The Parquet schema of the records below, and the flags that select it. */
const PARQUET_SCHEMA = [
  { name: 'i', type: 'integer', nullable: false },
  { name: 'event_type', type: 'string' },
  { name: 'pad', type: 'string' },
];
const schemaDir = mkdtempSync(join(tmpdir(), 'crash-schema-'));
const schemaFile = join(schemaDir, 'schema.json');
writeFileSync(schemaFile, JSON.stringify(PARQUET_SCHEMA));
afterAll(() => rmSync(schemaDir, { recursive: true, force: true }));
const FORMAT_FLAGS = {
  json: [],
  // Row groups of 200 records (~1.6 MiB): the encoder yields to lease renewals between them.
  parquet: [
    '--format',
    'parquet',
    '--schema',
    schemaFile,
    '--schema-version',
    'v1',
    '--parquet-row-group-size',
    '200',
  ],
} as const;
const EXTENSIONS = { json: '', parquet: '.v1.parquet' } as const;
const PAD_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Sets a lease's checkpoint back to TRIM_HORIZON (the pending fields stay). */
async function rollBackCheckpoint(table: string): Promise<void> {
  const ddb = new DynamoDBClient(dynamoDBClientConfig(local.info));
  try {
    await ddb.send(
      new UpdateItemCommand({
        TableName: table,
        Key: { leaseKey: { S: 'shardId-000000000000' } },
        UpdateExpression: 'SET #c = :th',
        ConditionExpression: 'attribute_exists(pendingCheckpoint)',
        ExpressionAttributeNames: { '#c': 'checkpoint' },
        ExpressionAttributeValues: { ':th': { S: 'TRIM_HORIZON' } },
      }),
    );
  } finally {
    ddb.destroy();
  }
}

describe('s3-sink crash recovery (SIGKILL of a separate sink process)', () => {
  // Each point has its own stream, bucket and application: they run side by side (the processes mostly wait).
  it.concurrent.each(cases)(
    '$format $point:$at (lost checkpoint: $lostCheckpoint): after a restart S3 holds every record exactly once, no multipart upload left',
    async ({ point, at, redo, lostCheckpoint, format }) => {
      const startedMs = Date.now();
      const phases: string[] = [];
      const phase = (name: string) =>
        phases.push(`${name} ${((Date.now() - startedMs) / 1000).toFixed(1)} s`);
      const stream = await local.createStream(uniqueName(`crash-${point}`), { shardCount: 1 });
      const bucket = uniqueName('crash');
      await local.createBucket(bucket);
      const app = uniqueName('crash-app');
      // Some random-looking padding (seeded) so that sizes vary from run to run.
      const random = seededRandom(seed);
      const padBytes = () => 7_500 + Math.floor(random() * 1_000);
      // Parquet compresses its pages: its padding must not compress, for objects over 10 MiB.
      const pad = (n: number) =>
        format === 'json'
          ? 'p'.repeat(n)
          : Array.from({ length: n }, () => PAD_ALPHABET[Math.floor(random() * 64)]).join('');
      const written = await putEvents(kinesis, stream.streamName, RECORDS, {
        data: (i) => ({ i, event_type: 'view', pad: pad(padBytes()) }),
      });
      const args = [...targetArgs(stream.streamName, bucket, app), ...SINK_FLAGS, ...FORMAT_FLAGS[format]];
      phase('records written');

      const first = spawnSink(local.info, args, { testHook: `${point}:${at}` });
      await waitFor(first, (o) => o.stderr.includes(`HOOK ${point}`), `crash point ${point}`, WAIT_MS);
      // mid-multipart: the first part is in S3 and the upload is open; the crash leaves it incomplete.
      const hooked = /HOOK mid-multipart (\S+) (\S+) part/.exec(first.output().stderr);
      phase('crash point reached');
      await kill(first);
      if (lostCheckpoint) await rollBackCheckpoint(app);
      if (point === 'mid-multipart') {
        expect(hooked).not.toBeNull();
        expect(await isUploadOpen(bucket, hooked![1]!, hooked![2]!)).toBe(true);
      }

      const second = spawnSink(local.info, args);
      await until(
        async () => (await manifestRecordCount(bucket)) >= RECORDS,
        WAIT_MS,
        'every record archived',
      );
      phase('all archived after the restart');
      // Let a duplicate, if the sink made one, land before checking.
      await new Promise((r) => setTimeout(r, 500));
      expect((await stopGracefully(second)).code).toBe(0);

      phase('stopped');
      // Where the time goes (the waits have their own bounds): printed for the slow runs to be read.
      console.log(`s3-sink crash ${format} ${point}:${at}: ${phases.join(', ')}`);
      const objects = await readObjects(s3, bucket);
      const keyPattern = defaultKeyPattern(stream.streamName, EXTENSIONS[format]);
      expect(checkExactlyOnce(objects, written, keyPattern)).toEqual([]);
      if (format === 'parquet') {
        // DuckDB read the rows: each with its own values.
        const rows = objects.flatMap((o) => o.rows ?? []);
        expect(rows).toHaveLength(RECORDS);
        expect(rows.filter((r) => r.i !== BigInt(String(r.eventId).slice(3)))).toEqual([]);
      }
      // fauxqs has no ListMultipartUploads (it answers an empty list): probe the known upload as well.
      expect(await incompleteUploads(s3, bucket)).toEqual([]);
      if (hooked) expect(await isUploadOpen(bucket, hooked[1]!, hooked[2]!)).toBe(false);
      const dataObjects = objects.filter((o) => !o.key.startsWith('manifests/'));
      expect(dataObjects.some((o) => o.body.length > 10 * MIB)).toBe(true);
      const events = second.events();
      const redone = events.filter((e) => e.type === 'RANGE_SEALED' && e.reason === 'redo');
      // On a failure, what else the restarted sink went through (a lease lost on a loaded machine
      // abandons the range and redoes it once more: counted here, not excused).
      const detours = events
        .filter((e) => e.type === 'RANGE_ABANDONED' || e.type === 'SHARD_FAILED' || e.type === 'ERROR')
        .map((e) => JSON.stringify(e, (_k, v: unknown) => (v instanceof Error ? v.message : v)));
      expect(redone.length, `redo ranges sealed; other events: ${detours.join(' | ') || 'none'}`).toBe(
        redo ? 1 : 0,
      );
      expect(events.some((e) => e.type === 'RECORDS_ALREADY_ARCHIVED')).toBe(lostCheckpoint);
      if (point === 'mid-multipart') {
        expect(events.some((e) => e.type === 'MULTIPART_UPLOAD_ABORTED' && e.reason === 'takeover')).toBe(
          true,
        );
      }
    },
    TEST_TIMEOUT_MS,
  );
});
