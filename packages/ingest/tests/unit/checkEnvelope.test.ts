import { mutate, seededRandom, testSeed } from '@shardline/test-kit';
import { describe, expect, it } from 'vitest';
import { isPlainEnvelope } from '../../src/envelope/envelopeCodec.js';
import { checkEnvelope, decodeEnvelope, EnvelopeDecodeError, encodeEnvelope } from '../../src/index.js';

/** What a call did: `ok`, or the error's class, message and offset (what the s3-sink writes out). */
function outcome(call: () => unknown): string {
  try {
    call();
    return 'ok';
  } catch (error) {
    const e = error as Error & { offset?: number };
    return `${e.constructor.name} | ${e.message} | ${String(e.offset)}`;
  }
}

/** Asserts that `checkEnvelope` ends as `decodeEnvelope` does, and that its one-pass check is sound. */
function expectSameAsDecode(bytes: Uint8Array): string {
  const decoded = outcome(() => decodeEnvelope(bytes));
  expect(outcome(() => checkEnvelope(bytes))).toBe(decoded);
  // The one pass only ever says yes to what decodeEnvelope accepts.
  if (isPlainEnvelope(bytes)) expect(decoded).toBe('ok');
  return decoded;
}

const utf8 = (text: string) => new Uint8Array(Buffer.from(text, 'utf8'));
const AT = '2026-11-25T16:38:00.123Z';
const env = (eventId: string, receivedAt: string, data: string) =>
  `{"eventId":"${eventId}","receivedAt":"${receivedAt}","data":${data}}`;
const DATA = '{"event_type":"view","price":12.5,"brand":null,"tags":["a","é"],"ok":true,"n":-1e3}';

