import { Buffer, isUtf8 } from 'node:buffer';

/** One CSV record's raw text and where it is in the file. */
export interface RawRecord {
  /** The record's text without its line terminator (quoted newlines kept). */
  readonly text: string;
  /** Physical line (1-based) where the record starts. */
  readonly line: number;
  /** Physical line where it ends (greater than `line` when a quoted field spans lines). */
  readonly endLine: number;
  /**
   * Set when the record cannot be used as it is: an unclosed quote, a record over the size limit, or
   * bytes that are not UTF-8. `text` is then what could be shown of it (cut, with U+FFFD for bad bytes).
   */
  readonly problem?: string;
}

/** Bytes of an over-long record kept in its reject (the rest is never buffered). */
const SHOWN_BYTES = 256;
const QUOTE = 0x22;
const COMMA = 0x2c;
const LF = 0x0a;
const CR = 0x0d;

/** Byte offset of the first byte that breaks UTF-8, or -1. Only called once `isUtf8` said no. */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    let need: number;
    let min: number;
    if (b < 0x80) {
      i += 1;
      continue;
    } else if (b >= 0xc2 && b <= 0xdf) {
      need = 1;
      min = 0x80;
    } else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      min = 0x800;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      min = 0x10000;
    } else return i;
    let cp = b & (0x3f >> need);
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += need + 1;
  }
  return -1;
}

/**
 * Cuts CSV bytes into records by RFC 4180 quoting rules, counting physical lines (`\n`, `\r\n`) so that
 * each record knows the lines it spans. It does not split fields: that is csv-parse's job. It works on
 * bytes (every CSV delimiter is ASCII, so UTF-8 cannot fool it) and decodes each record on its own:
 * a record that is not valid UTF-8 comes back with a `problem`, never with U+FFFD in place of its bytes.
 *
 * Memory is bounded by `maxRecordBytes` plus one chunk: a record past the limit is reported with its
 * first bytes and the rest of its line is skipped without being kept (a file without line breaks is
 * one over-long line, not a string that grows until V8's limit). Recovery is line-based: an unclosed
 * quote (at the end of the file, or past the limit) costs only the first physical line of its record;
 * scanning resumes on the next line, so later good rows are never swallowed.
 */
export class CsvRecordSplitter {
  readonly #maxRecordBytes: number;
  readonly #decoder = new TextDecoder('utf-8');
  #buf: Buffer = Buffer.alloc(0);
  /** Where the current record starts in #buf. */
  #start = 0;
  /** Next byte to look at. */
  #scan = 0;
  #inQuote = false;
  #atFieldStart = true;
  #startLine = 1;
  #line = 1;
  #quoteLine = 0;
  /** Discarding the rest of an over-long line, up to its line break. */
  #isSkippingLine = false;
  /** Bytes before the first record still to check for a UTF-8 byte order mark. */
  #isAtFileStart = true;

  /** @param maxRecordBytes - a record's bytes at most (line terminator excluded). @defaultValue 4 MiB */
  constructor(maxRecordBytes = 4 * 1_048_576) {
    this.#maxRecordBytes = maxRecordBytes;
  }

