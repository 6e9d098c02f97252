import { createReadStream } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { CsvRecordSplitter, type RawRecord } from './CsvRecordSplitter.js';

/** A data row: its values by column index. */
export interface CsvRow {
  readonly kind: 'row';
  /** 1-based number of the data record (the header is not counted; empty lines are skipped). */
  readonly rowNumber: number;
  /** Physical line where the row starts. */
  readonly line: number;
  readonly values: readonly string[];
}

/** A record that could not be parsed. */
export interface CsvReject {
  readonly kind: 'reject';
  readonly rowNumber: number;
  /** Physical line where the bad record starts. */
  readonly line: number;
  readonly endLine: number;
  readonly reason: string;
  readonly raw: string;
}

/** What {@link readCsv} yields after the header. */
export type CsvItem = CsvRow | CsvReject;

/** The header was missing or unusable: the file cannot be replayed. */
export class CsvHeaderError extends Error {}

const PARSE_OPTIONS = { record_delimiter: '\n', relax_column_count: true, skip_empty_lines: false } as const;

function parseOne(text: string): string[] {
  const records = parse(text, PARSE_OPTIONS) as string[][];
  if (records.length !== 1) throw new Error(`holds ${records.length} records`);
  return records[0]!;
}

/** csv-parse's messages name its own line in our one-record input: drop that, we report the physical one. */
function reasonOf(error: unknown): string {
  const message = (error as Error).message ?? String(error);
  return message.replace(/\s*(?:at|on) line \d+/g, '').replace(/\s+$/, '');
}

/**
 * Reads a CSV file: UTF-8 (a byte-order mark is dropped; a record that is not UTF-8 is a reject), `,` separated, fields quoted with `"` (commas,
 * quotes and newlines inside), `\n` or `\r\n` line ends. The first record is the header. Yields every
 * later record as a row or, when it cannot be parsed or has the wrong number of fields, a reject with its
 * physical line and the reason; empty lines are skipped. Values stay strings. A record over
 * `maxRecordBytes` is a reject too, and is never held whole in memory.
 *
 * @throws {@link CsvHeaderError} when the header is missing, unparsable, or has empty or duplicate names.
 */
export async function* readCsv(
  path: string,
  onHeader: (columns: readonly string[]) => void,
  maxRecordBytes?: number,
): AsyncGenerator<CsvItem> {
  const splitter = new CsvRecordSplitter(maxRecordBytes);
  let columns: string[] | undefined;
  let rowNumber = 0;

  function* handle(records: RawRecord[]): Generator<CsvItem> {
    const pending: RawRecord[] = [];
    for (const record of records) {
      if (record.text === '' && record.problem === undefined) continue;
      if (columns === undefined) {
        if (record.problem !== undefined)
          throw new CsvHeaderError(`The header (line ${record.line}) cannot be parsed: ${record.problem}`);
        let names: string[];
        try {
          names = parseOne(record.text);
        } catch (error) {
          throw new CsvHeaderError(`The header (line ${record.line}) cannot be parsed: ${reasonOf(error)}`);
        }
        const seen = new Set<string>();
        for (const name of names) {
          if (name.trim() === '')
            throw new CsvHeaderError(`The header (line ${record.line}) has an empty column name`);
          if (seen.has(name))
            throw new CsvHeaderError(`The header (line ${record.line}) names column "${name}" twice`);
          seen.add(name);
        }
        columns = names;
        onHeader(names);
        continue;
      }
      pending.push(record);
    }
    if (pending.length === 0) return;
    // Fast path: parse the chunk's records in one call; on any trouble, parse them one by one.
    let parsed: string[][] | undefined;
    if (pending.every((r) => r.problem === undefined)) {
      try {
        parsed = parse(pending.map((r) => r.text).join('\n'), PARSE_OPTIONS) as string[][];
        if (parsed.length !== pending.length) parsed = undefined;
      } catch {
        parsed = undefined;
      }
    }
    for (let i = 0; i < pending.length; i++) {
      const record = pending[i]!;
      rowNumber += 1;
      const reject = (reason: string): CsvReject => ({
        kind: 'reject',
        rowNumber,
        line: record.line,
        endLine: record.endLine,
        reason,
        raw: record.text,
      });
      if (record.problem !== undefined) {
        yield reject(record.problem);
        continue;
      }
      let values: string[];
      try {
        values = parsed?.[i] ?? parseOne(record.text);
      } catch (error) {
        yield reject(reasonOf(error));
        continue;
      }
      if (values.length !== columns!.length) {
        yield reject(`has ${values.length} fields, the header has ${columns!.length}`);
        continue;
      }
      yield { kind: 'row', rowNumber, line: record.line, values };
    }
  }

  for await (const chunk of createReadStream(path, { highWaterMark: 256 * 1024 })) {
    yield* handle(splitter.push(chunk as Buffer));
  }
  yield* handle(splitter.end());
  if (columns === undefined) throw new CsvHeaderError('The file has no header line');
}
