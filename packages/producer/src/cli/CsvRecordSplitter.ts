/** One CSV record's raw text and where it is in the file. */
export interface RawRecord {
  /** The record's text without its line terminator (quoted newlines kept). */
  readonly text: string;
  /** Physical line (1-based) where the record starts. */
  readonly line: number;
  /** Physical line where it ends (greater than `line` when a quoted field spans lines). */
  readonly endLine: number;
  /** Set when the splitter itself had to cut the record: an unclosed quote or an oversize record. */
  readonly problem?: string;
}

/**
 * Cuts CSV text into records by RFC 4180 quoting rules, counting physical lines (`\n`, `\r\n`) so that
 * each record knows the lines it spans. It does not split fields: that is csv-parse's job. Recovery is
 * line-based: an unclosed quote (at the end of the file, or past `maxRecordChars`) costs only the first
 * physical line of its record, which is returned with a `problem`; scanning resumes on the next line, so
 * later good rows are never swallowed.
 */
export class CsvRecordSplitter {
  readonly #maxRecordChars: number;
  #buf = '';
  /** Where the current record starts in #buf. */
  #start = 0;
  /** Next character to look at. */
  #scan = 0;
  #inQuote = false;
  #atFieldStart = true;
  #startLine = 1;
  #line = 1;
  #quoteLine = 0;

  constructor(maxRecordChars = 4 * 1_048_576) {
    this.#maxRecordChars = maxRecordChars;
  }

  /** Feeds decoded text; returns the records completed by it. */
  push(chunk: string): RawRecord[] {
    this.#buf = this.#buf.slice(this.#start) + chunk;
    this.#scan -= this.#start;
    this.#start = 0;
    return this.#drain(false);
  }

  /** Ends the input; returns the last records. */
  end(): RawRecord[] {
    return this.#drain(true);
  }

  #drain(isFinal: boolean): RawRecord[] {
    const out: RawRecord[] = [];
    for (;;) {
      const length = this.#buf.length;
      while (this.#scan < length) {
        const c = this.#buf.charCodeAt(this.#scan);
        if (this.#inQuote) {
          if (c === 0x22) {
            if (this.#scan + 1 >= length && !isFinal) break; // is it "" or the closing quote? need more text
            if (this.#buf.charCodeAt(this.#scan + 1) === 0x22) this.#scan += 2;
            else {
              this.#inQuote = false;
              this.#scan += 1;
            }
            continue;
          }
          if (c === 0x0a) this.#line += 1;
          this.#scan += 1;
          if (this.#scan - this.#start > this.#maxRecordChars) break;
          continue;
        }
        if (c === 0x22 && this.#atFieldStart) {
          this.#inQuote = true;
          this.#quoteLine = this.#line;
          this.#atFieldStart = false;
        } else if (c === 0x2c) {
          this.#atFieldStart = true;
        } else if (c === 0x0a) {
          let end = this.#scan;
          if (end > this.#start && this.#buf.charCodeAt(end - 1) === 0x0d) end -= 1;
          out.push({ text: this.#buf.slice(this.#start, end), line: this.#startLine, endLine: this.#line });
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
      }
      const isOversize = this.#inQuote && this.#scan - this.#start > this.#maxRecordChars;
      const isUnclosedAtEnd = isFinal && this.#inQuote && this.#scan >= this.#buf.length;
      if (isOversize || isUnclosedAtEnd) {
        out.push(this.#cutFirstLine(isOversize));
        continue; // rescan from the line after
      }
      break;
    }
    if (isFinal && this.#start < this.#buf.length) {
      let end = this.#buf.length;
      if (this.#buf.charCodeAt(end - 1) === 0x0d) end -= 1;
      out.push({ text: this.#buf.slice(this.#start, end), line: this.#startLine, endLine: this.#line });
      this.#start = this.#buf.length;
      this.#scan = this.#start;
    }
    return out;
  }

  /** Rejects the first physical line of the current record and restarts scanning after it. */
  #cutFirstLine(isOversize: boolean): RawRecord {
    const newline = this.#buf.indexOf('\n', this.#start);
    const lineEnd = newline < 0 ? this.#buf.length : newline;
    let textEnd = lineEnd;
    if (textEnd > this.#start && this.#buf.charCodeAt(textEnd - 1) === 0x0d) textEnd -= 1;
    const problem = isOversize
      ? `a quoted field opened on line ${this.#quoteLine} runs past ${this.#maxRecordChars} characters (unclosed quote?)`
      : `a quoted field opened on line ${this.#quoteLine} is never closed`;
    const record: RawRecord = {
      text: this.#buf.slice(this.#start, textEnd),
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
