import type { KinesisRecord } from '@shardline/consumer-core';
import { encodeEnvelope } from '@shardline/ingest';
import { parseKeyTemplate } from '../../src/keys/KeyTemplate.js';
import { createParquetFormat } from '../../src/objects/formats/ParquetFormat.js';
import { parseParquetSchema } from '../../src/objects/formats/parquetSchema.js';
import type { ObjectLayout, SealedRange } from '../../src/objects/planObjects.js';
import { createRecordRouter } from '../../src/routing/RecordRouter.js';

export const T0 = Date.UTC(2026, 10, 25, 15, 0, 0);

/** The schema of {@link sampleRecords}. */
export const SAMPLE_COLUMNS = [
  { name: 'user', type: 'string', nullable: false },
  { name: 'amount', type: 'integer' },
  { name: 'price', type: 'number' },
  { name: 'paid', type: 'boolean' },
  { name: 'at', type: 'timestamp' },
  { name: 'extra', type: 'json' },
] as const;

/**
 * `count` envelopes; every 5th has no `user` (does not fit: required column). `dataJson` is written as
 * text so that integers beyond 2^53 are exact.
 */
export function sampleRecords(count: number): KinesisRecord[] {
  return Array.from({ length: count }, (_, i) => {
    const user = i % 5 === 4 ? '' : `"user":"u-${i % 3}",`;
    const amount = i % 2 === 0 ? `${9007199254740993n + BigInt(i)}` : `${-i}`;
    const dataJson = `{${user}"amount":${amount},"price":${i}.5,"paid":${i % 2 === 0},"at":"2026-11-25T15:00:${String(i % 60).padStart(2, '0')}.123Z","extra":{"n":${12345678901234567890n + BigInt(i)},"s":"x"}}`;
    return {
      data: encodeEnvelope({ eventId: `ev-${i}`, receivedAt: new Date(T0 + i), dataJson }),
      partitionKey: `pk-${i}`,
      explicitHashKey: undefined,
      sequenceNumber: String(10n ** 20n + BigInt(i) * 10n),
      subSequenceNumber: 0,
      approximateArrivalTimestamp: new Date(T0 + i),
      isAggregated: false,
    };
  });
}

/** A Parquet layout with the sample schema. */
export function parquetLayout(options: { rowGroupSize?: number; schemaVersion?: string } = {}): ObjectLayout {
  const { schema } = parseParquetSchema(SAMPLE_COLUMNS, options.schemaVersion, 'parquet.schema');
  return {
    streamLabel: 'orders',
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
    contentType: 'application/x-ndjson',
    format: createParquetFormat({
      schema: schema!,
      compression: 'snappy',
      rowGroupSize: options.rowGroupSize,
    }),
  };
}

/** A sealed range of `records`, routed as the sink does by default. */
export function sampleRange(records: KinesisRecord[]): SealedRange {
  const route = createRecordRouter({
    recordContent: 'envelope',
    invalidRecordPolicy: 'error-output',
    partitionQueries: new Map(),
  });
  return {
    shardId: 'shardId-000000000000',
    first: records[0]!,
    last: records.at(-1)!,
    records,
    routes: records.map(route),
    inputBytes: records.reduce((n, r) => n + r.data.byteLength, 0),
  };
}
