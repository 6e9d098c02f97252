import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';

/**
 * Reads Parquet files with DuckDB (an independent reader): every row of every file as a plain object
 * (`BIGINT` as bigint, `receivedAt` also as epoch milliseconds in `receivedAtMs`), in file order, with
 * the file's name in `file`. Also returns each file's schema as DuckDB sees it.
 */
export async function readParquet(files: readonly { name: string; bytes: Uint8Array }[]): Promise<{
  rows: Record<string, unknown>[];
  schemas: Map<
    string,
    { name: string; type: string | null; converted_type: string | null; repetition_type: string | null }[]
  >;
  rowGroups: Map<string, number>;
}> {
  const dir = await mkdtemp(join(tmpdir(), 'parquet-read-'));
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const paths: string[] = [];
    for (const [i, file] of files.entries()) {
      const path = join(dir, `${i}.parquet`);
      await writeFile(path, file.bytes);
      paths.push(path);
    }
    const rows: Record<string, unknown>[] = [];
    const schemas = new Map<
      string,
      { name: string; type: string | null; converted_type: string | null; repetition_type: string | null }[]
    >();
    const rowGroups = new Map<string, number>();
    for (const [i, path] of paths.entries()) {
      const name = files[i]!.name;
      const read = await connection.runAndReadAll(
        `SELECT *, epoch_ms(receivedAt) AS receivedAtMs FROM read_parquet('${path}')`,
      );
      for (const row of read.getRowObjects()) rows.push({ ...row, file: name });
      const schema = await connection.runAndReadAll(
        `SELECT name, type, converted_type, repetition_type FROM parquet_schema('${path}')`,
      );
      schemas.set(name, schema.getRowObjects() as never);
      const groups = await connection.runAndReadAll(
        `SELECT count(DISTINCT row_group_id) AS n FROM parquet_metadata('${path}')`,
      );
      rowGroups.set(name, Number(groups.getRowObjects()[0]!.n));
    }
    return { rows, schemas, rowGroups };
  } finally {
    connection.closeSync();
    instance.closeSync();
    await rm(dir, { recursive: true, force: true });
  }
}
