import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeEnvelope } from '@shardline/ingest';
import { deaggregate } from '@shardline/kpl';
import { uniqueName } from '@shardline/local';
import { useLocalTwin } from '@shardline/local/vitest';
import { killAndWait } from '@shardline/test-kit';
import { describe, expect, it } from 'vitest';
import { readAll } from '../helpers/kinesis.js';
import { waitForOutput } from '../helpers/processes.js';
import { expectedIds, replayRunner, sampleFile } from '../helpers/replay.js';
import { useTempDir } from '../helpers/tempDir.js';

const local = useLocalTwin();
const { kinesis } = local;
const dir = useTempDir('producer-replay-');

const ECOMMERCE = sampleFile('ecommerce-events-2019-10-sample.csv');
const RETAIL = sampleFile('online-retail-2010-12-sample.csv');

const replay = replayRunner(local, dir, 500);

/** Replays `file` with `args` into a new stream of two shards, and expects the run to succeed. */
async function replayIntoNewStream(name: string, file: string, args: readonly string[]) {
  const stream = await local.createStream(uniqueName(name), { shardCount: 2 });
  const result = await replay([file, '--stream', stream.streamName, ...args]).done;
  expect(result.code, result.stderr).toBe(0);
  return { stream, result };
}

describe('shardline-produce replay, direct Kinesis transport', () => {
  it('replays the e-commerce sample: every row read back by eventId, 19-digit ids kept as strings', async () => {
    const { stream, result } = await replayIntoNewStream('replay-ecom', ECOMMERCE, [
      '--partition-key',
      'user_id',
      '--event-time',
      'event_time',
    ]);
    expect(result.stdout).toMatch(/replay complete/);
    expect(result.stdout).toMatch(/acknowledged {2}1000/);

    const ledger = expectedIds(ECOMMERCE, 1_000);
    const lines = readFileSync(ECOMMERCE, 'utf8').trimEnd().split('\n').slice(1); // no quoted fields in this file
    const stored = await readAll(kinesis, stream.streamName);
    expect(stored).toHaveLength(1_000);
    for (const record of stored) {
      const event = decodeEnvelope(record.data, { integers: 'string' });
      const row = ledger.get(event.eventId);
      expect(row, event.eventId).toBeDefined();
      const fields = lines[row! - 1]!.split(',');
      expect(event.data).toMatchObject({ event_time: fields[0], category_id: fields[3], user_id: fields[7] });
      expect(event.dataJson).toContain(`"category_id":"${fields[3]}"`);
      expect(record.partitionKey).toBe(fields[7]);
    }
    expect(new Set(stored.map((r) => decodeEnvelope(r.data).eventId)).size).toBe(1_000);
  });

  it('replays the online-retail sample (BOM, quoted commas), with mapping and types', async () => {
    const { stream } = await replayIntoNewStream('replay-retail', RETAIL, [
      '--aggregate',
      '--map',
      'InvoiceNo=invoice',
      '--map',
      'Description=description',
      '--map',
      'Quantity=quantity',
      '--map',
      'CustomerID=customerId',
      '--type',
      'quantity=number',
      '--partition-key',
      'InvoiceNo',
      '--event-time',
      'InvoiceDate',
      '--event-time-format',
      'dmy',
    ]);
    const ledger = expectedIds(RETAIL, 400);
    const events = (await readAll(kinesis, stream.streamName))
      .flatMap((r) => deaggregate(r.data) ?? [{ partitionKey: r.partitionKey, data: r.data }])
      .map((u) => decodeEnvelope(u.data));
    expect(events.map((e) => ledger.get(e.eventId)).sort((a, b) => a! - b!)).toEqual(
      Array.from({ length: 400 }, (_, i) => i + 1),
    );
    const first = events.find((e) => ledger.get(e.eventId) === 1)!;
    expect(first.data).toEqual({
      invoice: '536365',
      description: 'WHITE HANGING HEART T-LIGHT HOLDER',
      quantity: 6,
      customerId: '17850',
    });
    const quoted = readFileSync(RETAIL, 'utf8').match(/"([^"]*,[^"]*)"/)?.[1];
    expect(quoted).toBeDefined();
    expect(events.some((e) => (e.data as { description: string }).description === quoted)).toBe(true);
  });

  it('SIGKILL mid-file, then resume from the journal: no row missing, re-sent rows only with their own eventId', async () => {
    const stream = await local.createStream(uniqueName('replay-kill'), { shardCount: 2 });
    const journal = join(dir, 'kill.journal');
    const common = [
      ECOMMERCE,
      '--stream',
      stream.streamName,
      '--journal',
      journal,
      '--batch-records',
      '25',
      '--linger-ms',
      '5',
    ];
    // Paced so acknowledgements and journal writes interleave; the hook holds the journal at >= 250 rows.
    const first = await replay([...common, '--rate', '600'], {
      SHARDLINE_TEST_CRASH_POINT: 'before-journal-write:250',
    });
    await waitForOutput(first.child, first.output, (o) => /HOOK before-journal-write/.test(o.stderr));
    // Let more rows be acknowledged (and written to Kinesis) while the journal is held, then kill.
    await new Promise((r) => setTimeout(r, 300));
    await killAndWait(first.child);
    const killed = await first.done;
    expect(killed.signal).toBe('SIGKILL');
    const hook = /HOOK before-journal-write acked=(\d+) journaled=(\d+)/.exec(killed.stderr)!;
    expect(Number(hook[1])).toBeGreaterThanOrEqual(250);

    // What the journal held at the kill: the rows the resume may skip.
    const ledger = expectedIds(ECOMMERCE, 1_000);
    const journaled = new Set<number>();
    for (const line of readFileSync(journal, 'utf8').trim().split('\n').slice(1)) {
      for (const [from, to] of JSON.parse(line).acked as [number, number][])
        for (let r = from; r <= to; r++) journaled.add(r);
    }
    expect(journaled.size).toBe(Number(hook[2]));
    const beforeResume = (await readAll(kinesis, stream.streamName)).map(
      (r) => decodeEnvelope(r.data).eventId,
    );
    expect(beforeResume.length).toBeGreaterThan(journaled.size); // some rows were written but not journaled
    expect(beforeResume.length).toBeLessThan(1_000); // killed mid-file

    const second = await replay(common);
    const resumed = await second.done;
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toMatch(new RegExp(`skipped +${journaled.size} `));

    const ids = (await readAll(kinesis, stream.streamName)).map((r) => decodeEnvelope(r.data).eventId);
    const counts = new Map<string, number>();
    for (const id of ids) {
      expect(ledger.has(id), `unknown eventId ${id}`).toBe(true);
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    expect(counts.size).toBe(1_000); // no row missing
    for (const [id, count] of counts) {
      expect(count).toBeLessThanOrEqual(2);
      // A row is sent twice only if it was written before the kill and not journaled.
      if (count === 2) expect(journaled.has(ledger.get(id)!)).toBe(false);
    }
    const resent = [...counts.values()].filter((c) => c === 2).length;
    expect(resent).toBe(beforeResume.length - journaled.size);
  });

  it('Ctrl-C (SIGINT) sends what is buffered, writes the journal and exits 130; a rerun finishes the file', async () => {
    const stream = await local.createStream(uniqueName('replay-sigint'), { shardCount: 1 });
    const journal = join(dir, 'sigint.journal');
    const common = [RETAIL, '--stream', stream.streamName, '--journal', journal];
    const first = await replay([...common, '--rate', '200']);
    await waitForOutput(first.child, first.output, (o) => /^progress rows=[1-9]\d*\//m.test(o.stderr));
    first.child.kill('SIGINT');
    const stopped = await first.done;
    expect(stopped.code, stopped.stderr).toBe(130);
    expect(stopped.stdout).toMatch(/replay INCOMPLETE/);
    const acked = Number(/acknowledged +(\d+)/.exec(stopped.stdout)![1]);
    expect(acked).toBeGreaterThan(0);
    expect(acked).toBeLessThan(400);
    const afterStop = (await readAll(kinesis, stream.streamName)).length;
    expect(afterStop).toBe(acked); // a graceful stop leaves nothing unjournaled

    const second = await replay(common);
    const finished = await second.done;
    expect(finished.code, finished.stderr).toBe(0);
    expect(finished.stdout).toMatch(new RegExp(`skipped +${acked} `));
    const ids = (await readAll(kinesis, stream.streamName)).map((r) => decodeEnvelope(r.data).eventId);
    expect(ids).toHaveLength(400);
    expect(new Set(ids).size).toBe(400);
  });

  it('malformed rows go to the rejects file with their physical line, the run goes on and exits 1', async () => {
    const stream = await local.createStream(uniqueName('replay-rejects'), { shardCount: 1 });
    const csv = join(dir, 'bad.csv');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(csv, 'id,text\r\n1,"two\r\nlines"\r\n2,"bad"x\r\n3,ok\r\n4\r\n5,"fine, really"\r\n');
    const rejects = join(dir, 'bad.rejects.jsonl');
    const { done, deadLetters } = await replay([csv, '--stream', stream.streamName, '--rejects', rejects]);
    const result = await done;
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/replay INCOMPLETE/);
    const lines = readFileSync(rejects, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.line, l.row])).toEqual([
      [4, 2],
      [6, 4],
    ]);
    expect(existsSync(deadLetters)).toBe(false);
    const texts = (await readAll(kinesis, stream.streamName))
      .map((r) => (decodeEnvelope(r.data).data as { text: string }).text)
      .sort();
    expect(texts).toEqual(['fine, really', 'ok', 'two\r\nlines']);
  });
});
