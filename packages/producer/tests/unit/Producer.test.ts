import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ConfigurationError,
  createProducer,
  type DeadLetter,
  DeliveryError,
  InvalidRecordError,
  ProducerClosedError,
  type ProducerOptions,
  type SendResult,
} from '@shardline/producer';
import { seededRandom } from '@shardline/test-kit';
import { afterAll, describe, expect, it } from 'vitest';
import { FakeTransport } from '../helpers/FakeTransport.js';

const tempDirs: string[] = [];
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

function setup(options: Partial<ProducerOptions> = {}, transport = new FakeTransport()) {
  const letters: DeadLetter[] = [];
  const producer = createProducer({
    transport,
    lingerMs: 5,
    retry: { initialDelayMs: 1, maxDelayMs: 10, deadlineMs: 5_000 },
    deadLetter: (letter) => {
      letters.push(letter);
    },
    ...options,
  });
  return { producer, transport, letters };
}

function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** A transport that holds every request until `gate` is resolved, then answers it all written. */
function gatedTransport() {
  const transport = new FakeTransport();
  const gate = deferred();
  transport.script = async (records) => {
    await gate.promise;
    return FakeTransport.allOk(records);
  };
  return { transport, gate };
}

describe('configuration', () => {
  it('lists every wrong option in one ConfigurationError', () => {
    const error = (() => {
      try {
        createProducer({
          transport: new FakeTransport(),
          maxBatchRecords: 501,
          lingerMs: -1,
          maxBufferedBytes: 10,
          retry: { maxAttempts: 0, colour: 1 } as never,
          deadLetter: 42 as never,
          extra: true,
        } as never);
      } catch (e) {
        return e;
      }
    })() as ConfigurationError;
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error.problems.map((p) => p.path).sort()).toEqual(
      [
        'deadLetter',
        'extra',
        'lingerMs',
        'maxBatchRecords',
        'maxBufferedBytes',
        'retry.colour',
        'retry.maxAttempts',
      ].sort(),
    );
  });

  it('refuses a missing transport', () => {
    expect(() => createProducer({} as never)).toThrow(ConfigurationError);
  });
});

