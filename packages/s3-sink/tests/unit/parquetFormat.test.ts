import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { KinesisRecord } from '@shardline/consumer-core';
import { encodeEnvelope } from '@shardline/ingest';
import { describe, expect, it } from 'vitest';
import { ConfigurationError, resolveS3SinkConfig, type S3SinkOptions } from '../../src/index.js';
import {
  convertRecord,
  createParquetFormat,
  isZstdAvailable,
  PARQUET_WRITER_VERSION,
} from '../../src/objects/formats/ParquetFormat.js';
import { type ParquetSchema, parseParquetSchema } from '../../src/objects/formats/parquetSchema.js';
import { formatFingerprint, jsonLinesFormat } from '../../src/objects/formats/RecordFormat.js';
import { joinChunks, type ObjectPlan, objectBody, planObjects } from '../../src/objects/planObjects.js';
import { readParquet } from '../helpers/parquet.js';
import { parquetLayout, SAMPLE_COLUMNS, sampleRange, sampleRecords, T0 } from '../helpers/parquetSample.js';

const client = { send: async () => ({}) } as never;
const base: S3SinkOptions = {
  streamName: 'orders',
  bucket: 'archive-bucket',
  applicationName: 'orders-archive',
  kinesisClient: client,
  dynamoDBClient: client,
  s3Client: client,
};

function problemsOf(options: Partial<S3SinkOptions>): string[] {
  try {
    resolveS3SinkConfig({ ...base, ...options } as S3SinkOptions);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    return (error as ConfigurationError).problems.map((p) => `${p.path}: ${p.message}`);
  }
  throw new Error('expected a ConfigurationError');
}

async function bodyOf(plan: ObjectPlan): Promise<Buffer> {
  const { chunks, uncompressedBytes } = await objectBody(plan);
  return joinChunks(chunks, uncompressedBytes);
}

function schemaOf(source: unknown, version?: string): ParquetSchema {
  const { schema, problems } = parseParquetSchema(source, version, 'parquet.schema');
  expect(problems).toEqual([]);
  return schema!;
}

function record(dataJson: string, i = 0): KinesisRecord {
  return {
    data: encodeEnvelope({ eventId: `ev-${i}`, receivedAt: new Date(T0), dataJson }),
    partitionKey: 'pk',
    explicitHashKey: undefined,
    sequenceNumber: String(100 + i),
    subSequenceNumber: 0,
    approximateArrivalTimestamp: new Date(T0),
    isAggregated: false,
  };
}

