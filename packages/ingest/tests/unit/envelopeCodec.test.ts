import { describe, expect, it } from 'vitest';
import { isContractSafeStringifyOutput } from '../../src/envelope/envelopeCodec.js';
import {
  BigIntegerMode,
  decodeEnvelope,
  EnvelopeDecodeError,
  EnvelopeEncodeError,
  encodeEnvelope,
  envelopeByteLength,
  parseJson,
} from '../../src/index.js';

const AT = '2026-11-25T16:38:00.123Z';

function text(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('utf8');
}

describe('encodeEnvelope', () => {
  it('writes the compact envelope with the fields in contract order', () => {
    const bytes = encodeEnvelope({ eventId: 'e-1', receivedAt: AT, data: { a: [1, 'x'], b: null } });
    expect(text(bytes)).toBe(`{"eventId":"e-1","receivedAt":"${AT}","data":{"a":[1,"x"],"b":null}}`);
    expect(bytes.length).toBe(envelopeByteLength(3, '{"a":[1,"x"],"b":null}'.length));
  });

  it('splices dataJson without a number round trip, compacting whitespace only', () => {
    const dataJson = ' { "id" : 12345678901234567890 , "f": 1.50, "s": "a  b" }\n';
    const bytes = encodeEnvelope({ eventId: 'e-2', receivedAt: AT, dataJson });
    expect(text(bytes)).toBe(
      `{"eventId":"e-2","receivedAt":"${AT}","data":{"id":12345678901234567890,"f":1.50,"s":"a  b"}}`,
    );
  });

  it('accepts dataJson as bytes, with a BOM', () => {
    const bytes = encodeEnvelope({
      eventId: 'e-3',
      receivedAt: AT,
      dataJson: Buffer.from('\uFEFF[1]', 'utf8'),
    });
    expect(text(bytes)).toBe(`{"eventId":"e-3","receivedAt":"${AT}","data":[1]}`);
  });

  it('writes bigint values exactly', () => {
    const bytes = encodeEnvelope({
      eventId: 'e-4',
      receivedAt: AT,
      data: { big: 2n ** 70n, neg: -(10n ** 25n), s: 'ok' },
    });
    expect(text(bytes)).toContain(
      '"data":{"big":1180591620717411303424,"neg":-10000000000000000000000000,"s":"ok"}',
    );
  });

  it('takes receivedAt as a Date, epoch milliseconds or now', () => {
    expect(text(encodeEnvelope({ eventId: 'a', receivedAt: new Date(AT), data: 1 }))).toContain(AT);
    expect(text(encodeEnvelope({ eventId: 'a', receivedAt: Date.parse(AT), data: 1 }))).toContain(AT);
    const before = Date.now();
    const decoded = decodeEnvelope(encodeEnvelope({ eventId: 'a', data: 1 }));
    expect(decoded.receivedAtMs).toBeGreaterThanOrEqual(before);
  });

  it.each([
    ['a bad event id', { eventId: 'a b', data: 1 }],
    ['an empty event id', { eventId: '', data: 1 }],
    ['a long event id', { eventId: 'x'.repeat(129), data: 1 }],
    ['a local time', { eventId: 'a', receivedAt: '2026-11-25T16:38:00', data: 1 }],
    ['an invalid date', { eventId: 'a', receivedAt: new Date(Number.NaN), data: 1 }],
    ['undefined data', { eventId: 'a', data: undefined }],
    [
      'a cycle',
      {
        eventId: 'a',
        data: (() => {
          const o: Record<string, unknown> = {};
          o.o = o;
          return o;
        })(),
      },
    ],
    ['a lone surrogate', { eventId: 'a', data: 'x\ud800' }],
    ['too deep data', { eventId: 'a', dataJson: `${'['.repeat(65)}${']'.repeat(65)}` }],
    ['invalid dataJson', { eventId: 'a', dataJson: '{"a":' }],
    ['two values', { eventId: 'a', dataJson: '1 2' }],
    ['empty dataJson', { eventId: 'a', dataJson: '  ' }],
    ['invalid UTF-8', { eventId: 'a', dataJson: Buffer.from([0x22, 0xff, 0x22]) }],
  ])('rejects %s', (_name, input) => {
    expect(() => encodeEnvelope(input as Parameters<typeof encodeEnvelope>[0])).toThrow(EnvelopeEncodeError);
  });
});