describe('batching', () => {
  it('cuts requests at maxBatchRecords and sends each record once', async () => {
    const { producer, transport } = setup({ lingerMs: 60_000 });
    const puts = Array.from({ length: 1_201 }, (_, i) => producer.put({ i }, { eventId: `e-${i}` }));
    await producer.flush();
    await Promise.all(puts);
    expect(transport.requests.map((r) => r.records.length)).toEqual([500, 500, 201]);
    expect(new Set(transport.written.map((w) => w.eventId)).size).toBe(1_201);
    await producer.close();
  });

  it('cuts requests at maxBatchBytes, counting envelope plus partition key', async () => {
    const transport = new FakeTransport({ maxRequestBytes: 50_000 });
    const { producer } = setup({ lingerMs: 60_000 }, transport);
    const payload = 'x'.repeat(9_000);
    const puts = Array.from({ length: 20 }, (_, i) =>
      producer.put({ payload }, { partitionKey: `key-${i}` }),
    );
    await producer.flush();
    await Promise.all(puts);
    for (const request of transport.requests) {
      // Independent count: bytes of each record as Kinesis counts them.
      const bytes = request.recordBytes.reduce((sum, b) => sum + b, 0);
      expect(bytes).toBeGreaterThan(40_000);
      expect(bytes).toBeLessThanOrEqual(50_000);
    }
    expect(transport.requests.map((r) => r.records.length)).toEqual([5, 5, 5, 5]);
    await producer.close();
  });

  it('refuses a record over maxRecordBytes, the partition key included, and sends nothing', async () => {
    const { producer, transport } = setup({ maxRecordBytes: 1_000 });
    const envelopeOverhead = 89; // {"eventId":"a","receivedAt":"<24>","data":""} is 62 bytes + quotes of the string
    const justFits = 'y'.repeat(1_000 - envelopeOverhead - 10);
    await expect(producer.put(justFits, { eventId: 'a', partitionKey: 'k' })).resolves.toMatchObject({
      eventId: 'a',
    });
    // The same data with a longer partition key goes over.
    await expect(
      producer.put(justFits, { eventId: 'b', partitionKey: 'k'.repeat(200) }),
    ).rejects.toBeInstanceOf(InvalidRecordError);
    expect(transport.written.map((w) => w.eventId)).toEqual(['a']);
    await producer.close();
  });

  it('rejects invalid event ids, partition keys, hash keys and data at put', async () => {
    const { producer } = setup();
    await expect(producer.put(1, { eventId: 'bad id' })).rejects.toMatchObject({ field: 'eventId' });
    await expect(producer.put(1, { partitionKey: '' })).rejects.toMatchObject({ field: 'partitionKey' });
    await expect(producer.put(1, { partitionKey: 'x'.repeat(257) })).rejects.toMatchObject({
      field: 'partitionKey',
    });
    await expect(producer.put(1, { partitionKey: '\uD800' })).rejects.toMatchObject({
      field: 'partitionKey',
    });
    await expect(producer.put(1, { explicitHashKey: String(2n ** 128n) })).rejects.toMatchObject({
      field: 'explicitHashKey',
    });
    await expect(producer.put(undefined)).rejects.toMatchObject({ field: 'data' });
    await producer.close();
  });

  it('sends a lone record after lingerMs without flush', async () => {
    const { producer, transport } = setup({ lingerMs: 20 });
    const result = await producer.put({ a: 1 });
    expect(result.sequenceNumber).toMatch(/^\d+$/);
    expect(transport.requests).toHaveLength(1);
    await producer.close();
  });

  it('keeps integers beyond 2^53 exact (bigint)', async () => {
    const { producer, transport } = setup();
    await producer.put({ categoryId: 2103807459595387724n }, { eventId: 'big' });
    expect(transport.written[0]!.data).toBe('{"categoryId":2103807459595387724}');
    await producer.close();
  });

  it('keeps at most maxConcurrentRequests requests in flight', async () => {
    const { transport, gate } = gatedTransport();
    const { producer } = setup({ maxBatchRecords: 10, maxConcurrentRequests: 2 }, transport);
    const puts = Array.from({ length: 100 }, (_, i) => producer.put(i));
    await new Promise((r) => setTimeout(r, 30));
    expect(transport.inFlight).toBe(2);
    gate.resolve();
    await Promise.all(puts);
    expect(transport.maxInFlight).toBe(2);
    await producer.close();
  });
});

describe('backpressure', () => {
  it('enqueue waits when maxBufferedRecords are buffered, and the buffer never exceeds it', async () => {
    const transport = new FakeTransport();
    let release = deferred();
    transport.script = async (records) => {
      await release.promise;
      return FakeTransport.allOk(records);
    };
    const { producer } = setup({ maxBufferedRecords: 10, maxBatchRecords: 5 }, transport);
    let peak = 0;
    let accepted = 0;
    const producing = (async () => {
      for (let i = 0; i < 100; i++) {
        await producer.enqueue({ i });
        accepted += 1;
        peak = Math.max(peak, producer.metrics.bufferedRecords);
      }
    })();
    await new Promise((r) => setTimeout(r, 50));
    expect(accepted).toBe(10); // the eleventh waits for room
    for (let round = 0; round < 100 && accepted < 100; round++) {
      release.resolve();
      release = deferred();
      await new Promise((r) => setTimeout(r, 2));
    }
    release.resolve();
    transport.script = undefined;
    await producing;
    await producer.flush();
    expect(peak).toBeLessThanOrEqual(10);
    expect(transport.written).toHaveLength(100);
    await producer.close();
  });

  it('by default buffers what fills the requests in flight plus one: (maxConcurrentRequests + 1) × maxBatchRecords', async () => {
    for (const [options, expected] of [
      [{}, 2_500],
      [{ maxConcurrentRequests: 2, maxBatchRecords: 100 }, 300],
    ] as const) {
      const { transport, gate } = gatedTransport();
      const { producer } = setup(options, transport);
      let accepted = 0;
      const producing = (async () => {
        for (let i = 0; i < expected + 5; i++) {
          await producer.enqueue({ i });
          accepted += 1;
        }
      })();
      await new Promise((r) => setTimeout(r, 50));
      expect(accepted).toBe(expected); // the next one waits for room
      expect(producer.metrics.bufferedRecords).toBe(expected);
      gate.resolve();
      await producing;
      await producer.close();
      expect(transport.written).toHaveLength(expected + 5);
    }
  });

  it('bounds buffered bytes too', async () => {
    const { transport, gate } = gatedTransport();
    const { producer } = setup({ maxBufferedBytes: 20_000, maxRecordBytes: 10_000 }, transport);
    const payload = 'z'.repeat(6_000);
    let accepted = 0;
    const producing = (async () => {
      for (let i = 0; i < 10; i++) {
        await producer.enqueue(payload);
        accepted += 1;
      }
    })();
    await new Promise((r) => setTimeout(r, 30));
    expect(accepted).toBe(3);
    expect(producer.metrics.bufferedBytes).toBeLessThanOrEqual(20_000);
    gate.resolve();
    await producing;
    await producer.close();
    expect(transport.written).toHaveLength(10);
  });
});