describe('Parquet schema', () => {
  it('maps the JSON Schema subset to column types', () => {
    const schema = schemaOf({
      type: 'object',
      required: ['s', 'i', 't'],
      properties: {
        s: { type: 'string' },
        i: { type: 'integer' },
        n: { type: ['number', 'null'] },
        b: { type: 'boolean' },
        t: { type: 'string', format: 'date-time' },
        o: { type: 'object' },
        a: { type: 'array', items: { type: 'string' } },
        maybe: { type: ['integer', 'null'], description: 'ignored keyword' },
      },
    });
    expect(schema.columns).toEqual([
      { name: 's', type: 'string', nullable: false },
      { name: 'i', type: 'integer', nullable: false },
      { name: 'n', type: 'number', nullable: true },
      { name: 'b', type: 'boolean', nullable: true },
      { name: 't', type: 'timestamp', nullable: false },
      { name: 'o', type: 'json', nullable: true },
      { name: 'a', type: 'json', nullable: true },
      { name: 'maybe', type: 'integer', nullable: true },
    ]);
  });

  it('gives a stable version that changes when a nullable column is added, or the given one', () => {
    const a = schemaOf(SAMPLE_COLUMNS);
    expect(schemaOf(SAMPLE_COLUMNS).version).toBe(a.version);
    expect(a.version).toMatch(/^[0-9a-f]{12}$/);
    const added = schemaOf([...SAMPLE_COLUMNS, { name: 'note', type: 'string' }]);
    expect(added.version).not.toBe(a.version);
    expect(schemaOf(SAMPLE_COLUMNS, 'v2').version).toBe('v2');
  });

  it('lists every problem of a column list', () => {
    const { schema, problems } = parseParquetSchema(
      [
        { name: 'ok', type: 'string' },
        { name: 'bad-name', type: 'string' },
        { name: 'x', type: 'decimal' },
        { name: 'y', type: 'integer', nullable: 'yes' },
        { type: 'integer' },
        'column',
        { name: 'EventId', type: 'string' },
        { name: 'receivedat', type: 'string' },
        { name: 'OK', type: 'integer' },
      ],
      'bad version!',
      'parquet.schema',
    );
    expect(schema).toBeUndefined();
    expect(problems.map((p) => p.path)).toEqual([
      'parquet.schema[2].type',
      'parquet.schema[3].nullable',
      'parquet.schema[4].name',
      'parquet.schema[5]',
      'parquet.schema[1].name',
      'parquet.schema[5].name',
      'parquet.schema[6].name',
      'parquet.schema[7].name',
      'parquet.schemaVersion',
    ]);
    const text = problems.map((p) => p.message).join('\n');
    expect(text).toContain('"bad-name" is not a column name');
    expect(text).toContain('"EventId" is reserved');
    expect(text).toContain('"receivedat" is reserved');
    expect(text).toContain('"OK" appears twice');
  });

  it('lists every problem of a JSON Schema', () => {
    const problemsOfSchema = (source: unknown) =>
      parseParquetSchema(source, undefined, 'parquet.schema').problems.map((p) => `${p.path}: ${p.message}`);
    expect(problemsOfSchema({ type: 'array' })).toEqual([
      'parquet.schema.type: must be "object" (the event\'s data)',
      'parquet.schema.properties: is required (an object of property schemas)',
    ]);
    const problems = problemsOfSchema({
      type: 'object',
      required: ['a', 'missing'],
      properties: {
        a: { type: 'string', format: 'email' },
        b: { anyOf: [{ type: 'string' }] },
        c: { type: ['string', 'integer'] },
        d: { type: 'null' },
        e: 'string',
        f: { type: 'date' },
      },
    });
    expect(problems).toEqual([
      'parquet.schema.properties.a: format "email" is not supported (only date-time, a timestamp column)',
      expect.stringContaining('parquet.schema.properties.b: anyOf is not supported'),
      expect.stringContaining('parquet.schema.properties.c: type must be one of'),
      expect.stringContaining('parquet.schema.properties.d: type must be one of'),
      'parquet.schema.properties.e: must be a property schema object',
      expect.stringContaining('parquet.schema.properties.f: type "date" is not supported'),
      'parquet.schema.required: names "missing", which is not in properties',
    ]);
    expect(problemsOfSchema({ type: 'object', properties: {}, required: 'a' })).toEqual([
      'parquet.schema.required: must be a list of property names',
    ]);
    expect(problemsOfSchema({ type: 'object', properties: {} })).toEqual(['parquet.schema: has no columns']);
    expect(problemsOfSchema(undefined)).toEqual([
      'parquet.schema: is required with format parquet: a column list or a JSON Schema object',
    ]);
  });
});

