import { mutate, seededRandom, testSeed } from '@shardline/test-kit';
import { describe, expect, it } from 'vitest';
import { JsonSyntaxError } from '../../src/errors.js';
import { compactJsonLength, copyCompactJson, JsonScanner } from '../../src/json/JsonScanner.js';
import { parseIngestBody } from '../../src/json/parseIngestBody.js';

function scan(input: string | Uint8Array, maxDepth = 64) {
  const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  const s = new JsonScanner(bytes);
  s.skipValue(maxDepth);
  s.expectEnd();
  return s;
}

function accepts(input: string | Uint8Array): boolean {
  try {
    return scan(input).issueCount === 0;
  } catch (error) {
    if (error instanceof JsonSyntaxError) return false;
    throw error;
  }
}

describe('JsonScanner', () => {
  it.each([
    '0',
    '-0',
    '1.5e+10',
    '1E-2',
    '123456789012345678901234567890',
    '"a\\"b\\\\c\\/d\\b\\f\\n\\r\\t\\u00e9"',
    'true',
    'false',
    'null',
    ' [ 1 , { "a" : [ ] , "b" : { } } ] ',
    '"\\ud83d\\ude00"',
    '"Zoë 東京 😀"',
    '{"":""}',
  ])('accepts %s', (text) => {
    expect(accepts(text)).toBe(true);
  });

  it.each([
    '',
    ' ',
    '01',
    '-',
    '1.',
    '.5',
    '1e',
    '+1',
    '0x10',
    'NaN',
    'Infinity',
    'tru',
    'nul',
    'truex',
    '[1,]',
    '{"a":1,}',
    '{"a" 1}',
    '{a:1}',
    "'a'",
    '"a',
    '"\\x"',
    '"\\u12"',
    '"\\u12G4"',
    '[1 2]',
    '[1] [2]',
    '{"a":1}}',
    '"tab\there"',
    '"new\nline"',
  ])('rejects %j as a syntax error', (text) => {
    expect(() => scan(text)).toThrow(JsonSyntaxError);
  });

  it('reports the byte offset of a syntax error', () => {
    try {
      scan('{"a": [1, 2,, 3]}');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(JsonSyntaxError);
      expect((error as JsonSyntaxError).offset).toBe(12);
    }
  });

  it.each([
    ['overlong 2-byte', [0xc0, 0x80]],
    ['overlong 2-byte C1', [0xc1, 0xbf]],
    ['overlong 3-byte', [0xe0, 0x80, 0x80]],
    ['overlong 4-byte', [0xf0, 0x80, 0x80, 0x80]],
    ['UTF-8 encoded high surrogate', [0xed, 0xa0, 0x80]],
    ['UTF-8 encoded low surrogate', [0xed, 0xbf, 0xbf]],
    ['beyond U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
    ['F5 lead byte', [0xf5, 0x80, 0x80, 0x80]],
    ['lone continuation byte', [0x80]],
    ['truncated 3-byte', [0xe6, 0x9d]],
    ['truncated 4-byte', [0xf0, 0x9f, 0x98]],
    ['FF byte', [0xff]],
  ])('reports invalid UTF-8 in a string (%s) as one issue', (_name, seq) => {
    const bytes = Buffer.concat([Buffer.from('"a'), Buffer.from(seq), Buffer.from('b"')]);
    const s = scan(bytes);
    expect(s.issueCount).toBe(1);
    expect(s.issues[0]!.message).toMatch(/Invalid UTF-8/);
    expect(s.issues[0]!.offset).toBe(2);
  });

  it.each([
    ['U+0080', [0xc2, 0x80]],
    ['U+07FF', [0xdf, 0xbf]],
    ['U+0800', [0xe0, 0xa0, 0x80]],
    ['U+D7FF', [0xed, 0x9f, 0xbf]],
    ['U+E000', [0xee, 0x80, 0x80]],
    ['U+FFFF', [0xef, 0xbf, 0xbf]],
    ['U+10000', [0xf0, 0x90, 0x80, 0x80]],
    ['U+10FFFF', [0xf4, 0x8f, 0xbf, 0xbf]],
  ])(
    'accepts valid UTF-8 at the edges (%s), also when the input has invalid bytes elsewhere',
    (_name, seq) => {
      // The second string holds a bad byte, so the scanner validates byte by byte instead of trusting isUtf8.
      const bytes = Buffer.concat([
        Buffer.from('["'),
        Buffer.from(seq),
        Buffer.from('","'),
        Buffer.from([0xff]),
        Buffer.from('"]'),
      ]);
      const s = scan(bytes);
      expect(s.issueCount).toBe(1);
      expect(s.issues[0]!.offset).toBe(2 + seq.length + 3);
    },
  );

  it('rejects non-ASCII bytes outside strings as syntax errors', () => {
    expect(() => scan(Buffer.from([0x5b, 0xc3, 0xa9, 0x5d]))).toThrow(JsonSyntaxError);
  });

  it.each([
    ['a lone high surrogate', '"\\ud83d"'],
    ['a high surrogate before a letter', '"\\ud83dx"'],
    ['two high surrogates', '"\\ud83d\\ud83d"'],
    ['a lone low surrogate', '"\\ude00"'],
    ['a low before a high', '"\\ude00\\ud83d"'],
  ])('reports %s as an issue', (_name, text) => {
    const s = scan(text);
    expect(s.issueCount).toBeGreaterThanOrEqual(1);
    expect(s.issues[0]!.message).toMatch(/Lone surrogate/);
  });

  it('counts depth with [] as level 1, reporting once past the limit', () => {
    const depth = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;
    expect(scan(depth(64)).issueCount).toBe(0);
    const s = scan(depth(65));
    expect(s.issueCount).toBe(1);
    expect(s.issues[0]!.message).toMatch(/deeper than 64/);
    expect(scan('1').issueCount).toBe(0);
    expect(scan(`[${depth(63)}, {"a": ${depth(62)}}]`).issueCount).toBe(0);
    expect(scan(`[${depth(63)}, {"a": ${depth(63)}}]`).issueCount).toBe(1);
  });

  it('reads 200,000 levels of nesting without overflowing the stack', () => {
    const s = scan(`${'['.repeat(200_000)}${']'.repeat(200_000)}`, Number.MAX_SAFE_INTEGER);
    expect(s.issueCount).toBe(0);
  });

  const seed = testSeed('JsonScanner fuzz');
  it(`agrees with JSON.parse on random mutations of valid documents (SEED=${seed})`, () => {
    const random = seededRandom(seed);
    const corpus = [
      '{"records":[{"data":{"a":[1,2.5,-3e2,true,false,null,"x\\ny"]},"eventId":"e"}]}',
      '[{"k":"v"},[],{},"",0,-0.0,1E5]',
      '{"nested":{"deeper":{"deepest":[[[]]]}}}',
    ];
    // ASCII only and no `\u` escapes (JSON.parse accepts lone surrogates, which the scanner rejects).
    const alphabet = '{}[]:,"\\ 0123456789-+.eEtrufalsn\tabc';
    let agreed = 0;
    for (let i = 0; i < 5000; i++) {
      const text = mutate(corpus[i % corpus.length]!, random, alphabet, 3);
      if (/\\u/.test(text)) continue;
      let parses: boolean;
      try {
        JSON.parse(text);
        parses = true;
      } catch {
        parses = false;
      }
      expect(accepts(text), `seed ${seed}, input ${JSON.stringify(text)}`).toBe(parses);
      agreed += 1;
    }
    expect(agreed).toBeGreaterThan(4000);
  });
});

describe('copyCompactJson', () => {
  it('drops whitespace outside strings only', () => {
    const text = ' { "a b" : [ 1 ,\n\t2 ] , "c\\" d" : "  " } ';
    const bytes = Buffer.from(text);
    const out = Buffer.alloc(bytes.length);
    const end = copyCompactJson(bytes, 0, bytes.length, out, 0);
    expect(out.subarray(0, end).toString()).toBe('{"a b":[1,2],"c\\" d":"  "}');
    expect(compactJsonLength(bytes, 0, bytes.length)).toBe(end);
    expect(JSON.parse(out.subarray(0, end).toString())).toEqual(JSON.parse(text));
  });
});

describe('parseIngestBody', () => {
  it('records the byte span of each data value and whether it holds whitespace', () => {
    const text = '{"records":[{"data":{"a":1}},{"eventId":"x","data": [ 1 ] ,"partitionKey":"k"}]}';
    const parsed = parseIngestBody(Buffer.from(text), true);
    expect(parsed.kind).toBe('ok');
    if (parsed.kind !== 'ok') return;
    const [a, b] = parsed.records;
    expect(text.slice(a!.dataStart, a!.dataEnd)).toBe('{"a":1}');
    expect(a!.dataHasWhitespace).toBe(false);
    expect(text.slice(b!.dataStart, b!.dataEnd)).toBe('[ 1 ]');
    expect(b!.dataHasWhitespace).toBe(true);
    expect(b!.partitionKey).toBe('k');
    expect(b!.eventId).toBe('x');
  });

  it('decodes escaped field names and values', () => {
    const parsed = parseIngestBody(
      Buffer.from('{"d\\u0061ta":1,"partitionKey":"\\u00e9\\ud83d\\ude00"}'),
      false,
    );
    expect(parsed).toMatchObject({ kind: 'ok', records: [{ partitionKey: 'é😀' }] });
  });

  it('bounds the problem list and counts the rest', () => {
    const records = Array.from({ length: 500 }, () => '{"a":1,"b":2,"c":3}');
    const parsed = parseIngestBody(Buffer.from(`{"records":[${records.join(',')}]}`), true, 1000);
    expect(parsed.kind).toBe('invalid');
    if (parsed.kind !== 'invalid') return;
    expect(parsed.problems).toHaveLength(1000);
    expect(parsed.problemCount).toBe(2000);
  });

  it('gives the path where a syntax error happened', () => {
    const parsed = parseIngestBody(Buffer.from('{"records":[{"data":1},{"data":[1,}]}'), true);
    expect(parsed).toMatchObject({ kind: 'syntax', problems: [{ path: '/records/1/data' }] });
  });
});

describe('JsonScanner on a slice of a larger buffer', () => {
  it.each([
    ['a literal', 'tr', 'ue'],
    ['an escape', '"a\\', 'n"'],
    ['a surrogate pair', '"\\ud83d', '\\ude00"'],
    ['a number', '12', '34'],
  ])('never reads past the end (%s cut short)', (_name, head, tail) => {
    const bytes = Buffer.from(head + tail);
    const s = new JsonScanner(bytes, 0, head.length);
    let outcome: 'syntax' | 'issue' | 'ok';
    try {
      s.skipValue(64);
      s.expectEnd();
      outcome = s.issueCount > 0 ? 'issue' : 'ok';
    } catch (error) {
      expect(error).toBeInstanceOf(JsonSyntaxError);
      outcome = 'syntax';
    }
    // A cut number is still a (shorter) number; everything else is incomplete.
    expect(outcome).toBe(head === '12' ? 'ok' : 'syntax');
  });
});