describe('encodeEnvelope of data: the one-pass path and the full scan agree', () => {
  /** The same data through the dataJson path, which always scans. */
  const scanned = (data: unknown) =>
    text(encodeEnvelope({ eventId: 'e', receivedAt: AT, dataJson: JSON.stringify(data) }));

  it.each([
    ['a typical event', { id: 'evt-1', price: 12.5, brand: null, tags: ['a', 'b'], nested: { x: [1] } }],
    ['non-ASCII text and a surrogate pair', { s: 'café ☕ 😀' }],
    ['a control character (written as a \\u escape)', { s: 'a\u0001b' }],
    ['a literal backslash-u in a string', { s: '\\u00e9 is not an escape here' }],
    ['braces inside strings only', { s: '{'.repeat(70) }],
    ['64 levels', JSON.parse(`${'['.repeat(64)}${']'.repeat(64)}`)],
  ])('%s', (_name, data) => {
    const fast = text(encodeEnvelope({ eventId: 'e', receivedAt: AT, data }));
    expect(fast).toBe(scanned(data));
    expect(decodeEnvelope(fast).data).toEqual(data);
  });

  it.each([
    ['a lone high surrogate', { s: 'x\ud800' }],
    ['a lone low surrogate deep in an array', [[['\udc00']]]],
    ['65 levels', JSON.parse(`${'['.repeat(65)}${']'.repeat(65)}`)],
  ])('still refuses %s', (_name, data) => {
    expect(() => encodeEnvelope({ eventId: 'e', receivedAt: AT, data })).toThrow(EnvelopeEncodeError);
  });

  it('writes a bigint reached through toJSON, and calls toJSON once for data without one', () => {
    let calls = 0;
    const plain = { toJSON: () => ({ n: ++calls }) };
    expect(text(encodeEnvelope({ eventId: 'e', receivedAt: AT, data: plain }))).toContain('"data":{"n":1}');
    expect(calls).toBe(1);
    const big = { toJSON: () => ({ n: 2n ** 64n }) };
    expect(text(encodeEnvelope({ eventId: 'e', receivedAt: AT, data: big }))).toContain(
      '"data":{"n":18446744073709551616}',
    );
  });

  it('wraps any other TypeError of JSON.stringify', () => {
    const data = {
      toJSON: () => {
        throw new TypeError('no');
      },
    };
    expect(() => encodeEnvelope({ eventId: 'e', receivedAt: AT, data })).toThrow(
      /data cannot be written as JSON: no/,
    );
  });

  it('isContractSafeStringifyOutput: clears only text it can prove meets the contract', () => {
    expect(isContractSafeStringifyOutput('{"a":[1,{"b":"c"}]}', 64)).toBe(true);
    expect(isContractSafeStringifyOutput('{"a":"\\u0001"}', 64)).toBe(false);
    expect(isContractSafeStringifyOutput('[[[]]]', 3)).toBe(true);
    expect(isContractSafeStringifyOutput('[[[]]]', 2)).toBe(false);
    // Brackets inside strings count too: a bound, never an undercount.
    expect(isContractSafeStringifyOutput('["[[[{{"]', 3)).toBe(false);
  });
});