describe('format options', () => {
  it('fingerprints the pinned writer version (another version may write other bytes)', async () => {
    const { readFile } = await import('node:fs/promises');
    const manifest = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    expect(manifest.dependencies['hyparquet-writer']).toBe(PARQUET_WRITER_VERSION);
    const format = createParquetFormat({
      schema: schemaOf(SAMPLE_COLUMNS),
      compression: 'snappy',
      rowGroupSize: undefined,
    });
    expect(formatFingerprint(format)).toContain(`hyparquet-writer@${PARQUET_WRITER_VERSION}`);
  });

  it('lists every problem of the format options at once', () => {
    const problems = problemsOf({
      format: 'parquet',
      compression: 'gzip',
      newlineDelimiter: false,
      recordContent: 'data',
      parquet: {
        schema: [{ name: 'a', type: 'text' as never }],
        compression: 'lz4' as never,
        rowGroupSize: 0,
      },
    });
    expect(problems).toEqual([
      "compression: must be 'none' with format 'parquet': Parquet compresses its pages itself (set parquet.compression)",
      "newlineDelimiter: is for format 'json' only (Parquet has no delimiters)",
      "recordContent: is for format 'json' only (Parquet columns come from the envelope's data)",
      expect.stringContaining('parquet.schema[0].type: must be one of'),
      'parquet.compression: must be one of snappy, zstd',
      'parquet.rowGroupSize: must be an integer from 1 to 1000000',
    ]);
    expect(problemsOf({ format: 'parquet' })).toEqual([
      "parquet: is required with format 'parquet' (at least a schema)",
    ]);
    expect(problemsOf({ format: 'csv' as never })).toEqual(['format: must be one of json, parquet']);
    expect(problemsOf({ parquet: { schema: SAMPLE_COLUMNS } })).toEqual([
      "parquet: is for format 'parquet' only",
    ]);
  });

  it.runIf(!isZstdAvailable())('refuses zstd where Node has no Zstandard', () => {
    expect(
      problemsOf({ format: 'parquet', parquet: { schema: SAMPLE_COLUMNS, compression: 'zstd' } }),
    ).toEqual([expect.stringMatching(/^parquet.compression: zstd needs Node.js 22.15 or later/)]);
  });

  it('resolves JSON lines by default and Parquet when asked; fingerprints tell them apart', () => {
    const json = resolveS3SinkConfig(base).format;
    expect(json.name).toBe('json');
    expect(formatFingerprint(json)).toBe('json;newline=true');
    const parquet = resolveS3SinkConfig({
      ...base,
      format: 'parquet',
      parquet: { schema: SAMPLE_COLUMNS },
    }).format;
    expect(parquet.name).toBe('parquet');
    expect(parquet.extension).toMatch(/^\.[0-9a-f]{12}\.parquet$/);
    const again = resolveS3SinkConfig({
      ...base,
      format: 'parquet',
      parquet: { schema: SAMPLE_COLUMNS },
    }).format;
    expect(formatFingerprint(again)).toBe(formatFingerprint(parquet));
    const other = resolveS3SinkConfig({
      ...base,
      format: 'parquet',
      parquet: { schema: SAMPLE_COLUMNS, rowGroupSize: 1000 },
    }).format;
    expect(formatFingerprint(other)).not.toBe(formatFingerprint(parquet));
    expect(formatFingerprint(jsonLinesFormat(false))).not.toBe(formatFingerprint(json));
  });
});