describe('partial failures', () => {
  it('retries only the failed records, with their original event ids', async () => {
    const transport = new FakeTransport();
    transport.script = (records, call) => ({
      outcomes: records.map((_r, i) =>
        call === 1 && (i === 1 || i === 3)
          ? FakeTransport.fail()
          : { ok: true, shardId: 's', sequenceNumber: '0' },
      ),
    });
    const { producer } = setup({ lingerMs: 60_000 }, transport);
    const puts = Array.from({ length: 5 }, (_, i) => producer.put({ i }, { eventId: `e${i}` }));
    await producer.flush();
    await Promise.all(puts);
    expect(transport.requests.map((r) => r.eventIds)).toEqual([
      ['e0', 'e1', 'e2', 'e3', 'e4'],
      ['e1', 'e3'],
    ]);
    expect(transport.written.map((w) => w.eventId).sort()).toEqual(['e0', 'e1', 'e2', 'e3', 'e4']);
    expect(producer.metrics).toMatchObject({ retries: 2, throttles: 2, recordsSent: 5 });
    await producer.close();
  });

  it('retries a whole failed request with the same event ids', async () => {
    const transport = new FakeTransport();
    transport.script = (records, call) => {
      if (call === 1) throw FakeTransport.requestError();
      return FakeTransport.allOk(records);
    };
    const { producer } = setup({}, transport);
    const ids = await Promise.all([producer.put(1, { eventId: 'x1' }), producer.put(2, { eventId: 'x2' })]);
    expect(ids.map((r) => r.eventId)).toEqual(['x1', 'x2']);
    expect(transport.requests[0]!.eventIds).toEqual(transport.requests[1]!.eventIds);
    expect(producer.metrics.requestsFailed).toBe(1);
    await producer.close();
  });

  it('waits at least Retry-After before sending again', async () => {
    const transport = new FakeTransport();
    const times: number[] = [];
    transport.script = (records, call): SendResult => {
      times.push(Date.now());
      if (call === 1) return { outcomes: records.map(() => FakeTransport.fail()), retryAfterMs: 200 };
      return FakeTransport.allOk(records);
    };
    const { producer } = setup({}, transport);
    await producer.put('a');
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(195);
    await producer.close();
  });

  it('backs off exponentially with jitter and gives up at maxAttempts into the dead-letter sink', async () => {
    const seed = Date.now() % 100_000;
    console.log(`backoff seed ${seed}`);
    const transport = new FakeTransport();
    const times: number[] = [];
    transport.script = (records) => {
      times.push(Date.now());
      return { outcomes: records.map(() => FakeTransport.fail('InternalFailure')) };
    };
    const retries: number[] = [];
    const { producer, letters } = setup(
      {
        retry: { initialDelayMs: 20, maxDelayMs: 80, deadlineMs: 60_000, maxAttempts: 5 },
        random: seededRandom(seed),
      },
      transport,
    );
    producer.on('retry', (e) => retries.push(e.delayMs));
    const error = await producer.put('a', { eventId: 'doomed' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeliveryError);
    expect(error).toMatchObject({
      eventId: 'doomed',
      attempts: 5,
      code: 'InternalFailure',
      isDeadLettered: true,
    });
    expect(transport.requests).toHaveLength(5);
    // 50–100 % of 20, 40, 80, 80 ms
    const ceilings = [20, 40, 80, 80];
    retries.forEach((delay, i) => {
      expect(delay).toBeGreaterThanOrEqual(ceilings[i]! / 2);
      expect(delay).toBeLessThanOrEqual(ceilings[i]!);
    });
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({
      eventId: 'doomed',
      errorCode: 'InternalFailure',
      attempts: 5,
      dataJson: '"a"',
    });
    await producer.close();
  });

  it('gives up at the retry deadline', async () => {
    const transport = new FakeTransport();
    transport.script = (records) => ({ outcomes: records.map(() => FakeTransport.fail()) });
    const { producer, letters } = setup(
      { retry: { initialDelayMs: 40, maxDelayMs: 40, deadlineMs: 100, maxAttempts: 1_000 } },
      transport,
    );
    const started = Date.now();
    await expect(producer.put('a')).rejects.toBeInstanceOf(DeliveryError);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(letters[0]!.errorMessage).toMatch(/deadline/);
    expect(transport.requests.length).toBeGreaterThanOrEqual(2);
    await producer.close();
  });

  it('dead-letters a non-retriable failure at once', async () => {
    const transport = new FakeTransport();
    transport.script = () => {
      throw FakeTransport.requestError(false, 'ResourceNotFoundException');
    };
    const { producer, letters } = setup({}, transport);
    await expect(producer.put({ a: 1 })).rejects.toMatchObject({
      code: 'ResourceNotFoundException',
      attempts: 1,
    });
    expect(letters).toHaveLength(1);
    await producer.close();
  });

  it('writes dead letters to a JSONL file by default path option, data exact', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'producer-dl-'));
    tempDirs.push(dir);
    const path = join(dir, 'nested', 'dead.jsonl');
    const transport = new FakeTransport();
    transport.script = (records) => ({
      outcomes: records.map(() => FakeTransport.fail('KMSAccessDeniedException', false)),
    });
    const producer = createProducer({ transport, lingerMs: 1, deadLetter: { path } });
    await expect(
      producer.put({ id: 12345678901234567890n, s: 'é' }, { eventId: 'dl-1', partitionKey: 'pk' }),
    ).rejects.toBeInstanceOf(DeliveryError);
    await producer.close();
    const lines = readFileSync(path, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('"data":{"id":12345678901234567890,"s":"é"}');
    expect(JSON.parse(lines[0]!)).toMatchObject({
      eventId: 'dl-1',
      partitionKey: 'pk',
      errorCode: 'KMSAccessDeniedException',
      attempts: 1,
    });
  });

  it('reports a record as lost only when the dead-letter sink fails too', async () => {
    const transport = new FakeTransport();
    transport.script = (records) => ({ outcomes: records.map(() => FakeTransport.fail('X', false)) });
    const producer = createProducer({
      transport,
      lingerMs: 1,
      deadLetter: () => {
        throw new Error('disk full');
      },
    });
    await expect(producer.put(1, { eventId: 'lost-1' })).rejects.toMatchObject({ isDeadLettered: false });
    const report = await producer.close();
    expect(report.lost.map((l) => l.eventId)).toEqual(['lost-1']);
  });
});

