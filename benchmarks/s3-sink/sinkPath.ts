/**
 * Offline measurement of the sink's own per-record work on the benchmark's 200,000 envelopes, without
 * the network or the lease table: each record routed (with the envelope check the default
 * `invalidRecordPolicy` makes), buffered, sealed into 5 MiB ranges, planned into objects, joined into
 * one body and hashed as the writer does (`compression` none). Alternates with a bare pass that does
 * only what the bare loop does with the bytes (join and write them), and prints µs per record of each
 * and the difference. Run:
 * `node --conditions=@shardline/source --import tsx benchmarks/s3-sink/sinkPath.ts [rounds] [event-time]`;
 * with `event-time`, records are routed by their `data.event_time` (ISO 8601) rendered in Europe/Paris
 * (event-time partitioning) instead of by arrival.
 */
import { createHash } from 'node:crypto';
import type { KinesisRecord } from '@shardline/consumer-core';
import { encodeEnvelope } from '@shardline/ingest';
import { parseKeyTemplate } from '../../packages/s3-sink/src/keys/KeyTemplate.js';
import { jsonLinesFormat } from '../../packages/s3-sink/src/objects/formats/RecordFormat.js';
import {
  joinChunks,
  type ObjectLayout,
  planObjects,
} from '../../packages/s3-sink/src/objects/planObjects.js';
import { parseEnvelopeQuery } from '../../packages/s3-sink/src/routing/EnvelopeQuery.js';
import { createRecordRouter, type RecordRoute } from '../../packages/s3-sink/src/routing/RecordRouter.js';
import { sampleEvents } from '../harness/sampleEvents.js';

const RECEIVED_AT_MS = Date.parse('2026-11-25T12:00:00.000Z');
const COUNT = 200_000;
const BUFFER_SIZE_BYTES = 5 * 2 ** 20;
const rounds = Number(process.argv[2] ?? 5);
const isEventTime = process.argv[3] === 'event-time';

const decoder = new TextDecoder();
const records: KinesisRecord[] = sampleEvents(COUNT).map((event, index) => {
  const { event_id } = JSON.parse(decoder.decode(event.data)) as { event_id: string };
  return {
    data: new Uint8Array(
      encodeEnvelope({ eventId: event_id, receivedAt: RECEIVED_AT_MS + index, dataJson: event.data }),
    ),
    partitionKey: event.partitionKey,
    explicitHashKey: undefined,
    sequenceNumber: String(10n ** 50n + BigInt(index)),
    subSequenceNumber: 0,
    approximateArrivalTimestamp: new Date(RECEIVED_AT_MS + index),
    isAggregated: false,
  };
});

const layout: ObjectLayout = {
  streamLabel: 'bench',
  prefix: parseKeyTemplate('!{timestamp:yyyy/MM/dd/HH}/', {
    path: 'prefix',
    partitionKeyNames: [],
    isErrorPrefix: false,
  }).template,
  errorPrefix: parseKeyTemplate('errors/!{firehose:error-output-type}/', {
    path: 'errorPrefix',
    partitionKeyNames: [],
    isErrorPrefix: true,
  }).template,
  extension: '',
  ...(isEventTime ? { timeZone: 'Europe/Paris' } : {}),
  contentType: 'application/x-ndjson',
  format: jsonLinesFormat(true),
};
const timeQuery = parseEnvelopeQuery('data.event_time');
if (typeof timeQuery === 'string') throw new Error(timeQuery);
const route = createRecordRouter({
  recordContent: 'envelope',
  invalidRecordPolicy: 'error-output',
  partitionQueries: new Map(),
  ...(isEventTime
    ? { eventTime: { query: timeQuery, format: 'auto', prefix: layout.prefix, timeZone: 'Europe/Paris' } }
    : {}),
});

let digest = 0;
function sinkPass(): void {
  let entries: KinesisRecord[] = [];
  let routes: RecordRoute[] = [];
  let bytes = 0;
  const seal = () => {
    const plans = planObjects(
      {
        shardId: 'shardId-000000000000',
        first: entries[0]!,
        last: entries.at(-1)!,
        records: entries,
        routes,
        inputBytes: bytes,
      },
      layout,
    );
    for (const plan of plans) {
      const body = joinChunks(plan.chunks, plan.uncompressedBytes);
      digest += createHash('sha256').update(body).digest()[0]!;
    }
    entries = [];
    routes = [];
    bytes = 0;
  };
  for (const record of records) {
    entries.push(record);
    routes.push(route(record));
    bytes += record.data.byteLength;
    if (bytes >= BUFFER_SIZE_BYTES) seal();
  }
  if (entries.length > 0) seal();
}

function barePass(): void {
  let chunks: Uint8Array[] = [];
  let bytes = 0;
  const seal = () => {
    const body = Buffer.concat(chunks);
    digest += body[0]!;
    chunks = [];
    bytes = 0;
  };
  for (const record of records) {
    chunks.push(record.data, NEWLINE);
    bytes += record.data.byteLength;
    if (bytes >= BUFFER_SIZE_BYTES) seal();
  }
  if (chunks.length > 0) seal();
}
const NEWLINE = new Uint8Array([0x0a]);

function time(pass: () => void): number {
  const start = process.cpuUsage();
  pass();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / COUNT;
}

const sink: number[] = [];
const bare: number[] = [];
for (let round = 0; round < rounds; round++) {
  sink.push(time(sinkPass));
  bare.push(time(barePass));
}
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const show = (values: number[]) =>
  `median ${median(values).toFixed(3)} [${Math.min(...values).toFixed(3)}–${Math.max(...values).toFixed(3)}]`;
console.log(`sink path µs/record ${show(sink)}`);
console.log(`bare path µs/record ${show(bare)}`);
console.log(`difference µs/record ${(median(sink) - median(bare)).toFixed(3)} (${digest % 10})`);
