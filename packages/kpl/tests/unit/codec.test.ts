import { createHash } from 'node:crypto';
import { seededRandom, testSeed } from '@shardline/test-kit';
import { describe, expect, it } from 'vitest';
import {
  AggregationError,
  aggregate,
  type DeaggregatedRecord,
  deaggregate,
  isAggregated,
  KPL_MAGIC,
  type UserRecord,
} from '../../src/index.js';

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);
const bytes = (...values: number[]): Uint8Array => Uint8Array.from(values);
const md5 = (data: Uint8Array): Uint8Array => new Uint8Array(createHash('md5').update(data).digest());

/** Magic + protobuf + MD5(protobuf): a correctly framed aggregate around any protobuf bytes. */
function frame(protobuf: Uint8Array): Uint8Array {
  return Uint8Array.from([0xf3, 0x89, 0x9a, 0xc2, ...protobuf, ...md5(protobuf)]);
}

/** A length-delimited field with a one-byte tag and a one-byte length (test payloads stay < 128 bytes). */
function field(tag: number, payload: Uint8Array | number[]): number[] {
  const content = [...payload];
  if (content.length >= 128) throw new Error('test helper: payload too long for a one-byte length');
  return [tag, content.length, ...content];
}

function expectRoundTrip(records: UserRecord[]): DeaggregatedRecord[] {
  const out = deaggregate(aggregate(records));
  expect(out).toBeDefined();
  expect(out).toHaveLength(records.length);
  out!.forEach((record, i) => {
    const input = records[i]!;
    expect(record.subSequenceNumber).toBe(i);
    expect(record.partitionKey).toBe(input.partitionKey);
    expect(record.explicitHashKey).toBe(input.explicitHashKey);
    expect([...record.data]).toEqual([...input.data]);
  });
  return out!;
}

describe('aggregate and deaggregate round trip', () => {
  it('keeps empty data, binary data and large data', () => {
    const binary = Uint8Array.from({ length: 256 }, (_, i) => i);
    const large = new Uint8Array(70_000).fill(0xab); // three-byte length varint
    expectRoundTrip([
      { partitionKey: 'k', data: new Uint8Array(0) },
      { partitionKey: 'k', data: binary },
      { partitionKey: 'k', data: large },
      { partitionKey: 'k', data: new Uint8Array(0) },
    ]);
  });

  it('keeps unicode partition keys, including a leading U+FEFF and astral characters', () => {
    expectRoundTrip([
      { partitionKey: '\uFEFFbom-first', data: utf8('1') },
      { partitionKey: 'Grüße €', data: utf8('2') },
      { partitionKey: '😀🚀 emoji', data: utf8('3') },
      { partitionKey: 'x'.repeat(256), data: utf8('4') },
      { partitionKey: '日本語'.repeat(85), data: utf8('5') }, // 255 chars, 765 UTF-8 bytes
    ]);
  });

  it('stores each distinct key once in the tables', () => {
    const records: UserRecord[] = [];
    for (let i = 0; i < 300; i++) records.push({ partitionKey: `key-${i % 3}`, data: utf8(`v${i}`) });
    const encoded = aggregate(records);
    const occurrences = Buffer.from(encoded).toString('latin1').split('key-1').length - 1;
    expect(occurrences).toBe(1);
    expectRoundTrip(records);
  });

  it('keeps explicit hash keys, shared and not, and records without one', () => {
    const max = ((1n << 128n) - 1n).toString();
    expectRoundTrip([
      { partitionKey: 'a', explicitHashKey: '0', data: utf8('1') },
      { partitionKey: 'b', data: utf8('2') },
      { partitionKey: 'c', explicitHashKey: max, data: utf8('3') },
      { partitionKey: 'd', explicitHashKey: '0', data: utf8('4') },
    ]);
  });

  it('numbers sub-records 0, 1, 2 … in order, beyond one-byte varints', () => {
    const records = Array.from({ length: 1000 }, (_, i) => ({
      partitionKey: `p${i}`,
      data: utf8(String(i)),
    }));
    const out = expectRoundTrip(records);
    expect(out.map((r) => r.subSequenceNumber)).toEqual(records.map((_, i) => i));
  });

  it('returns views into the input instead of copies', () => {
    const encoded = aggregate([{ partitionKey: 'k', data: utf8('hello') }]);
    const [record] = deaggregate(encoded)!;
    expect(record!.data.buffer).toBe(encoded.buffer);
  });

  it('rejects an empty list and invalid records with AggregationError', () => {
    expect(() => aggregate([])).toThrow(AggregationError);
    const bad: UserRecord[] = [
      { partitionKey: '', data: utf8('x') },
      { partitionKey: 'x'.repeat(257), data: utf8('x') },
      { partitionKey: 'lone \uD800 surrogate', data: utf8('x') },
      { partitionKey: 'k', explicitHashKey: '-1', data: utf8('x') },
      { partitionKey: 'k', explicitHashKey: '007', data: utf8('x') },
      { partitionKey: 'k', explicitHashKey: (1n << 128n).toString(), data: utf8('x') },
      { partitionKey: 'k', data: 'not bytes' as unknown as Uint8Array },
    ];
    for (const record of bad) {
      let thrown: unknown;
      try {
        aggregate([{ partitionKey: 'ok', data: utf8('fine') }, record]);
      } catch (error) {
        thrown = error;
      }
      expect(thrown, JSON.stringify(record.partitionKey)).toBeInstanceOf(AggregationError);
      expect((thrown as AggregationError).recordIndex).toBe(1);
      expect((thrown as AggregationError).retriable).toBe(false);
    }
  });
});

