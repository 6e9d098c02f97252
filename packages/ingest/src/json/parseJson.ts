/** How integers beyond ±(2^53 − 1) come out of {@link parseJson}. */
export const BigIntegerMode = {
  /** As JS numbers, like `JSON.parse` (digits beyond 2^53 are lost). */
  Number: 'number',
  /** As `bigint`. */
  BigInt: 'bigint',
  /** As the decimal string of their digits. */
  String: 'string',
} as const;
/** See {@link BigIntegerMode}. */
export type BigIntegerMode = (typeof BigIntegerMode)[keyof typeof BigIntegerMode];

// An integer token with 16+ digits may be unsafe; shorter ones never are (2^53 has 16 digits).
const LONG_INTEGER = /\d{16,}/;
const INTEGER_TOKEN = /^-?(0|[1-9]\d*)$/;

/**
 * `JSON.parse` that keeps integers beyond 2^53 exact when asked. Texts without a run of 16 digits take
 * the `JSON.parse` fast path; others are read by a small exact parser. The text must be valid JSON.
 *
 * @throws SyntaxError when the text is not JSON.
 */
export function parseJson(text: string, integers: BigIntegerMode = BigIntegerMode.Number): unknown {
  if (integers === BigIntegerMode.Number || !LONG_INTEGER.test(text)) return JSON.parse(text);
  const parser = new ExactParser(text, integers);
  const value = parser.value();
  parser.ws();
  if (parser.pos !== text.length) parser.fail();
  return value;
}

class ExactParser {
  pos = 0;
  readonly #text: string;
  readonly #integers: BigIntegerMode;

  constructor(text: string, integers: BigIntegerMode) {
    this.#text = text;
    this.#integers = integers;
  }

  fail(): never {
    throw new SyntaxError(`Invalid JSON at position ${this.pos}`);
  }

  ws(): void {
    const t = this.#text;
    for (;;) {
      const c = t.charCodeAt(this.pos);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) this.pos++;
      else return;
    }
  }

  /** Skips white space; at the byte `close` (an empty container), steps past it and returns true. */
  closes(close: number): boolean {
    this.ws();
    if (this.#text.charCodeAt(this.pos) !== close) return false;
    this.pos++;
    return true;
  }

  /** After a container's member: past a comma, false; past the container's `close`, true; else fails. */
  endsAfterMember(close: number): boolean {
    this.ws();
    const n = this.#text.charCodeAt(this.pos++);
    if (n === 0x2c) return false;
    if (n === close) return true;
    this.pos--;
    return this.fail();
  }

  value(): unknown {
    this.ws();
    const t = this.#text;
    const c = t.charCodeAt(this.pos);
    if (c === 0x7b) {
      this.pos++;
      const out: Record<string, unknown> = {};
      if (this.closes(0x7d)) return out;
      for (;;) {
        this.ws();
        if (t.charCodeAt(this.pos) !== 0x22) this.fail();
        const key = this.string();
        this.ws();
        if (t.charCodeAt(this.pos) !== 0x3a) this.fail();
        this.pos++;
        // defineProperty: a "__proto__" key is data, as with JSON.parse
        Object.defineProperty(out, key, {
          value: this.value(),
          enumerable: true,
          writable: true,
          configurable: true,
        });
        if (this.endsAfterMember(0x7d)) return out;
      }
    }
    if (c === 0x5b) {
      this.pos++;
      const out: unknown[] = [];
      if (this.closes(0x5d)) return out;
      for (;;) {
        out.push(this.value());
        if (this.endsAfterMember(0x5d)) return out;
      }
    }
    if (c === 0x22) return this.string();
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.number();
    if (t.startsWith('true', this.pos)) {
      this.pos += 4;
      return true;
    }
    if (t.startsWith('false', this.pos)) {
      this.pos += 5;
      return false;
    }
    if (t.startsWith('null', this.pos)) {
      this.pos += 4;
      return null;
    }
    return this.fail();
  }

  string(): string {
    const t = this.#text;
    const start = this.pos;
    let p = start + 1;
    let hasEscape = false;
    for (;;) {
      const c = t.charCodeAt(p);
      if (Number.isNaN(c)) this.fail();
      if (c === 0x22) break;
      if (c === 0x5c) {
        hasEscape = true;
        p += 2;
      } else p++;
    }
    this.pos = p + 1;
    return hasEscape ? (JSON.parse(t.slice(start, p + 1)) as string) : t.slice(start + 1, p);
  }

  number(): number | bigint | string {
    const t = this.#text;
    const start = this.pos;
    let p = start;
    for (;;) {
      const c = t.charCodeAt(p);
      if ((c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2b || c === 0x2e || c === 0x65 || c === 0x45) p++;
      else break;
    }
    this.pos = p;
    const token = t.slice(start, p);
    const value = Number(token);
    if (Number.isNaN(value) || token === '' || token === '-') this.fail();
    if (!Number.isSafeInteger(value) && INTEGER_TOKEN.test(token)) {
      return this.#integers === BigIntegerMode.BigInt ? BigInt(token) : token;
    }
    return value;
  }
}