describe('ordering', () => {
  it('ordered: true keeps per-key order across random failures (seeded)', async () => {
    const seed = (Date.now() % 1_000_000) + 1;
    console.log(`ordering seed ${seed}`);
    const random = seededRandom(seed);
    const transport = new FakeTransport();
    transport.script = async (records) => {
      await new Promise((r) => setTimeout(r, random() * 3));
      return {
        outcomes: records.map(() =>
          random() < 0.3 ? FakeTransport.fail() : { ok: true, shardId: 's', sequenceNumber: '0' },
        ),
      };
    };
    const { producer } = setup(
      {
        ordered: true,
        maxConcurrentRequests: 4,
        maxBatchRecords: 20,
        retry: { initialDelayMs: 1, maxDelayMs: 5 },
      },
      transport,
    );
    const keys = ['a', 'b', 'c', 'd', 'e'];
    const puts = Array.from({ length: 300 }, (_, i) =>
      producer.put({ i }, { partitionKey: keys[i % keys.length]!, eventId: `o-${i}` }),
    );
    await Promise.all(puts);
    for (const key of keys) {
      const order = transport.written
        .filter((w) => w.partitionKey === key)
        .map((w) => Number(w.eventId.slice(2)));
      expect(order, `key ${key} (seed ${seed})`).toEqual([...order].sort((x, y) => x - y));
      expect(order).toHaveLength(60);
    }
    // One record per key per request, and no request holds a key another request in flight holds.
    for (const request of transport.requests) {
      const requestKeys = request.records.map((r) => r.partitionKey);
      expect(new Set(requestKeys).size).toBe(requestKeys.length);
    }
    await producer.close();
  });

  it('without ordered, the same failures can reorder a key (the check above can fail)', async () => {
    const transport = new FakeTransport();
    transport.script = (records, call) => ({
      outcomes: records.map((_r, i) =>
        call === 1 && i === 0 ? FakeTransport.fail() : { ok: true, shardId: 's', sequenceNumber: '0' },
      ),
    });
    const { producer } = setup({ lingerMs: 60_000 }, transport);
    const puts = [
      producer.put(0, { partitionKey: 'k', eventId: 'u0' }),
      producer.put(1, { partitionKey: 'k', eventId: 'u1' }),
    ];
    await producer.flush();
    await Promise.all(puts);
    expect(transport.written.map((w) => w.eventId)).toEqual(['u1', 'u0']);
    await producer.close();
  });
});