describe('golden vector built by hand from messages.proto', () => {
  // AggregatedRecord { partition_key_table: ["a", "bc"], explicit_hash_key_table: ["5"], records: [
  //   { partition_key_index: 0, data: 01 02 03 },
  //   { partition_key_index: 1, explicit_hash_key_index: 0, data: "" },
  //   { partition_key_index: 0, data: 300 × 0x07 } ] }
  const big = new Uint8Array(300).fill(7);
  const protobuf = Uint8Array.from([
    0x0a, 0x01, 0x61, // field 1 (partition_key_table), length 1, "a"
    0x0a, 0x02, 0x62, 0x63, // field 1, length 2, "bc"
    0x12, 0x01, 0x35, // field 2 (explicit_hash_key_table), length 1, "5"
    0x1a, 0x07, 0x08, 0x00, 0x1a, 0x03, 0x01, 0x02, 0x03, // field 3 (records): pk index 0, data 01 02 03
    0x1a, 0x06, 0x08, 0x01, 0x10, 0x00, 0x1a, 0x00, // pk index 1, ehk index 0, empty data
    // record of 1 + 1 + 1 + 2 + 300 = 305 bytes: varint 305 = b1 02; data length varint 300 = ac 02
    0x1a, 0xb1, 0x02, 0x08, 0x00, 0x1a, 0xac, 0x02, ...big,
  ]); // biome-ignore format: one line per protobuf field
  const golden = Uint8Array.from([0xf3, 0x89, 0x9a, 0xc2, ...protobuf, ...md5(protobuf)]);
  const input: UserRecord[] = [
    { partitionKey: 'a', data: bytes(1, 2, 3) },
    { partitionKey: 'bc', explicitHashKey: '5', data: new Uint8Array(0) },
    { partitionKey: 'a', data: big },
  ];

  it('is read by deaggregate', () => {
    expect(isAggregated(golden)).toBe(true);
    const out = deaggregate(golden)!;
    expect(out.map((r) => ({ ...r, data: [...r.data] }))).toEqual([
      { partitionKey: 'a', explicitHashKey: undefined, data: [1, 2, 3], subSequenceNumber: 0 },
      { partitionKey: 'bc', explicitHashKey: '5', data: [], subSequenceNumber: 1 },
      { partitionKey: 'a', explicitHashKey: undefined, data: [...big], subSequenceNumber: 2 },
    ]);
  });

  it('is exactly what aggregate writes for the same input', () => {
    expect([...aggregate(input)]).toEqual([...golden]);
  });

  it('is what KPL_MAGIC announces', () => {
    expect([...golden.subarray(0, 4)]).toEqual([...KPL_MAGIC]);
  });
});

describe('deaggregate reads what other writers may write', () => {
  it('accepts fields in any order, unknown fields of every wire type, and tags (ignored)', () => {
    const tag = [...field(0x0a, utf8('env')), ...field(0x12, utf8('prod'))]; // Tag { key, value }
    const recordMessage = [
      ...field(0x1a, utf8('payload')), // data before the index
      ...field(0x22, tag), // tags = 4
      ...field(0x22, field(0x0a, utf8('only-key'))), // a tag without value
      0x28, 0x96, 0x01, // unknown field 5, varint 150
      0x08, 0x00, // partition_key_index 0
    ]; // biome-ignore format: one line per field
    const protobuf = Uint8Array.from([
      ...field(0x1a, recordMessage), // the record comes before the table it refers to
      0x21, 1, 2, 3, 4, 5, 6, 7, 8, // unknown field 4, fixed64
      0x2d, 1, 2, 3, 4, // unknown field 5, fixed32
      ...field(0x32, utf8('unknown bytes')), // unknown field 6, length-delimited
      ...field(0x0a, utf8('late-key')),
    ]); // biome-ignore format: one line per field
    const out = deaggregate(frame(protobuf));
    expect(out).toHaveLength(1);
    expect(out![0]!.partitionKey).toBe('late-key');
    expect(new TextDecoder().decode(out![0]!.data)).toBe('payload');
  });

  it('gives an empty list for a valid aggregate without records', () => {
    expect(deaggregate(frame(new Uint8Array(0)))).toEqual([]);
    expect(deaggregate(frame(Uint8Array.from(field(0x0a, utf8('k')))))).toEqual([]);
  });

  it('lets the last occurrence of a repeated scalar field win, as protobuf does', () => {
    const record = [0x08, 0x05, 0x08, 0x00, ...field(0x1a, utf8('old')), ...field(0x1a, utf8('new'))];
    const out = deaggregate(frame(Uint8Array.from([...field(0x0a, utf8('k')), ...field(0x1a, record)])));
    expect(out![0]!.partitionKey).toBe('k');
    expect(new TextDecoder().decode(out![0]!.data)).toBe('new');
  });
});