describe('decodeEnvelope', () => {
  it('round-trips, keeping the exact data text', () => {
    const dataJson = '{"id":12345678901234567890,"price":1.10,"t":"caf\\u00e9"}';
    const decoded = decodeEnvelope(encodeEnvelope({ eventId: 'e-1', receivedAt: AT, dataJson }));
    expect(decoded.eventId).toBe('e-1');
    expect(decoded.receivedAt).toBe(AT);
    expect(decoded.receivedAtMs).toBe(Date.parse(AT));
    expect(decoded.dataJson).toBe(dataJson);
    expect(Buffer.from(decoded.dataBytes).toString()).toBe(dataJson);
    expect(decoded.data).toEqual({ id: 12345678901234567000, price: 1.1, t: 'café' });
    expect(decoded.toJSON()).toEqual({ eventId: 'e-1', receivedAt: AT, data: decoded.data });
  });

  it('keeps big integers exact when asked', () => {
    const bytes = encodeEnvelope({
      eventId: 'e',
      receivedAt: AT,
      dataJson: '{"a":[12345678901234567890,-9007199254740993,9007199254740991,1.5e30,7]}',
    });
    expect(decodeEnvelope(bytes, { integers: 'bigint' }).data).toEqual({
      a: [12345678901234567890n, -9007199254740993n, 9007199254740991, 1.5e30, 7],
    });
    expect(decodeEnvelope(bytes, { integers: 'string' }).data).toEqual({
      a: ['12345678901234567890', '-9007199254740993', 9007199254740991, 1.5e30, 7],
    });
  });

  it('parses data lazily, once', () => {
    const decoded = decodeEnvelope<{ a: number }>(
      encodeEnvelope({ eventId: 'e', receivedAt: AT, data: { a: 1 } }),
    );
    expect(decoded.data).toBe(decoded.data);
  });

  it('accepts a string, any field order, whitespace and unknown fields (tolerant of growth)', () => {
    const decoded = decodeEnvelope(
      ` { "data" : [ 1 , 2 ] , "v": {"x":1}, "receivedAt":"${AT}", "eventId":"e\\u002d1" } `,
    );
    expect(decoded.eventId).toBe('e-1');
    expect(decoded.dataJson).toBe('[ 1 , 2 ]');
    expect(decoded.data).toEqual([1, 2]);
  });

  it.each([
    ['not JSON', 'hello'],
    ['not an object', '[1]'],
    ['truncated', `{"eventId":"e","receivedAt":"${AT}","data":{`],
    ['missing data', `{"eventId":"e","receivedAt":"${AT}"}`],
    ['missing eventId', `{"receivedAt":"${AT}","data":1}`],
    ['missing receivedAt', '{"eventId":"e","data":1}'],
    ['a numeric eventId', `{"eventId":1,"receivedAt":"${AT}","data":1}`],
    ['a bad eventId', `{"eventId":"a b","receivedAt":"${AT}","data":1}`],
    ['a bad receivedAt', '{"eventId":"e","receivedAt":"yesterday","data":1}'],
    ['a duplicate data', `{"eventId":"e","receivedAt":"${AT}","data":1,"data":2}`],
    ['a lone surrogate', `{"eventId":"e","receivedAt":"${AT}","data":"\\ud800"}`],
    ['trailing bytes', `{"eventId":"e","receivedAt":"${AT}","data":1}x`],
  ])('rejects %s with EnvelopeDecodeError', (_name, input) => {
    expect(() => decodeEnvelope(input)).toThrow(EnvelopeDecodeError);
  });

  it('rejects invalid UTF-8', () => {
    const bytes = Buffer.concat([
      Buffer.from(`{"eventId":"e","receivedAt":"${AT}","data":"`),
      Buffer.from([0xc3]),
      Buffer.from('"}'),
    ]);
    expect(() => decodeEnvelope(bytes)).toThrow(EnvelopeDecodeError);
  });

  it('decodes a view into a larger buffer', () => {
    const envelope = encodeEnvelope({ eventId: 'e', receivedAt: AT, data: { a: 1 } });
    const big = Buffer.concat([Buffer.from('xxxx'), envelope, Buffer.from('yyyy')]);
    expect(decodeEnvelope(big.subarray(4, 4 + envelope.length)).data).toEqual({ a: 1 });
  });
});

describe('parseJson', () => {
  it('matches JSON.parse in number mode and on texts without long integers', () => {
    const t = '{"a":[1,2.5,"12345678901234567890"],"__proto__":{"x":1}}';
    expect(parseJson(t, BigIntegerMode.BigInt)).toEqual(JSON.parse(t));
    expect(parseJson('[12345678901234567890]')).toEqual([Number('12345678901234567890')]);
  });

  it('keeps __proto__ keys as data in the exact parser', () => {
    const value = parseJson('{"__proto__":{"polluted":true},"n":12345678901234567890}', 'bigint') as Record<
      string,
      unknown
    >;
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.keys(value)).toEqual(['__proto__', 'n']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('throws SyntaxError on invalid text in the exact parser', () => {
    expect(() => parseJson('[12345678901234567890', 'bigint')).toThrow(SyntaxError);
    expect(() => parseJson('[12345678901234567890] x', 'string')).toThrow(SyntaxError);
  });
});