describe('checkEnvelope', () => {
  it('accepts envelopes as encodeEnvelope writes them in one pass', () => {
    const samples = [
      encodeEnvelope({ eventId: 'evt-1', receivedAt: AT, dataJson: DATA }),
      encodeEnvelope({ eventId: 'a'.repeat(128), receivedAt: AT, data: 12345678901234567890n }),
      encodeEnvelope({ eventId: 'x', receivedAt: '2024-02-29T23:59:59.999Z', data: 'ünïcödé \u{1f600}' }),
      encodeEnvelope({ eventId: 'A.b_c:d-9', receivedAt: '0001-01-01T00:00:00.000Z', data: [] }),
      encodeEnvelope({ eventId: 'e', receivedAt: AT, data: { s: 'a\\"b\n\u0001', d: [[[{}]]] } }),
      encodeEnvelope({ eventId: 'e', receivedAt: AT, data: null }),
      encodeEnvelope({ eventId: 'e', receivedAt: AT, data: 0 }),
      // No depth limit on read (as decodeEnvelope): the contract's limit is the writer's.
      utf8(env('e', AT, `${'{"deep":'.repeat(5000)}1${'}'.repeat(5000)}`)),
    ];
    for (const bytes of samples) {
      expect(isPlainEnvelope(bytes)).toBe(true);
      expect(expectSameAsDecode(bytes)).toBe('ok');
    }
  });

  it('accepts what decodeEnvelope accepts in other forms (through decodeEnvelope)', () => {
    const other = [
      `{"receivedAt":"${AT}","eventId":"e","data":1}`,
      ` {"eventId" : "e", "receivedAt":"${AT}", "data": {"a" : 1} } \n`,
      `{"eventId":"e","receivedAt":"${AT}","data":1,"extra":{"x":[1]}}`,
      `{"eventId":"e","receivedAt":"2026-11-25T16:38:00Z","data":1}`,
      `{"eventId":"e","receivedAt":"2026-11-25T16:38:00.123456789Z","data":1}`,
      `{"eventId":"\\u0065","receivedAt":"${AT}","data":1}`,
    ];
    for (const text of other) {
      expect(isPlainEnvelope(utf8(text))).toBe(false);
      expect(expectSameAsDecode(utf8(text))).toBe('ok');
    }
    // A string is checked as its UTF-8 bytes.
    expect(outcome(() => checkEnvelope(env('e', AT, DATA)))).toBe('ok');
    expect(outcome(() => checkEnvelope('{"x":1}'))).toBe(outcome(() => decodeEnvelope('{"x":1}')));
  });

  // Every defect the one pass looks at, in the form it checks (the rest of the envelope well made).
  const corpus: [string, Uint8Array][] = [
    ['empty', utf8('')],
    ['whitespace only', utf8('  ')],
    ['not JSON', utf8('not json {')],
    ['another writer', utf8('{"id":1,"payload":"x"}')],
    ['empty object', utf8('{}')],
    ['array', utf8('[1]')],
    ['truncated after the prefix', utf8('{"eventId":"')],
    ['truncated in the id', utf8('{"eventId":"abc')],
    ['truncated in the time', utf8(`{"eventId":"e","receivedAt":"2026-11-25T16`)],
    ['truncated before data', utf8(`{"eventId":"e","receivedAt":"${AT}","data":`)],
    ['truncated data', utf8(`{"eventId":"e","receivedAt":"${AT}","data":{"a":1`)],
    ['no closing brace', utf8(`{"eventId":"e","receivedAt":"${AT}","data":1`)],
    ['empty event id', utf8(env('', AT, '1'))],
    ['event id of 129 characters', utf8(env('a'.repeat(129), AT, '1'))],
    ['event id with a space', utf8(env('a b', AT, '1'))],
    ['event id with a slash', utf8(env('a/b', AT, '1'))],
    ['event id with non-ASCII', utf8(env('é', AT, '1'))],
    ['event id not a string', utf8(`{"eventId":1,"receivedAt":"${AT}","data":1}`)],
    ['time without Z', utf8(env('e', '2026-11-25T16:38:00.123', '1'))],
    ['time with lowercase z', utf8(env('e', '2026-11-25T16:38:00.123z', '1'))],
    ['time with an offset', utf8(env('e', '2026-11-25T16:38:00.123+01:00', '1'))],
    ['month 00', utf8(env('e', '2026-00-25T16:38:00.123Z', '1'))],
    ['month 13', utf8(env('e', '2026-13-25T16:38:00.123Z', '1'))],
    ['day 00', utf8(env('e', '2026-11-00T16:38:00.123Z', '1'))],
    ['day 32', utf8(env('e', '2026-11-32T16:38:00.123Z', '1'))],
    ['February 30th', utf8(env('e', '2026-02-30T16:38:00.123Z', '1'))],
    ['April 31st', utf8(env('e', '2026-04-31T16:38:00.123Z', '1'))],
    ['hour 24', utf8(env('e', '2026-11-25T24:00:00.000Z', '1'))],
    ['hour 25', utf8(env('e', '2026-11-25T25:00:00.000Z', '1'))],
    ['minute 60', utf8(env('e', '2026-11-25T16:60:00.000Z', '1'))],
    ['second 60', utf8(env('e', '2026-11-25T16:38:60.000Z', '1'))],
    ['letter in the year', utf8(env('e', '2O26-11-25T16:38:00.123Z', '1'))],
    ['letter in the milliseconds', utf8(env('e', '2026-11-25T16:38:00.12xZ', '1'))],
    ['space for T', utf8(env('e', '2026-11-25 16:38:00.123Z', '1'))],
    ['time not a string', utf8(`{"eventId":"e","receivedAt":1,"data":1}`)],
    ['data missing', utf8(`{"eventId":"e","receivedAt":"${AT}"}`)],
    ['data empty', utf8(`{"eventId":"e","receivedAt":"${AT}","data":}`)],
    ['data with a missing value', utf8(env('e', AT, '{"a":}'))],
    ['data with a trailing comma', utf8(env('e', AT, '[1,]'))],
    ['data with two values', utf8(env('e', AT, '1 2'))],
    ['data number 01', utf8(env('e', AT, '01'))],
    ['data number 1.', utf8(env('e', AT, '1.'))],
    ['data number -', utf8(env('e', AT, '-'))],
    ['data number 1e', utf8(env('e', AT, '1e'))],
    ['data literal tru', utf8(env('e', AT, 'tru'))],
    ['data literal nulll', utf8(env('e', AT, 'nulll'))],
    ['data unterminated string', utf8(env('e', AT, '"abc'))],
    ['data control character', utf8(env('e', AT, '"a\u0001b"'))],
    ['data invalid escape', utf8(env('e', AT, '"a\\xb"'))],
    ['data truncated \\u escape', utf8(env('e', AT, '"\\u12"'))],
    ['data lone high surrogate', utf8(env('e', AT, '"\\ud800"'))],
    ['data lone low surrogate', utf8(env('e', AT, '"\\udc00x"'))],
    ['data unclosed object', utf8(env('e', AT, '{"a":1'))],
    ['data unclosed array', utf8(env('e', AT, '[1'))],
    ['data mismatched close', utf8(env('e', AT, '[1}'))],
    ['duplicate data', utf8(`{"eventId":"e","receivedAt":"${AT}","data":1,"data":2}`)],
    ['duplicate eventId', utf8(`{"eventId":"e","receivedAt":"${AT}","data":1,"eventId":"f"}`)],
    ['garbage after the envelope', utf8(`${env('e', AT, '1')}x`)],
    ['second envelope after the first', utf8(`${env('e', AT, '1')}${env('e', AT, '1')}`)],
    ['invalid UTF-8 in data', Buffer.concat([utf8(env('e', AT, '"a')), Buffer.from([0xff]), utf8('"}')])],
    [
      'overlong UTF-8 in data',
      Buffer.concat([utf8(env('e', AT, '"')), Buffer.from([0xc0, 0xaf]), utf8('"}')]),
    ],
    [
      'UTF-8 surrogate in data',
      Buffer.concat([utf8(env('e', AT, '"')), Buffer.from([0xed, 0xa0, 0x80]), utf8('"}')]),
    ],
    [
      'truncated UTF-8 in data',
      Buffer.concat([utf8(env('e', AT, '"')), Buffer.from([0xe2, 0x82]), utf8('"}')]),
    ],
    [
      'invalid UTF-8 in the id',
      Buffer.concat([utf8('{"eventId":"'), Buffer.from([0xff]), utf8(`","receivedAt":"${AT}","data":1}`)]),
    ],
    ['NUL after the envelope', Buffer.concat([utf8(env('e', AT, '1')), Buffer.from([0])])],
  ];

  it.each(corpus)('refuses %s with the error decodeEnvelope gives', (_name, bytes) => {
    const result = expectSameAsDecode(bytes);
    if (!['February 30th', 'April 31st', 'hour 24'].includes(_name)) {
      expect(result).toMatch(/^EnvelopeDecodeError \| Not an event envelope: /);
      expect(() => checkEnvelope(bytes)).toThrow(EnvelopeDecodeError);
    }
  });

  it('ends as decodeEnvelope does on mutated envelopes (seeded)', () => {
    const seed = testSeed('checkEnvelope mutations');
    const random = seededRandom(seed);
    const bases = [
      env('evt-0001', AT, DATA),
      env('a'.repeat(127), '2026-02-28T23:59:59.999Z', '[1,"x",{"y":[true,false,null]},"\\ud83d\\ude00"]'),
      env('e', '2026-01-31T00:00:00.000Z', '"\\u00e9\\n"'),
    ];
    const alphabet = '{}[]":,.-+eE0123456789aAzZT \\u\n\u00e9/';
    let accepted = 0;
    let refused = 0;
    for (let i = 0; i < 6000; i++) {
      let bytes = utf8(mutate(bases[i % bases.length]!, random, alphabet, 3));
      if (i % 5 === 0 && bytes.length > 0) {
        // A raw byte edit too: breaks UTF-8 where a string edit cannot.
        bytes = new Uint8Array(bytes);
        bytes[Math.floor(random() * bytes.length)] = Math.floor(random() * 256);
      }
      if (expectSameAsDecode(bytes) === 'ok') accepted++;
      else refused++;
    }
    // Both ways were taken many times (a check of the test itself).
    expect(accepted).toBeGreaterThan(100);
    expect(refused).toBeGreaterThan(1000);
  });
});