describe('record conversion', () => {
  const schema = schemaOf([
    { name: 'i', type: 'integer' },
    { name: 'n', type: 'number' },
    { name: 't', type: 'timestamp' },
    { name: 'j', type: 'json' },
    { name: 's', type: 'string', nullable: false },
  ]);
  const convert = (data: string) => convertRecord(record(data), schema);

  it('keeps integers exact up to the INT64 bounds and refuses those beyond', () => {
    expect(convert('{"s":"x","i":9223372036854775807}')).toEqual([
      'ev-0',
      BigInt(T0),
      2n ** 63n - 1n,
      null,
      null,
      null,
      'x',
    ]);
    expect((convert('{"s":"x","i":-9223372036854775808}') as unknown[])[2]).toBe(-(2n ** 63n));
    expect((convert('{"s":"x","i":9007199254740993}') as unknown[])[2]).toBe(9007199254740993n);
    expect(convert('{"s":"x","i":9223372036854775808}')).toBe(
      'column i: 9223372036854775808 does not fit in INT64 (±2^63)',
    );
    expect(convert('{"s":"x","i":1e20}')).toMatch(
      /^column i: 100000000000000000000 \(number\) is beyond 2\^53/,
    );
    expect(convert('{"s":"x","i":1.5}')).toBe('column i: expected an integer, got 1.5 (number)');
    expect(convert('{"s":"x","i":"7"}')).toBe('column i: expected an integer, got "7" (string)');
    expect((convert('{"s":"x","i":2.0}') as unknown[])[2]).toBe(2n);
  });

  it('reads long digit runs in strings as strings, and small numbers beside them as they are', () => {
    expect(convert('{"s":"12345678901234567890","i":5,"j":{"id":"98765432109876543210"}}')).toEqual([
      'ev-0',
      BigInt(T0),
      5n,
      null,
      null,
      '{"id":"98765432109876543210"}',
      '12345678901234567890',
    ]);
  });

  it('refuses a number column value a double cannot hold exactly', () => {
    expect((convert('{"s":"x","n":9007199254740992}') as unknown[])[3]).toBe(9007199254740992);
    expect(convert('{"s":"x","n":9007199254740993}')).toBe(
      'column n: 9007199254740993 cannot be stored exactly as a DOUBLE',
    );
  });

  it('reads timestamps as RFC 3339 with an offset or epoch milliseconds', () => {
    const at = (t: string) => convert(`{"s":"x","t":${t}}`);
    expect((at('"2026-11-25T16:00:00.123+01:00"') as unknown[])[4]).toBe(
      BigInt(Date.UTC(2026, 10, 25, 15, 0, 0, 123)),
    );
    expect((at('"2026-11-25T15:00:00.123000Z"') as unknown[])[4]).toBe(
      BigInt(Date.UTC(2026, 10, 25, 15, 0, 0, 123)),
    );
    expect((at('1764082800123') as unknown[])[4]).toBe(1764082800123n);
    expect(at('"2026-11-25 15:00:00Z"')).toMatch(/is not an RFC 3339 date-time/);
    expect(at('"2026-11-25T15:00:00"')).toMatch(/is not an RFC 3339 date-time/);
    expect(at('"2026-02-30T15:00:00Z"')).toMatch(/is not a valid date-time/);
    expect(at('"2026-11-25T15:00:00.1234Z"')).toMatch(/is finer than milliseconds/);
    expect(at('1.5')).toMatch(/is not integer epoch milliseconds/);
    expect(at('true')).toMatch(/expected an RFC 3339 date-time or epoch milliseconds/);
  });

  it('stores a json column as exact JSON text, big integers included', () => {
    expect((convert('{"s":"x","j":{"a":[1,12345678901234567890,"q"],"b":null}}') as unknown[])[5]).toBe(
      '{"a":[1,12345678901234567890,"q"],"b":null}',
    );
  });

  it('says why a record does not fit', () => {
    expect(convert('{"i":1}')).toBe('column s: is missing, and it is not nullable');
    expect(convert('{"s":null}')).toBe('column s: is null, and it is not nullable');
    expect(convert('[1]')).toBe('data is an array, not a JSON object');
    expect(convert('"x"')).toBe('data is a string, not a JSON object');
    const notEnvelope = { ...record('{}'), data: new TextEncoder().encode('{"x":1}') };
    expect(convertRecord(notEnvelope, schema)).toMatch(/^not an event envelope with JSON data: /);
  });

  it('refuses data nested beyond the contract before any recursive step, whatever the depth', () => {
    // Built by hand: encodeEnvelope itself refuses such data.
    const deep = (levels: number) => ({
      ...record('{}'),
      data: new TextEncoder().encode(
        `{"eventId":"ev-0","receivedAt":"2026-11-25T16:00:00.000Z","data":{"s":"x","j":${'['.repeat(levels)}${']'.repeat(levels)}}}`,
      ),
    });
    for (const levels of [64, 5_000, 100_000]) {
      expect(convertRecord(deep(levels), schema)).toBe(
        `data is nested ${levels + 1} levels deep, over the 64 of the event contract`,
      );
    }
    expect((convertRecord(deep(63), schema) as unknown[])[5]).toBe(`${'['.repeat(63)}${']'.repeat(63)}`);
  });

  it('refuses numbers JSON.parse reads as Infinity (1e400) rather than writing Infinity or null', () => {
    expect(convert('{"s":"x","n":1e400}')).toBe("column n: Infinity (number) is out of a DOUBLE's range");
    expect(convert('{"s":"x","j":{"a":[-1e400]}}')).toMatch(
      /^column j: .* holds a number out of a DOUBLE's range/,
    );
  });

  it("converts the routed bytes: a transform's output, not the record as read", () => {
    const format = createParquetFormat({ schema, compression: 'snappy', rowGroupSize: undefined });
    const original = record('{"s":"secret@example.com"}');
    const transformed = encodeEnvelope({
      eventId: 'ev-0',
      receivedAt: new Date(T0),
      dataJson: '{"s":"REDACTED"}',
    });
    const { prepared } = format.prepare(
      [original],
      [{ kind: 'data', bytes: transformed, partitionValues: {}, partitionId: '' }],
    );
    expect(prepared[0]![6]).toBe('REDACTED');
  });
});

