import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CsvRecordSplitter } from '../../src/cli/CsvRecordSplitter.js';
import { CsvHeaderError, type CsvItem, readCsv } from '../../src/cli/readCsv.js';

const dir = mkdtempSync(join(tmpdir(), 'producer-csv-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

async function read(content: string | Buffer): Promise<{ columns: readonly string[]; items: CsvItem[] }> {
  const path = join(dir, `f${n++}.csv`);
  writeFileSync(path, content);
  let columns: readonly string[] = [];
  const items: CsvItem[] = [];
  for await (const item of readCsv(path, (c) => {
    columns = c;
  }))
    items.push(item);
  return { columns, items };
}

async function readWithLimit(content: string, maxRecordBytes: number) {
  const path = join(dir, `f${n++}.csv`);
  writeFileSync(path, content);
  const items: CsvItem[] = [];
  for await (const item of readCsv(path, () => {}, maxRecordBytes)) items.push(item);
  return { items };
}

describe('readCsv', () => {
  it('drops a UTF-8 BOM, keeps quoted commas, quotes and newlines, handles CRLF', async () => {
    const { columns, items } = await read(
      '\uFEFFa,b,c\r\n1,"x, y",3\r\n4,"multi\r\nline ""quoted""",6\r\n7,8,9',
    );
    expect(columns).toEqual(['a', 'b', 'c']);
    expect(items).toEqual([
      { kind: 'row', rowNumber: 1, line: 2, values: ['1', 'x, y', '3'] },
      { kind: 'row', rowNumber: 2, line: 3, values: ['4', 'multi\r\nline "quoted"', '6'] },
      { kind: 'row', rowNumber: 3, line: 5, values: ['7', '8', '9'] },
    ]);
  });

  it('keeps numbers beyond 2^53 as strings, digit for digit', async () => {
    const { items } = await read('id,price\n2103807459595387724,35.79\n');
    expect(items[0]).toMatchObject({ values: ['2103807459595387724', '35.79'] });
  });

  it('reports malformed records with their physical line after a quoted field spanning lines, and goes on', async () => {
    const csv = [
      'a,b,c', // 1
      '1,"two', // 2
      'lines",3', // 3
      '4,"bad"x,6', // 4: invalid closing quote
      '7,8,9', // 5
      '10,11', // 6: too few fields
      '', // 7: empty, skipped
      '12,"p,q",13', // 8
      '14,15,16,17', // 9: too many fields
      '18,19,20', // 10
    ].join('\r\n');
    const { items } = await read(csv);
    const summary = items.map((i) =>
      i.kind === 'row'
        ? `row ${i.rowNumber} line ${i.line}`
        : `reject ${i.rowNumber} line ${i.line}: ${i.reason}`,
    );
    expect(summary).toEqual([
      'row 1 line 2',
      expect.stringMatching(/^reject 2 line 4: Invalid Closing Quote/),
      'row 3 line 5',
      'reject 4 line 6: has 2 fields, the header has 3',
      'row 5 line 8',
      'reject 6 line 9: has 4 fields, the header has 3',
      'row 7 line 10',
    ]);
    const reject = items[1];
    expect(reject).toMatchObject({ kind: 'reject', raw: '4,"bad"x,6', endLine: 4 });
  });

  it('an unclosed quote costs only its first line: the rows after it are still read', async () => {
    const { items } = await read('a,b\n1,2\n3,"never closed\n5,6\n7,8\n');
    expect(items.map((i) => (i.kind === 'row' ? `row ${i.line}` : `reject ${i.line}`))).toEqual([
      'row 2',
      'reject 3',
      'row 4',
      'row 5',
    ]);
    expect(items[1]).toMatchObject({
      reason: 'a quoted field opened on line 3 is never closed',
      raw: '3,"never closed',
    });
  });

  it('counts lines right when chunks split a CRLF, a quote pair or a multi-byte character', () => {
    const text = Buffer.from('\uFEFFh1,h2\r\n"a ""q""",é\r\n"x\r\ny",z\r\n');
    for (let cut = 1; cut < text.length; cut++) {
      const splitter = new CsvRecordSplitter();
      const records = [
        ...splitter.push(text.subarray(0, cut)),
        ...splitter.push(text.subarray(cut)),
        ...splitter.end(),
      ];
      expect(records.map((r) => [r.text, r.line, r.endLine])).toEqual([
        ['h1,h2', 1, 1],
        ['"a ""q""",é', 2, 2],
        ['"x\r\ny",z', 3, 4],
      ]);
    }
  });

  it('rejects a header with duplicate or empty names, and a file without a header', async () => {
    await expect(read('a,a\n1,2\n')).rejects.toBeInstanceOf(CsvHeaderError);
    await expect(read('a,,c\n1,2,3\n')).rejects.toBeInstanceOf(CsvHeaderError);
    await expect(read('')).rejects.toThrow(/no header/);
  });

  it('reads both sample files without a reject', async () => {
    for (const [file, rows, columns] of [
      ['ecommerce-events-2019-10-sample.csv', 1_000, 9],
      ['online-retail-2010-12-sample.csv', 400, 8],
    ] as const) {
      const path = new URL(`../../../../data/${file}`, import.meta.url).pathname;
      let header: readonly string[] = [];
      const items: CsvItem[] = [];
      for await (const item of readCsv(path, (c) => {
        header = c;
      }))
        items.push(item);
      expect(header).toHaveLength(columns);
      expect(items.filter((i) => i.kind === 'reject')).toEqual([]);
      expect(items).toHaveLength(rows);
    }
  });

  it('a record with bytes that are not UTF-8 is a reject with its physical line; the next rows are read', async () => {
    const csv = Buffer.concat([
      Buffer.from('a,b\n1,ok\n2,"bad '),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('"\n3,é\n4,'),
      Buffer.from([0xe2, 0x82]), // a cut 3-byte sequence
      Buffer.from('\n5,\uFFFD is a real character\n'),
    ]);
    const { items } = await read(csv);
    expect(items.map((i) => (i.kind === 'row' ? `row ${i.line}` : `reject ${i.line}: ${i.reason}`))).toEqual([
      'row 2',
      'reject 3: is not valid UTF-8 (byte 8 of the record)',
      'row 4',
      'reject 5: is not valid UTF-8 (byte 3 of the record)',
      'row 6',
    ]);
    expect(items[2]).toMatchObject({ values: ['3', 'é'] });
    expect(items[4]).toMatchObject({ values: ['5', '\uFFFD is a real character'] });
  });

  it('a line over the limit is a reject and is never buffered whole; the rows after it are read', async () => {
    const long = 'x'.repeat(5_000);
    const { items } = await readWithLimit(`a,b\n1,2\n3,${long}\n4,5\n`, 1_000);
    expect(items.map((i) => (i.kind === 'row' ? `row ${i.line}` : `reject ${i.line}`))).toEqual([
      'row 2',
      'reject 3',
      'row 4',
    ]);
    expect(items[1]).toMatchObject({ reason: 'the line is longer than the limit of 1000 bytes' });
    expect((items[1] as { raw: string }).raw.length).toBeLessThan(300);
  });

  it('a file without line breaks: one reject, memory bounded by the limit (64 MiB fed in 256 KiB chunks)', () => {
    const limit = 1_048_576;
    const splitter = new CsvRecordSplitter(limit);
    const chunk = Buffer.alloc(256 * 1024, 0x61);
    const records = [...splitter.push(Buffer.from('a,b\n'))];
    const heapBefore = process.memoryUsage().heapUsed;
    for (let i = 0; i < 256; i++) records.push(...splitter.push(chunk));
    records.push(...splitter.end());
    const grewBytes = process.memoryUsage().heapUsed - heapBefore;
    expect(records.map((r) => [r.line, r.problem])).toEqual([
      [1, undefined],
      [2, `the line is longer than the limit of ${limit} bytes`],
    ]);
    expect(grewBytes).toBeLessThan(16 * 1_048_576);
  });

  it('a quoted field past the limit costs its first line only', async () => {
    const { items } = await readWithLimit(
      `a,b\n1,"open\n${'y'.repeat(600)}\n${'z'.repeat(600)}\n2,3\n`,
      1_000,
    );
    expect(items[0]).toMatchObject({
      kind: 'reject',
      line: 2,
      reason: 'a quoted field opened on line 2 runs past the limit of 1000 bytes (unclosed quote?)',
    });
    expect(items.at(-1)).toMatchObject({ kind: 'row', line: 5, values: ['2', '3'] });
  });
});