describe('flush, close, events', () => {
  it('close flushes what is buffered, then refuses puts', async () => {
    const { producer, transport } = setup({ lingerMs: 60_000 });
    const puts = Array.from({ length: 7 }, (_, i) => producer.put(i));
    const report = await producer.close();
    await Promise.all(puts);
    expect(transport.written).toHaveLength(7);
    expect(report).toMatchObject({ recordsSent: 7, deadLettered: 0, abandonedAtClose: 0, lost: [] });
    await expect(producer.put(8)).rejects.toBeInstanceOf(ProducerClosedError);
    expect(producer.close()).toBe(producer.close());
  });

  it('close dead-letters what it could not send before closeTimeoutMs, and says so', async () => {
    const transport = new FakeTransport();
    transport.script = (records) => ({ outcomes: records.map(() => FakeTransport.fail()) }); // throttled forever
    const { producer, letters } = setup(
      {
        closeTimeoutMs: 100,
        retry: { initialDelayMs: 30, maxDelayMs: 30, deadlineMs: 60_000, maxAttempts: 1_000 },
      },
      transport,
    );
    const puts = Array.from({ length: 4 }, (_, i) =>
      producer.put(i, { eventId: `c${i}` }).catch((e: unknown) => e),
    );
    const report = await producer.close();
    const outcomes = await Promise.all(puts);
    expect(outcomes.every((o) => o instanceof DeliveryError)).toBe(true);
    expect(letters.map((l) => l.eventId).sort()).toEqual(['c0', 'c1', 'c2', 'c3']);
    expect(report.deadLettered).toBe(4);
    expect(report.recordsSent).toBe(0);
  });

  it('close() rejects the puts waiting for room with ProducerClosedError, and sends the buffered ones', async () => {
    const { transport, gate } = gatedTransport();
    const { producer } = setup({ maxBufferedRecords: 2 }, transport);
    const accepted = [producer.put('a'), producer.put('b')];
    const waiting = producer.put('c');
    const closing = producer.close();
    await expect(waiting).rejects.toBeInstanceOf(ProducerClosedError);
    gate.resolve();
    await Promise.all(accepted);
    expect((await closing).recordsSent).toBe(2);
  });

  it('close() aborts a request still in flight at closeTimeoutMs; its records are dead-lettered as ProducerClosed', async () => {
    const transport = new FakeTransport();
    let sawAbort = false;
    transport.send = (records, signal) =>
      new Promise((_resolve, reject) => {
        transport.requests.push({
          records,
          eventIds: records.map((r) => r.eventId),
          recordBytes: records.map((r) => transport.requestBytes(r)),
        });
        signal.addEventListener('abort', () => {
          sawAbort = true;
          reject(signal.reason);
        });
      });
    const { producer, letters } = setup({ closeTimeoutMs: 50 }, transport);
    const puts = [
      producer.put(1, { eventId: 'h1' }).catch((e: unknown) => e),
      producer.put(2, { eventId: 'h2' }).catch((e: unknown) => e),
    ];
    await new Promise((r) => setTimeout(r, 20)); // the request is in flight
    const report = await producer.close();
    expect(sawAbort).toBe(true);
    expect((await Promise.all(puts)).map((e) => (e as DeliveryError).code)).toEqual([
      'ProducerClosed',
      'ProducerClosed',
    ]);
    expect(letters.map((l) => l.eventId).sort()).toEqual(['h1', 'h2']);
    expect(report).toMatchObject({ recordsSent: 0, deadLettered: 2, lost: [] });
    expect(producer.state).toBe('closed');
  });

  it('a later close() with a shorter timeoutMs brings the first one forward (never back)', async () => {
    const transport = new FakeTransport();
    transport.send = (_records, signal) =>
      new Promise((_resolve, reject) => {
        signal.addEventListener('abort', () => reject(signal.reason));
      });
    const { producer, letters } = setup({ closeTimeoutMs: 60_000 }, transport);
    const put = producer.put(1, { eventId: 'slow' }).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 20)); // in flight
    const started = Date.now();
    const first = producer.close();
    const second = producer.close({ timeoutMs: 50 });
    expect(second).toBe(first);
    producer.close({ timeoutMs: 30_000 }); // later, longer: ignored
    await first;
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(((await put) as DeliveryError).code).toBe('ProducerClosed');
    expect(letters.map((l) => l.eventId)).toEqual(['slow']);
  });

  it('emits batch and retry events with fill and latency', async () => {
    const transport = new FakeTransport();
    transport.script = (records, call) => ({
      outcomes: records.map((_r, i) =>
        call === 1 && i === 0 ? FakeTransport.fail() : { ok: true, shardId: 's', sequenceNumber: '0' },
      ),
    });
    const { producer } = setup({ lingerMs: 60_000, maxBatchRecords: 4 }, transport);
    const batches: {
      records: number;
      recordFill: number;
      failed: number;
      throttled: number;
      latencyMs: number;
    }[] = [];
    const retries: string[] = [];
    producer.on('batch', (b) => batches.push(b));
    producer.on('retry', (r) => retries.push(r.eventId));
    await Promise.all([
      producer.put(1, { eventId: 'm1' }),
      producer.put(2, { eventId: 'm2' }),
      producer.flush(),
    ]);
    expect(batches[0]).toMatchObject({ records: 2, recordFill: 0.5, failed: 1, throttled: 1 });
    expect(batches[0]!.latencyMs).toBeGreaterThanOrEqual(0);
    expect(retries).toEqual(['m1']);
    await producer.close();
  });
});

