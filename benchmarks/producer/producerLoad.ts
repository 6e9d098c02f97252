/**
 * Contender process of `pnpm bench producer`: `@shardline/producer` with its default options, fed the
 * sample events as objects by one `await producer.enqueue(...)` loop (the way an application or the
 * replay CLI feeds it), over the direct Kinesis transport or the HTTP transport to an ingest gateway.
 * Measured from the first `enqueue` to the end of `flush()` (every record acknowledged).
 */
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { kinesisClientConfig, type LocalTwinInfo } from '@shardline/local';
import { createProducer, httpTransport, kinesisTransport, type Transport } from '@shardline/producer';
import { countRequests, runContender, warmConnection } from '../harness/index.js';
import { appEvents, loadFigures } from './events.js';

/** Input of this contender. */
export interface ProducerLoadInput {
  readonly info: LocalTwinInfo;
  readonly streamName: string;
  readonly shardIds: readonly string[];
  readonly records: number;
  /** `kinesis`: direct PutRecords; `http`: POST /v1/events to the gateway at `url`. */
  readonly transport: 'kinesis' | 'http';
  readonly url?: string;
  readonly apiKey?: string;
  /** The producer's `maxBufferedRecords`, when not its default. */
  readonly maxBufferedRecords?: number;
}

runContender<ProducerLoadInput>(async (input, probe) => {
  const kinesis = new KinesisClient(kinesisClientConfig(input.info));
  const kinesisRequests = countRequests(kinesis);
  // The HTTP transport's requests, counted and checked at the client: an independent ledger.
  let httpRequests = 0;
  const httpStatuses = new Map<number, number>();
  const countingFetch: typeof fetch = async (url, init) => {
    httpRequests += 1;
    const response = await fetch(url, init);
    httpStatuses.set(response.status, (httpStatuses.get(response.status) ?? 0) + 1);
    return response;
  };
  let transport: Transport;
  if (input.transport === 'kinesis') {
    transport = kinesisTransport({ client: kinesis, streamName: input.streamName });
    // Warm the connection and the SDK's code paths outside the measured span, as the bare loop does.
    await warmConnection(kinesis, input.streamName, input.shardIds[0]);
  } else {
    if (input.url === undefined || input.apiKey === undefined) throw new Error('http needs url and apiKey');
    transport = httpTransport({ url: input.url, apiKey: input.apiKey, fetch: countingFetch });
    // A CORS preflight needs no key and writes nothing: it warms fetch's connection pool.
    await fetch(`${input.url}/v1/events`, { method: 'OPTIONS' });
  }
  const deadLetters: string[] = [];
  const producer = createProducer({
    transport,
    ...(input.maxBufferedRecords === undefined ? {} : { maxBufferedRecords: input.maxBufferedRecords }),
    deadLetter: (letter) => {
      deadLetters.push(`${letter.eventId}: ${letter.errorCode} ${letter.errorMessage}`);
    },
  });
  let batches = 0;
  let batchRecords = 0;
  producer.on('batch', (b) => {
    batches += 1;
    batchRecords += b.records;
  });
  const events = appEvents(input.records);

  let acked = 0;
  let failed = 0;
  const onAck = () => {
    acked += 1;
  };
  const onFail = () => {
    failed += 1;
  };
  probe.mark('start');
  probe.emit('start');
  for (const event of events) {
    const { result } = await producer.enqueue(event.data, {
      eventId: event.eventId,
      partitionKey: event.partitionKey,
    });
    result.then(onAck, onFail);
  }
  await producer.flush();
  probe.mark('end');
  probe.emit('end');
  const metrics = producer.metrics;
  const report = await producer.close();
  kinesis.destroy();
  // Every result callback has run once the producer's own promises settled; check our ledger.
  await new Promise((resolve) => setImmediate(resolve));
  if (acked !== input.records || failed !== 0 || deadLetters.length > 0 || report.lost.length > 0) {
    throw new Error(
      `acknowledged ${acked} of ${input.records} events, ${failed} failed; dead letters: ${deadLetters.slice(0, 3).join('; ')}`,
    );
  }
  const requests = input.transport === 'kinesis' ? kinesisRequests.count('PutRecords') : httpRequests;
  if (requests !== metrics.requests) {
    throw new Error(`counted ${requests} requests at the client, the producer says ${metrics.requests}`);
  }
  const non200 = [...httpStatuses].filter(([status]) => status !== 200);
  return {
    ...loadFigures(probe.between('start', 'end'), input.records, requests),
    records_per_request: batchRecords / batches,
    retries: metrics.retries,
    non_200_answers: non200.reduce((sum, [, n]) => sum + n, 0),
  };
});
