import { readFileSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { join } from 'node:path';
import { decodeEnvelope } from '@shardline/ingest';
import { uniqueName } from '@shardline/local';
import { useLocalTwin } from '@shardline/local/vitest';
import { startFaultProxy } from '@shardline/test-kit';
import { describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/cli/cli.js';
import { readAll } from '../helpers/kinesis.js';
import { waitForOutput } from '../helpers/processes.js';
import { expectedIds, replayRunner, sampleFile } from '../helpers/replay.js';
import { useTempDir } from '../helpers/tempDir.js';

// shardline-produce replay as a separate process against kinesalite, with the faults a user meets:
// SIGTERM, a journal that cannot be written, bad bytes and over-long lines, a wrong destination, and a
// destination that stops answering mid-run. Every outcome is checked against the stream (the ledger),
// never the CLI's own summary alone.

const local = useLocalTwin();
const { kinesis } = local;
const dir = useTempDir('producer-replay-faults-');

const RETAIL = sampleFile('online-retail-2010-12-sample.csv');
const RETAIL_ROWS = 400;

async function storedIds(streamName: string): Promise<string[]> {
  return (await readAll(kinesis, streamName)).map((r) => decodeEnvelope(r.data).eventId);
}

/** A port nothing listens on (taken, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const replay = replayRunner(local, dir, 300);

describe('shardline-produce replay: fault paths', () => {
  it('SIGTERM sends what is buffered, writes the journal and exits 143; a rerun finishes the file', async () => {
    const stream = await local.createStream(uniqueName('replay-sigterm'), { shardCount: 1 });
    const journal = join(dir, 'sigterm.journal');
    const common = [RETAIL, '--stream', stream.streamName, '--journal', journal];
    const first = replay([...common, '--rate', '200']);
    await waitForOutput(first.child, first.output, (o) => /^progress rows=[1-9]\d*\//m.test(o.stderr));
    first.child.kill('SIGTERM');
    const stopped = await first.done;
    expect(stopped.code, stopped.stderr).toBe(ExitCode.Terminated);
    expect(stopped.stderr).toMatch(/SIGTERM: stopping/);
    const acked = Number(/acknowledged +(\d+)/.exec(stopped.stdout)![1]);
    expect(acked).toBeGreaterThan(0);
    expect(acked).toBeLessThan(RETAIL_ROWS);
    // A graceful stop leaves nothing written that the journal does not hold.
    expect(await storedIds(stream.streamName)).toHaveLength(acked);

    const finished = await replay(common).done;
    expect(finished.code, finished.stderr).toBe(ExitCode.Ok);
    expect(finished.stdout).toMatch(new RegExp(`skipped +${acked} `));
    const ids = await storedIds(stream.streamName);
    expect(new Set(ids)).toEqual(new Set(expectedIds(RETAIL, RETAIL_ROWS).keys()));
    expect(ids).toHaveLength(RETAIL_ROWS);
  });

  it('a journal write that fails stops the run with exit 4 and the cause; a rerun loses no row', async () => {
    const stream = await local.createStream(uniqueName('replay-journal-fails'), { shardCount: 1 });
    const journal = join(dir, 'fails.journal');
    const common = [RETAIL, '--stream', stream.streamName, '--journal', journal];
    const first = await replay([...common, '--rate', '400'], {
      SHARDLINE_TEST_CRASH_POINT: 'journal-write-fails:100',
    }).done;
    expect(first.stderr).toMatch(/HOOK journal-write-fails acked=\d+/); // the fault point was reached
    expect(first.code, first.stderr).toBe(ExitCode.JournalFailed);
    expect(first.stderr).toMatch(/stopped: cannot write the journal .*fails\.journal: EIO/);
    expect(first.stderr).not.toMatch(/UnhandledPromiseRejection|\n\s+at /);

    const second = await replay(common).done;
    expect(second.code, second.stderr).toBe(ExitCode.Ok);
    const ids = await storedIds(stream.streamName);
    expect(new Set(ids)).toEqual(new Set(expectedIds(RETAIL, RETAIL_ROWS).keys())); // no row missing
  });

  it('rows with invalid UTF-8 or over the record limit go to the rejects file with their line; the rest is sent', async () => {
    const stream = await local.createStream(uniqueName('replay-bytes'), { shardCount: 1 });
    const csv = join(dir, 'bytes.csv');
    writeFileSync(
      csv,
      Buffer.concat([
        Buffer.from('id,text\n1,first\n2,"caf'),
        Buffer.from([0xe9]), // Latin-1 é: not UTF-8
        Buffer.from('"\n3,third\n4,'),
        Buffer.from('x'.repeat(3_000)),
        Buffer.from('\n5,fifth é\n'),
      ]),
    );
    const rejects = join(dir, 'bytes.rejects.jsonl');
    const result = await replay([
      csv,
      '--stream',
      stream.streamName,
      '--rejects',
      rejects,
      '--max-record-bytes',
      '1000',
    ]).done;
    expect(result.code, result.stderr).toBe(ExitCode.Incomplete);
    const lines = readFileSync(rejects, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { line: number; row: number; reason: string; raw: string });
    expect(lines.map((l) => [l.line, l.row, l.reason])).toEqual([
      [3, 2, 'is not valid UTF-8 (byte 7 of the record)'],
      [5, 4, 'the line is longer than the limit of 1000 bytes'],
    ]);
    const texts = (await readAll(kinesis, stream.streamName))
      .map((r) => (decodeEnvelope(r.data).data as { text: string }).text)
      .sort();
    expect(texts).toEqual(['fifth é', 'first', 'third']);
  });

  it('a wrong --url (connection refused) exits 3 at once, naming the cause; nothing is sent', async () => {
    const port = await closedPort();
    const started = Date.now();
    const result = await replay([RETAIL, '--url', `http://127.0.0.1:${port}`, '--api-key', 'k']).done;
    expect(result.code, result.stderr).toBe(ExitCode.DestinationUnavailable);
    expect(result.stderr).toContain(
      `cannot reach the ingest API at http://127.0.0.1:${port}/v1/events: connection refused (127.0.0.1:${port}); nothing was sent`,
    );
    expect(result.stdout).toBe(''); // stopped before reading any row
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it('a missing stream exits 3, naming it; nothing is sent', async () => {
    const result = await replay([RETAIL, '--stream', uniqueName('no-such-stream')]).done;
    expect(result.code, result.stderr).toBe(ExitCode.DestinationUnavailable);
    expect(result.stderr).toMatch(/the stream no-such-stream-\S+ does not exist; nothing was sent/);
  });

  it.each([
    ['reset', /retrying: connection reset/],
    ['black-hole', /retrying: no answer within 1000 ms/],
  ] as const)(
    'Kinesis %s: progress names the cause, the run stops with exit 5; a rerun loses no row',
    async (mode, cause) => {
      const stream = await local.createStream(uniqueName(`replay-${mode}`), { shardCount: 1 });
      const proxy = await startFaultProxy(local.info.endpoints.kinesis!, { mode });
      try {
        const journal = join(dir, `${mode}.journal`);
        const common = [RETAIL, '--stream', stream.streamName, '--journal', journal];
        const started = Date.now();
        // --no-check: the start-up check would stop it at once (next test); this is the run that meets
        // the fault mid-way, when every request fails.
        const stopped = await replay([
          ...common,
          ...['--endpoint-url', proxy.endpoint, '--no-check'],
          ...['--request-timeout-ms', '1000', '--max-failing-ms', '4000'],
        ]).done;
        const elapsedMs = Date.now() - started;
        expect(proxy.connections[mode]).toBeGreaterThan(0); // the fault was reached
        expect(stopped.stderr).toMatch(cause);
        expect(stopped.code, stopped.stderr).toBe(ExitCode.DestinationFailing);
        expect(stopped.stderr).toMatch(
          /stopped: every request failed for \d+ s: (connection reset|no answer within 1000 ms)/,
        );
        // The bound (4 s) plus the stop's 10 s for what is buffered, plus the process's start.
        expect(elapsedMs).toBeLessThan(30_000);
        expect(await storedIds(stream.streamName)).toEqual([]);

        const second = await replay(common).done; // straight to kinesalite
        expect(second.code, second.stderr).toBe(ExitCode.Ok);
        const ids = await storedIds(stream.streamName);
        expect(new Set(ids)).toEqual(new Set(expectedIds(RETAIL, RETAIL_ROWS).keys())); // no row missing
      } finally {
        await proxy.close();
      }
    },
  );

  it('a Kinesis endpoint that never answers fails the start-up check within its deadline (exit 3)', async () => {
    const proxy = await startFaultProxy(local.info.endpoints.kinesis!, { mode: 'black-hole' });
    try {
      const result = await replay([
        RETAIL,
        ...['--stream', 'events', '--endpoint-url', proxy.endpoint, '--request-timeout-ms', '1000'],
      ]).done;
      expect(proxy.connections['black-hole']).toBeGreaterThan(0);
      expect(result.code, result.stderr).toBe(ExitCode.DestinationUnavailable);
      expect(result.stderr).toMatch(/cannot reach Kinesis: no answer within 1000 ms; nothing was sent/);
    } finally {
      await proxy.close();
    }
  });
});