  /** Feeds bytes; returns the records completed by them. */
  push(chunk: Uint8Array): RawRecord[] {
    const out: RawRecord[] = [];
    let bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (this.#isSkippingLine) {
      const newline = bytes.indexOf(LF);
      if (newline < 0) return out;
      this.#endSkip();
      bytes = bytes.subarray(newline + 1);
    }
    const kept = this.#buf.subarray(this.#start);
    this.#buf = kept.length === 0 ? bytes : Buffer.concat([kept, bytes]);
    this.#scan -= this.#start;
    this.#start = 0;
    if (this.#isAtFileStart) {
      if (this.#buf.length < 3 && (this.#buf.length === 0 || this.#buf[0] === 0xef)) return out;
      this.#isAtFileStart = false;
      if (this.#buf[0] === 0xef && this.#buf[1] === 0xbb && this.#buf[2] === 0xbf) {
        this.#buf = this.#buf.subarray(3);
      }
    }
    this.#drain(false, out);
    return out;
  }

  /** Ends the input; returns the last records. */
  end(): RawRecord[] {
    const out: RawRecord[] = [];
    if (this.#isSkippingLine) return out;
    this.#isAtFileStart = false;
    this.#drain(true, out);
    return out;
  }

  #drain(isFinal: boolean, out: RawRecord[]): void {
    const max = this.#maxRecordBytes;
    for (;;) {
      const buf = this.#buf;
      const length = buf.length;
      while (this.#scan < length) {
        const c = buf[this.#scan]!;
        if (this.#inQuote) {
          if (c === QUOTE) {
            if (this.#scan + 1 >= length && !isFinal) break; // is it "" or the closing quote? need more
            if (buf[this.#scan + 1] === QUOTE) this.#scan += 2;
            else {
              this.#inQuote = false;
              this.#scan += 1;
            }
            continue;
          }
          if (c === LF) this.#line += 1;
          this.#scan += 1;
          if (this.#scan - this.#start > max) break;
          continue;
        }
        if (c === QUOTE && this.#atFieldStart) {
          this.#inQuote = true;
          this.#quoteLine = this.#line;
          this.#atFieldStart = false;
        } else if (c === COMMA) {
          this.#atFieldStart = true;
        } else if (c === LF) {
          let end = this.#scan;
          if (end > this.#start && buf[end - 1] === CR) end -= 1;
          out.push(this.#record(this.#start, end, this.#startLine, this.#line));
          this.#scan += 1;
          this.#line += 1;
          this.#start = this.#scan;
          this.#startLine = this.#line;
          this.#atFieldStart = true;
          continue;
        } else {
          this.#atFieldStart = false;
        }
        this.#scan += 1;
        if (this.#scan - this.#start > max) break;
      }
      if (this.#scan - this.#start > max) {
        const firstLineEnd = buf.indexOf(LF, this.#start);
        if (!this.#inQuote || firstLineEnd < 0 || firstLineEnd - this.#start > max) {
          // One physical line over the limit: report it, skip the rest of it.
          out.push(this.#overLongLine());
          if (this.#isSkippingLine) return;
          continue;
        }
        out.push(this.#cutFirstLine(true));
        continue; // rescan from the line after
      }
      if (isFinal && this.#inQuote && this.#scan >= length) {
        out.push(this.#cutFirstLine(false));
        continue;
      }
      break;
    }
    if (isFinal && this.#start < this.#buf.length) {
      let end = this.#buf.length;
      if (this.#buf[end - 1] === CR) end -= 1;
      out.push(this.#record(this.#start, end, this.#startLine, this.#line));
      this.#start = this.#buf.length;
      this.#scan = this.#start;
    }
  }

  /** A complete record: decoded, or reported when it is not UTF-8. */
  #record(from: number, to: number, line: number, endLine: number): RawRecord {
    const bytes = this.#buf.subarray(from, to);
    const text = this.#decoder.decode(bytes);
    if (isUtf8(bytes)) return { text, line, endLine };
    const at = firstInvalidUtf8(bytes);
    return { text, line, endLine, problem: `is not valid UTF-8 (byte ${at + 1} of the record)` };
  }

  /** Reports the physical line at #start as over-long and skips the rest of it. */
  #overLongLine(): RawRecord {
    const newline = this.#buf.indexOf(LF, this.#start);
    const shown = this.#decoder.decode(this.#buf.subarray(this.#start, this.#start + SHOWN_BYTES));
    const record: RawRecord = {
      text: `${shown}…`,
      line: this.#startLine,
      endLine: this.#startLine,
      problem: `the line is longer than the limit of ${this.#maxRecordBytes} bytes`,
    };
    if (newline < 0) {
      // The line goes on past what is buffered: drop it all and skip to its end in later chunks.
      this.#buf = Buffer.alloc(0);
      this.#start = 0;
      this.#scan = 0;
      this.#isSkippingLine = true;
    } else {
      this.#start = newline + 1;
      this.#scan = this.#start;
      this.#startLine += 1;
      this.#line = this.#startLine;
      this.#inQuote = false;
      this.#atFieldStart = true;
    }
    return record;
  }

  #endSkip(): void {
    this.#isSkippingLine = false;
    this.#startLine += 1;
    this.#line = this.#startLine;
    this.#inQuote = false;
    this.#atFieldStart = true;
  }

  /** Rejects the first physical line of the current record and restarts scanning after it. */
  #cutFirstLine(isOversize: boolean): RawRecord {
    const newline = this.#buf.indexOf(LF, this.#start);
    const lineEnd = newline < 0 ? this.#buf.length : newline;
    let textEnd = lineEnd;
    if (textEnd > this.#start && this.#buf[textEnd - 1] === CR) textEnd -= 1;
    const problem = isOversize
      ? `a quoted field opened on line ${this.#quoteLine} runs past the limit of ${this.#maxRecordBytes} bytes (unclosed quote?)`
      : `a quoted field opened on line ${this.#quoteLine} is never closed`;
    const record: RawRecord = {
      text: this.#decoder.decode(this.#buf.subarray(this.#start, textEnd)),
      line: this.#startLine,
      endLine: this.#startLine,
      problem,
    };
    this.#start = newline < 0 ? this.#buf.length : newline + 1;
    this.#scan = this.#start;
    this.#inQuote = false;
    this.#atFieldStart = true;
    this.#startLine += 1;
    this.#line = this.#startLine;
    return record;
  }
}
