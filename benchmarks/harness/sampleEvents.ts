import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The repository's e-commerce sample (provenance in `data/README.md` at the repository root). */
export const ECOMMERCE_SAMPLE_PATH = join(
  import.meta.dirname,
  '..',
  '..',
  'data',
  'ecommerce-events-2019-10-sample.csv',
);

const COLUMNS = [
  'event_time',
  'event_type',
  'product_id',
  'category_id',
  'category_code',
  'brand',
  'price',
  'user_id',
  'user_session',
] as const;

/** One row of the e-commerce sample. `category_id` stays a string: it exceeds 2^53. */
export interface EcommerceRow {
  readonly event_time: string;
  readonly event_type: string;
  readonly product_id: string;
  readonly category_id: string;
  readonly category_code: string;
  readonly brand: string;
  readonly price: string;
  readonly user_id: string;
  readonly user_session: string;
}

/**
 * Parses the e-commerce sample CSV (no quoted fields in this file: a quote is rejected rather than
 * misread). Pure.
 *
 * @throws Error naming the line of a malformed row.
 */
export function parseEcommerceCsv(text: string): EcommerceRow[] {
  const lines = text.split(/\r?\n/).filter((line) => line.length > 0);
  const header = lines[0]?.replace(/^\uFEFF/, '');
  if (header !== COLUMNS.join(',')) throw new Error(`unexpected header: ${header}`);
  return lines.slice(1).map((line, index) => {
    if (line.includes('"')) throw new Error(`line ${index + 2}: quoted fields are not supported`);
    const cells = line.split(',');
    if (cells.length !== COLUMNS.length) {
      throw new Error(`line ${index + 2}: ${cells.length} fields, expected ${COLUMNS.length}`);
    }
    return Object.fromEntries(COLUMNS.map((c, i) => [c, cells[i]!])) as unknown as EcommerceRow;
  });
}

/** An event as the ingest API would put it on the stream. */
export interface SampleEvent {
  readonly partitionKey: string;
  /** UTF-8 JSON. */
  readonly data: Uint8Array;
}

/**
 * `count` realistic events: the sample's rows in order, repeated, each as the JSON a client would POST
 * (ISO time, price as a number, empty fields as null) with a unique `event_id`, partitioned by user
 * session. About 330 bytes each.
 */
export function sampleEvents(count: number, rows: readonly EcommerceRow[] = loadSampleRows()): SampleEvent[] {
  if (rows.length === 0) throw new Error('no sample rows');
  const encoder = new TextEncoder();
  const events: SampleEvent[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const row = rows[i % rows.length]!;
    const body = {
      event_id: `evt-${i.toString(36).padStart(8, '0')}`,
      event_time: `${row.event_time.slice(0, 10)}T${row.event_time.slice(11, 19)}Z`,
      event_type: row.event_type,
      product_id: row.product_id,
      category_id: row.category_id,
      category_code: row.category_code || null,
      brand: row.brand || null,
      price: Number(row.price),
      user_id: row.user_id,
      user_session: row.user_session,
    };
    events[i] = { partitionKey: row.user_session || row.user_id, data: encoder.encode(JSON.stringify(body)) };
  }
  return events;
}

/** Reads and parses the shipped e-commerce sample. */
export function loadSampleRows(path = ECOMMERCE_SAMPLE_PATH): EcommerceRow[] {
  return parseEcommerceCsv(readFileSync(path, 'utf8'));
}