describe('enqueue result', () => {
  /** Collects unhandled rejections while `body` runs, plus two turns of the event loop after it. */
  async function unhandledDuring(body: () => Promise<void>): Promise<unknown[]> {
    const seen: unknown[] = [];
    const onUnhandled = (reason: unknown) => seen.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      await body();
      await new Promise((resolve) => setImmediate(resolve));
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    return seen;
  }

  it('read before the write: resolves with the written position; the same promise on every read', async () => {
    const { producer, transport } = setup();
    const enqueued = await producer.enqueue({ a: 1 }, { eventId: 'r1' });
    const result = enqueued.result;
    expect(enqueued.result).toBe(result);
    await producer.flush();
    await expect(result).resolves.toEqual({
      eventId: 'r1',
      shardId: 'shardId-000000000000',
      sequenceNumber: '1',
    });
    expect(transport.written.map((w) => w.eventId)).toEqual(['r1']);
    await producer.close();
  });

  it('read only after the write: resolves with the same position', async () => {
    const { producer } = setup();
    const enqueued = await producer.enqueue({ a: 1 }, { eventId: 'r2' });
    await producer.flush();
    expect(producer.metrics.recordsSent).toBe(1);
    const result = enqueued.result;
    expect(enqueued.result).toBe(result);
    await expect(result).resolves.toEqual({
      eventId: 'r2',
      shardId: 'shardId-000000000000',
      sequenceNumber: '1',
    });
    await producer.close();
  });

  it('a dead-lettered record rejects with DeliveryError whether result was read before, after or never, and no rejection is reported as unhandled', async () => {
    const transport = new FakeTransport();
    transport.script = (records) => ({
      outcomes: records.map(() => FakeTransport.fail('InvalidArgumentException', false)),
    });
    const { producer, letters } = setup({}, transport);
    let before: Promise<unknown> | undefined;
    let after: Promise<unknown> | undefined;
    let dropped: Promise<unknown> | undefined;
    const unhandled = await unhandledDuring(async () => {
      const readBefore = await producer.enqueue(1, { eventId: 'before' });
      before = readBefore.result;
      const readAfter = await producer.enqueue(2, { eventId: 'after' });
      const neverRead = await producer.enqueue(3, { eventId: 'never' });
      const readAndDropped = await producer.enqueue(4, { eventId: 'dropped' });
      void readAndDropped.result; // read, never handled: still not an unhandled rejection
      await producer.flush();
      after = readAfter.result;
      void neverRead;
      dropped = readAndDropped.result;
    });
    expect(unhandled).toEqual([]);
    expect(letters.map((l) => l.eventId)).toEqual(['before', 'after', 'never', 'dropped']);
    for (const [promise, eventId] of [
      [before, 'before'],
      [after, 'after'],
      [dropped, 'dropped'],
    ] as const) {
      const error = await promise!.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(DeliveryError);
      expect((error as DeliveryError).eventId).toBe(eventId);
    }
    await producer.close();
  });

  it('put resolves and rejects through the same result', async () => {
    const transport = new FakeTransport();
    transport.script = (records) => ({
      outcomes: records.map((r) =>
        r.eventId === 'bad'
          ? FakeTransport.fail('InvalidArgumentException', false)
          : { ok: true, shardId: 's', sequenceNumber: '0' },
      ),
    });
    const { producer } = setup({}, transport);
    const [good, bad] = await Promise.allSettled([
      producer.put(1, { eventId: 'good' }),
      producer.put(2, { eventId: 'bad' }),
    ]);
    expect(good).toMatchObject({ status: 'fulfilled', value: { eventId: 'good', shardId: 's' } });
    expect(bad).toMatchObject({ status: 'rejected' });
    expect((bad as PromiseRejectedResult).reason).toBeInstanceOf(DeliveryError);
    await producer.close();
  });

  it('the transport receives each record with its fields as TransportRecord describes them', async () => {
    const { producer, transport } = setup();
    let data: string | undefined;
    transport.script = (records) => {
      const record = records[0]!;
      data = Buffer.from(record.envelope).toString('utf8', record.dataOffset, record.envelope.byteLength - 1);
      return FakeTransport.allOk(records);
    };
    await producer.enqueue({ x: 'é' }, { eventId: 't1', partitionKey: 'k1', explicitHashKey: '7' });
    await producer.flush();
    const record = transport.requests[0]!.records[0]!;
    expect(record).toMatchObject({ eventId: 't1', partitionKey: 'k1', explicitHashKey: '7' });
    expect(data).toBe('{"x":"é"}');
    // Once the record is finished its bytes are released: holding handles keeps no envelope alive.
    expect(record.envelope.byteLength).toBe(0);
    await producer.close();
  });
});