describe('deaggregate returns undefined (plain record) for anything else, and never throws', () => {
  const valid = aggregate([
    { partitionKey: 'a', data: utf8('one') },
    { partitionKey: 'b', explicitHashKey: '42', data: utf8('two') },
  ]);
  const pk = field(0x0a, utf8('k'));
  const cases: Record<string, Uint8Array> = {
    'empty input': new Uint8Array(0),
    'plain JSON': utf8('{"hello":"world"}'),
    'magic only': bytes(...KPL_MAGIC),
    'magic and 15 bytes': Uint8Array.from([...KPL_MAGIC, ...new Uint8Array(15)]),
    'wrong magic': Uint8Array.from([0xf3, 0x89, 0x9a, 0xc3, ...valid.subarray(4)]),
    'bad digest': Uint8Array.from([...valid.subarray(0, -1), valid[valid.length - 1]! ^ 1]),
    'corrupted protobuf byte': Uint8Array.from([
      ...valid.subarray(0, 10),
      valid[10]! ^ 0x40,
      ...valid.subarray(11),
    ]),
    'truncated by one byte': valid.subarray(0, -1),
    'one byte appended': Uint8Array.from([...valid, 0]),
    'truncated varint': frame(bytes(0x0a, 0x80)),
    'varint longer than 10 bytes': frame(bytes(0x28, ...new Array(10).fill(0xff), 0x01)),
    'length past the end': frame(bytes(0x0a, 0x05, 0x61)),
    'fixed64 past the end': frame(bytes(0x21, 1, 2, 3)),
    'field number 0': frame(bytes(0x02, 0x00)),
    'group wire type': frame(bytes(0x0b, 0x0c)),
    'wire type 7': frame(bytes(0x0f, 0x00)),
    'record without partition key index': frame(Uint8Array.from([...pk, ...field(0x1a, field(0x1a, [1]))])),
    'record without data': frame(Uint8Array.from([...pk, ...field(0x1a, [0x08, 0x00])])),
    'partition key index out of range': frame(
      Uint8Array.from([...pk, ...field(0x1a, [0x08, 0x01, 0x1a, 0x00])]),
    ),
    'explicit hash key index out of range': frame(
      Uint8Array.from([...pk, ...field(0x1a, [0x08, 0x00, 0x10, 0x00, 0x1a, 0x00])]),
    ),
    'huge partition key index': frame(
      Uint8Array.from([
        ...pk,
        ...field(0x1a, [0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x1a, 0x00]),
      ]),
    ),
    'invalid explicit hash key in the table': frame(
      Uint8Array.from([
        ...pk,
        ...field(0x12, utf8('12a')),
        ...field(0x1a, [0x08, 0x00, 0x10, 0x00, 0x1a, 0x00]),
      ]),
    ),
    'tag without key': frame(
      Uint8Array.from([...pk, ...field(0x1a, [0x08, 0x00, 0x1a, 0x00, ...field(0x22, field(0x12, [0x76]))])]),
    ),
    'record length past its end': frame(Uint8Array.from([...pk, 0x1a, 0x04, 0x08, 0x00, 0x1a, 0x05, 0x61])),
  };

  for (const [name, data] of Object.entries(cases)) {
    it(name, () => {
      expect(deaggregate(data)).toBeUndefined();
    });
  }

  it('survives random corruption of valid aggregates (seeded)', () => {
    const seed = testSeed('kpl corruption fuzz');
    const random = seededRandom(seed);
    let parsed = 0;
    let rejected = 0;
    for (let round = 0; round < 2000; round++) {
      const records = Array.from({ length: 1 + Math.floor(random() * 5) }, (_, i) => ({
        partitionKey: `pk${Math.floor(random() * 3)}`,
        explicitHashKey: random() < 0.3 ? String(Math.floor(random() * 1000)) : undefined,
        data: Uint8Array.from({ length: Math.floor(random() * 40) }, () => Math.floor(random() * 256)),
        i,
      }));
      const protobuf = aggregate(records).slice(4, -16);
      const flips = 1 + Math.floor(random() * 3);
      for (let f = 0; f < flips; f++)
        protobuf[Math.floor(random() * protobuf.length)] = Math.floor(random() * 256);
      const cut = random() < 0.2 ? Math.floor(random() * protobuf.length) : protobuf.length;
      const out = deaggregate(frame(protobuf.subarray(0, cut)));
      if (out === undefined) {
        rejected++;
        continue;
      }
      parsed++;
      out.forEach((record, i) => {
        expect(record.subSequenceNumber).toBe(i);
        expect(typeof record.partitionKey).toBe('string');
        expect(record.data).toBeInstanceOf(Uint8Array);
      });
    }
    expect(parsed + rejected).toBe(2000);
    expect(rejected).toBeGreaterThan(0);
  });
});
