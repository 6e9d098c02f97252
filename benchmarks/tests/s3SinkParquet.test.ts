import type { KinesisRecord } from '@shardline/consumer-core';
import { encodeEnvelope } from '@shardline/ingest';
import { describe, expect, it } from 'vitest';
import { createParquetFormat } from '../../packages/s3-sink/src/objects/formats/ParquetFormat.js';
import { parseParquetSchema } from '../../packages/s3-sink/src/objects/formats/parquetSchema.js';
import { sampleEvents } from '../harness/sampleEvents.js';
import { encodeParquet } from '../s3-sink/bareParquet.js';
import { BENCH_PARQUET_COLUMNS, BENCH_PARQUET_SCHEMA_VERSION } from '../s3-sink/shared.js';
import s3Sink from '../s3-sink.js';

describe('pnpm bench s3-sink: the Parquet pair', () => {
  it('declares parquet_records_per_s and parquet_cpu_us_per_record, the sink against the bare loop', () => {
    const figures = s3Sink.figures.filter((f) => f.name.startsWith('parquet_'));
    expect(figures.map((f) => [f.name, f.from, f.baseline])).toEqual([
      ['parquet_records_per_s', 'sink-parquet', 'bare-loop-parquet'],
      ['parquet_cpu_us_per_record', 'sink-parquet', 'bare-loop-parquet'],
    ]);
  });

  it("the bare loop's encoder writes the same bytes as the sink's Parquet format", async () => {
    const decoder = new TextDecoder();
    const data = sampleEvents(500).map((event, i) => {
      const { event_id } = JSON.parse(decoder.decode(event.data)) as { event_id: string };
      return encodeEnvelope({
        eventId: event_id,
        receivedAt: Date.UTC(2026, 10, 25) + i,
        dataJson: event.data,
      });
    });
    const records = data.map(
      (bytes, i): KinesisRecord => ({
        data: bytes,
        partitionKey: 'p',
        explicitHashKey: undefined,
        sequenceNumber: String(i),
        subSequenceNumber: 0,
        approximateArrivalTimestamp: new Date(0),
        isAggregated: false,
      }),
    );
    const { schema } = parseParquetSchema(BENCH_PARQUET_COLUMNS, BENCH_PARQUET_SCHEMA_VERSION, 'schema');
    const format = createParquetFormat({ schema: schema!, compression: 'snappy', rowGroupSize: undefined });
    const routes = records.map(
      () => ({ kind: 'data', bytes: undefined, partitionValues: {}, partitionId: '' }) as const,
    );
    const { routes: converted, prepared } = format.prepare(records, routes);
    expect(converted).toBe(routes); // every sample event fits the schema
    const body = await format.encode(
      { records, routes, indexes: undefined, count: records.length },
      prepared,
    );
    expect(Buffer.from(encodeParquet(data))).toEqual(Buffer.from(body.chunks[0]!));
  });
});
