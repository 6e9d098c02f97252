import { Buffer } from 'node:buffer';
import { existsSync, readFileSync, truncateSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { RangeSet } from './RangeSet.js';

/** The journal belongs to another source, or is damaged. */
export class JournalError extends Error {}

interface JournalHeader {
  readonly journal: 1;
  readonly sourceId: string;
  readonly file: string;
}

/**
 * Which rows of a replay were acknowledged, as a JSONL file: a header line naming the source, then
 * lines `{"acked":[[from,to],...]}` appended as acknowledgements come in. A replay that was killed
 * resumes by skipping exactly the rows found here; rows acknowledged after the last line was written are
 * sent again, with the same event ids. A torn last line (the process died while writing it) is ignored.
 */
export class Journal {
  /** Rows acknowledged in earlier runs and in this one (written or not yet). */
  readonly acked: RangeSet;
  readonly #path: string;
  readonly #file: FileHandle;
  readonly #unwritten = new RangeSet();
  #tail: Promise<void> = Promise.resolve();
  /** Rows found in the file when it was opened. */
  readonly resumedRows: number;
  /** Called before each write with (rows acknowledged so far, rows written so far); may delay the write. */
  beforeWrite: ((ackedRows: number, writtenRows: number) => Promise<void> | void) | undefined;
  #writtenRows: number;
  #failure: JournalError | undefined;

  private constructor(path: string, file: FileHandle, acked: RangeSet) {
    this.#path = path;
    this.#file = file;
    this.acked = acked;
    this.resumedRows = acked.size;
    this.#writtenRows = acked.size;
  }

  /** The journal's path. */
  get path(): string {
    return this.#path;
  }

  /** Rows whose acknowledgement is in the file. */
  get writtenRows(): number {
    return this.#writtenRows;
  }

  /**
   * Opens (or creates) the journal of `sourceId`.
   *
   * @throws JournalError when the file belongs to another source or a line other than the last is damaged.
   */
  static async open(path: string, sourceId: string, file: string): Promise<Journal> {
    const acked = new RangeSet();
    const exists = existsSync(path);
    if (exists) {
      const text = readFileSync(path, 'utf8');
      const lines = text.split('\n');
      const isTornLast = !text.endsWith('\n');
      lines.forEach((line, i) => {
        if (line === '') return;
        let parsed: unknown;
        try {
          parsed = JSON.parse(line);
        } catch {
          // Only the last line can be torn by a kill mid-write; anything else is damage.
          if (isTornLast && i === lines.length - 1) return;
          throw new JournalError(`${path}: line ${i + 1} is not JSON`);
        }
        if (i === 0) {
          const header = parsed as JournalHeader;
          if (header.journal !== 1) throw new JournalError(`${path} is not a shardline-produce journal`);
          if (header.sourceId !== sourceId) {
            throw new JournalError(
              `${path} is the journal of another source (${header.file}, id ${header.sourceId}); this file's id is ${sourceId}`,
            );
          }
          return;
        }
        const ranges = (parsed as { acked?: unknown }).acked;
        if (!Array.isArray(ranges)) throw new JournalError(`${path}: line ${i + 1} has no "acked" list`);
        for (const range of ranges) {
          if (!Array.isArray(range) || !Number.isSafeInteger(range[0]) || !Number.isSafeInteger(range[1])) {
            throw new JournalError(`${path}: line ${i + 1} has a bad range`);
          }
          acked.addRange(range[0], range[1]);
        }
      });
    }
    if (exists) {
      // Cut a torn last line off, so that the next line starts clean.
      const bytes = readFileSync(path);
      if (bytes.length > 0 && bytes[bytes.length - 1] !== 0x0a)
        truncateSync(path, bytes.lastIndexOf(0x0a) + 1);
    }
    const handle = await open(path, 'a');
    const journal = new Journal(path, handle, acked);
    if (!exists || readFileSync(path).length === 0) {
      const header: JournalHeader = { journal: 1, sourceId, file };
      await handle.write(`${JSON.stringify(header)}\n`);
    }
    return journal;
  }

  /** Records that `rowNumber` was acknowledged (written to the file by the next {@link Journal.write}). */
  ack(rowNumber: number): void {
    this.acked.add(rowNumber);
    this.#unwritten.add(rowNumber);
  }

  /** Rows acknowledged but not yet in the file. */
  get unwrittenRows(): number {
    return this.#unwritten.size;
  }

  /** The first failed write, after which the journal takes no more writes. */
  get failure(): JournalError | undefined {
    return this.#failure;
  }

  /**
   * Appends the acknowledgements not yet written, as one line. Serialized.
   *
   * @throws JournalError when the write fails (a full disk, an I/O error); every later write then
   * rejects with the same error, and the rows not written stay out of the file (a rerun sends them
   * again, with the same event ids).
   */
  write(): Promise<void> {
    this.#tail = this.#tail.then(async () => {
      if (this.#failure !== undefined) throw this.#failure;
      if (this.#unwritten.size === 0) return;
      try {
        await this.beforeWrite?.(this.acked.size, this.#writtenRows);
        const count = this.#unwritten.size;
        const ranges = this.#unwritten.drain();
        await this.#file.write(Buffer.from(`${JSON.stringify({ acked: ranges })}\n`, 'utf8'));
        this.#writtenRows += count;
      } catch (error) {
        this.#failure = new JournalError(
          `cannot write the journal ${this.#path}: ${(error as Error)?.message ?? String(error)}`,
          { cause: error },
        );
        throw this.#failure;
      }
    });
    return this.#tail;
  }

  /**
   * Writes what is left, syncs and closes the file (the file is closed even when the write fails).
   *
   * @throws JournalError when the last write or the sync fails.
   */
  async close(): Promise<void> {
    try {
      await this.write();
      await this.#file.sync().catch((error: unknown) => {
        throw new JournalError(
          `cannot sync the journal ${this.#path}: ${(error as Error)?.message ?? String(error)}`,
          { cause: error },
        );
      });
    } finally {
      await this.#file.close().catch(() => {});
    }
  }
}