describe('planObjects with Parquet', () => {
  it('writes data records as Parquet an independent reader reads back, and misfits to the error output', async () => {
    const records = sampleRecords(40);
    const plans = planObjects(sampleRange(records), parquetLayout());
    expect(plans.map((p) => [p.kind, p.errorOutputType, p.recordCount, p.format, p.contentType])).toEqual([
      ['data', undefined, 32, 'parquet', 'application/vnd.apache.parquet'],
      ['error', 'format-conversion-failed', 8, 'json', 'application/x-ndjson'],
    ]);
    const [data, errors] = plans;
    expect(data!.key).toMatch(
      /^2026\/11\/25\/15\/orders-shardId-000000000000-100000000000000000000\.[0-9a-f]{12}\.parquet$/,
    );
    expect(errors!.key).toMatch(
      /^errors\/format-conversion-failed\/orders-shardId-000000000000-100000000000000000040$/,
    );
    const lines = joinChunks(errors!.chunks, errors!.uncompressedBytes)
      .toString('utf8')
      .trimEnd()
      .split('\n');
    expect(lines.map((l) => JSON.parse(l) as Record<string, unknown>)).toEqual(
      records
        .filter((_, i) => i % 5 === 4)
        .map((r) =>
          expect.objectContaining({
            errorCode: 'FormatConversionFailed',
            errorMessage: 'column user: is missing, and it is not nullable',
            sequenceNumber: r.sequenceNumber,
            rawData: Buffer.from(r.data).toString('base64'),
          }),
        ),
    );

    const { rows, schemas, rowGroups } = await readParquet([{ name: data!.key, bytes: await bodyOf(data!) }]);
    expect(rowGroups.get(data!.key)).toBe(1);
    expect(
      schemas
        .get(data!.key)!
        .slice(1)
        .map((c) => [c.name, c.type, c.converted_type, c.repetition_type]),
    ).toEqual([
      ['eventId', 'BYTE_ARRAY', 'UTF8', 'REQUIRED'],
      ['receivedAt', 'INT64', 'TIMESTAMP_MILLIS', 'REQUIRED'],
      ['user', 'BYTE_ARRAY', 'UTF8', 'REQUIRED'],
      ['amount', 'INT64', null, 'OPTIONAL'],
      ['price', 'DOUBLE', null, 'OPTIONAL'],
      ['paid', 'BOOLEAN', null, 'OPTIONAL'],
      ['at', 'INT64', 'TIMESTAMP_MILLIS', 'OPTIONAL'],
      ['extra', 'BYTE_ARRAY', 'UTF8', 'OPTIONAL'],
    ]);
    const expected = Array.from({ length: 40 }, (_, i) => i)
      .filter((i) => i % 5 !== 4)
      .map((i) => ({
        eventId: `ev-${i}`,
        receivedAtMs: BigInt(T0 + i),
        user: `u-${i % 3}`,
        amount: i % 2 === 0 ? 9007199254740993n + BigInt(i) : BigInt(-i),
        price: i + 0.5,
        paid: i % 2 === 0,
        extra: `{"n":${12345678901234567890n + BigInt(i)},"s":"x"}`,
      }));
    expect(rows.map((r) => ({ ...r, receivedAt: undefined, at: undefined, file: undefined }))).toEqual(
      expected.map((e) => ({ ...e, receivedAt: undefined, at: undefined, file: undefined })),
    );
    expect(String(rows[1]!.at)).toBe('2026-11-25 15:00:01.123');
  });

  it('bounds row groups when asked', async () => {
    const [data] = planObjects(sampleRange(sampleRecords(50)), parquetLayout({ rowGroupSize: 16 }));
    const { rows, rowGroups } = await readParquet([{ name: 'a', bytes: await bodyOf(data!) }]);
    expect(rows).toHaveLength(40);
    expect(rowGroups.get('a')).toBe(3);
  });

  it('yields to the event loop between row groups while it encodes', async () => {
    const [data] = planObjects(sampleRange(sampleRecords(100)), parquetLayout({ rowGroupSize: 8 }));
    let ticks = 0;
    let isDone = false;
    const tick = () => {
      ticks += 1;
      if (!isDone) setImmediate(tick);
    };
    setImmediate(tick);
    const body = objectBody(data!).finally(() => {
      isDone = true;
    });
    const ticksAtStart = ticks;
    await body;
    // 80 records that fit, in row groups of 8: the loop ran between (at least most of) the 10 groups.
    expect(ticksAtStart).toBe(0);
    expect(ticks).toBeGreaterThanOrEqual(9);
  });

  it('names objects by schema version: a new version never reuses a written key', () => {
    const range = sampleRange(sampleRecords(10));
    const [v1] = planObjects(range, parquetLayout({ schemaVersion: 'v1' }));
    const [v2] = planObjects(range, parquetLayout({ schemaVersion: 'v2' }));
    expect(v1!.key).toMatch(/\.v1\.parquet$/);
    expect(v2!.key).toBe(v1!.key.replace('.v1.', '.v2.'));
  });

  it('gives byte-identical objects for the same range, in this process and in two others', async () => {
    const digest = (text: string) => text.trim().split('\n');
    const script = fileURLToPath(new URL('../helpers/parquetDigest.ts', import.meta.url));
    const run = () =>
      promisify(execFile)(process.execPath, ['--conditions=@shardline/source', '--import', 'tsx', script], {
        cwd: fileURLToPath(new URL('../../', import.meta.url)),
      }).then((out) => digest(out.stdout));
    const [a, b] = await Promise.all([run(), run()]);
    expect(a.length).toBe(2);
    expect(a[0]).toMatch(/\.parquet [0-9a-f]{64}$/);
    expect(b).toEqual(a);
    const range = sampleRange(sampleRecords(10));
    const layout = parquetLayout();
    const first = await Promise.all(planObjects(range, layout).map(bodyOf));
    const second = await Promise.all(planObjects(range, layout).map(bodyOf));
    expect(second).toEqual(first);
  }, 60_000);

  it('leaves JSON lines bytes as they were: routed bytes and newlines', () => {
    const records = sampleRecords(5);
    const layout = { ...parquetLayout(), format: jsonLinesFormat(true) };
    const [plan] = planObjects(sampleRange(records), layout);
    expect(plan!.format).toBe('json');
    expect(plan!.key).not.toContain('.parquet');
    expect(joinChunks(plan!.chunks, plan!.uncompressedBytes)).toEqual(
      Buffer.concat(records.flatMap((r) => [r.data, Buffer.from('\n')])),
    );
    const [bare] = planObjects(sampleRange(records), { ...layout, format: jsonLinesFormat(false) });
    expect(joinChunks(bare!.chunks, bare!.uncompressedBytes)).toEqual(
      Buffer.concat(records.map((r) => r.data)),
    );
  });

  it.runIf(isZstdAvailable())('writes zstd pages an independent reader reads', async () => {
    const layout = {
      ...parquetLayout(),
      format: createParquetFormat({
        schema: schemaOf(SAMPLE_COLUMNS),
        compression: 'zstd',
        rowGroupSize: undefined,
      }),
    };
    const [data] = planObjects(sampleRange(sampleRecords(20)), layout);
    const { rows } = await readParquet([{ name: 'z', bytes: await bodyOf(data!) }]);
    expect(rows).toHaveLength(16);
  });
});
