import type { EnvelopeQuery, EnvelopeQuerySegment } from './EnvelopeQuery.js';

/**
 * What {@link parseFirehoseQuery} accepts: the path subset of jq that Firehose dynamic partitioning
 * configurations use in `MetadataExtractionQuery`.
 */
export const FIREHOSE_QUERY_SUPPORTED: string =
  'an object of paths, e.g. {event_type: .event_type, country: .user.country}: keys are names or "quoted names" ({name} is short for {name: .name}); paths are ., .field, ."quoted field", .["quoted field"], .[index] and chains of them (.a.b[0]."c d"). Pipes, functions (select, tostring...), operators, optional (?), slices and negative indexes are not supported';

/**
 * Parses a Firehose `MetadataExtractionQuery` (jq, e.g. `{event_type: .event_type, country:
 * .user.country}`) into one query per partition key. Its paths are evaluated on the envelope's `data`,
 * the event as the producer sent it (the record Firehose would have seen), and behave like the
 * `partitionKeys` syntax rooted at `data`: the value must be a string, number or boolean, else the record
 * fails partitioning.
 *
 * @returns the queries by name, in order, or an error message saying what is wrong and what is supported.
 */
export function parseFirehoseQuery(source: string): Map<string, EnvelopeQuery> | string {
  const parser = new Parser(source);
  try {
    return parser.object();
  } catch (error) {
    if (error instanceof QuerySyntaxError) return `${error.message}; supported: ${FIREHOSE_QUERY_SUPPORTED}`;
    throw error;
  }
}

class QuerySyntaxError extends Error {}

const IDENTIFIER = /[A-Za-z_][A-Za-z0-9_]*/y;
const STRING = /"(?:[^"\\]|\\.)*"/y;
const INDEX = /\[\s*(\d+)\s*\]/y;
const FUNCTION_CALL = /[A-Za-z_][A-Za-z0-9_]*\s*\(/y;

class Parser {
  readonly #source: string;
  #at = 0;

  constructor(source: string) {
    this.#source = source;
  }

  object(): Map<string, EnvelopeQuery> {
    this.#space();
    if (this.#peek() !== '{') {
      this.#fail(
        this.#source.trim().startsWith('.')
          ? 'a single path: the query must be an object naming each partition key, e.g. {name: .field}'
          : 'the query must be an object {name: .path, ...}',
      );
    }
    this.#at += 1;
    const queries = new Map<string, EnvelopeQuery>();
    this.#space();
    if (this.#peek() === '}') this.#fail('the object has no keys');
    for (;;) {
      this.#space();
      const keyAt = this.#at;
      const name = this.#key();
      if (queries.has(name)) this.#fail(`key ${JSON.stringify(name)} appears twice`, keyAt);
      this.#space();
      let query: EnvelopeQuery;
      if (this.#peek() === ':') {
        this.#at += 1;
        this.#space();
        query = this.#path();
      } else {
        // {name}: jq's shorthand for {name: .name}.
        query = { source: `.${name}`, root: 'data', path: [name] };
      }
      queries.set(name, query);
      this.#space();
      const c = this.#peek();
      if (c === ',') {
        this.#at += 1;
        continue;
      }
      if (c === '}') {
        this.#at += 1;
        break;
      }
      this.#unexpected();
    }
    this.#space();
    if (this.#at < this.#source.length) this.#unexpected();
    return queries;
  }

  #key(): string {
    const c = this.#peek();
    if (c === '"') return this.#string();
    const name = this.#match(IDENTIFIER);
    if (name === undefined) {
      if (c === '$' || c === '(' || c === '@') this.#fail('computed or variable keys are not supported');
      this.#unexpected('a key name');
    }
    return name;
  }

  #path(): EnvelopeQuery {
    const start = this.#at;
    if (this.#peek() !== '.') {
      FUNCTION_CALL.lastIndex = this.#at;
      if (FUNCTION_CALL.test(this.#source)) this.#fail('functions are not supported');
      if (this.#peek() === '"' || /[0-9-]/.test(this.#peek())) this.#fail('constants are not supported');
      this.#unexpected('a path starting with "."');
    }
    const path: EnvelopeQuerySegment[] = [];
    this.#at += 1;
    // After the leading ".": a name, a quoted name, [..], or nothing (the identity `.`).
    let isAfterDot = true;
    for (;;) {
      const c = this.#peek();
      if (isAfterDot && c === '"') path.push(this.#string());
      else if (isAfterDot && /[A-Za-z_]/.test(c)) path.push(this.#match(IDENTIFIER)!);
      else if (c === '[') path.push(this.#bracket());
      else if (c === '.' && !isAfterDot) {
        this.#at += 1;
        isAfterDot = true;
        continue;
      } else if (isAfterDot && path.length > 0) this.#unexpected('a field name after "."');
      else break;
      isAfterDot = false;
    }
    const source = this.#source.slice(start, this.#at);
    this.#space();
    const next = this.#peek();
    if (next === '|') this.#fail('pipes (|) are not supported');
    if (next === '?') this.#fail('the optional operator (?) is not supported');
    if (next === '-' && /[A-Za-z0-9_]$/.test(source)) {
      this.#fail('operators are not supported (write a field name holding "-" as ."a-b")');
    }
    if ('+-*/%<>=!'.includes(next) && next !== '') this.#fail('operators are not supported');
    if (next === 'a' || next === 'o') {
      IDENTIFIER.lastIndex = this.#at;
      const word = IDENTIFIER.exec(this.#source)?.[0];
      if (word === 'and' || word === 'or' || word === 'as') this.#fail(`"${word}" is not supported`);
    }
    return { source, root: 'data', path };
  }

  #bracket(): EnvelopeQuerySegment {
    const at = this.#at;
    const index = this.#match(INDEX, 1);
    if (index !== undefined) return Number(index);
    this.#at += 1;
    this.#space();
    if (this.#peek() === '"') {
      const name = this.#string();
      this.#space();
      if (this.#peek() === ']') {
        this.#at += 1;
        return name;
      }
    }
    return this.#fail(
      'only [<index>] and ["<name>"] are supported in brackets (no slices, negative indexes or iterators)',
      at,
    );
  }

  #string(): string {
    const at = this.#at;
    const text = this.#match(STRING);
    if (text === undefined) this.#fail('unclosed string', at);
    if (text.includes('\\(')) this.#fail('string interpolation is not supported', at);
    try {
      return JSON.parse(text) as string;
    } catch {
      return this.#fail(`invalid string ${text}`, at);
    }
  }

  #match(pattern: RegExp, group = 0): string | undefined {
    pattern.lastIndex = this.#at;
    const m = pattern.exec(this.#source);
    if (!m) return undefined;
    this.#at = pattern.lastIndex;
    return m[group];
  }

  #space(): void {
    while (this.#at < this.#source.length && /\s/.test(this.#source[this.#at]!)) this.#at += 1;
  }

  #peek(): string {
    return this.#source[this.#at] ?? '';
  }

  #unexpected(expected?: string): never {
    const found = this.#at < this.#source.length ? `"${this.#source[this.#at]}"` : 'the end';
    return this.#fail(`unexpected ${found}${expected ? `, expected ${expected}` : ''}`);
  }

  #fail(message: string, at = this.#at): never {
    throw new QuerySyntaxError(`${message} at position ${at} of ${JSON.stringify(this.#source)}`);
  }
}
