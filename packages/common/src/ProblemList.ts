import { ConfigurationError, type ConfigurationProblem } from './errors.js';

/** Integer options and their inclusive ranges, in the order they are checked: `name: [min, max]`. */
export type IntegerRanges<K extends string> = Readonly<Record<K, readonly [min: number, max: number]>>;

/** Options of a {@link ProblemList}. */
export interface ProblemListOptions {
  /**
   * Values this returns true for are not checked (e.g. CDK tokens, resolved only at deploy time).
   * @defaultValue every value is checked
   */
  readonly isUnchecked?: (value: unknown) => boolean;
}

/**
 * Collects the problems of a set of options, then throws them all at once as one
 * {@link ConfigurationError}: the accumulating half of every `resolve…Config`.
 *
 * @example
 * ```ts
 * const problems = new ProblemList('producer options');
 * const lingerMs = problems.integer('lingerMs', options.lingerMs ?? 100, 0, 60_000);
 * if (typeof options.transport?.send !== 'function') problems.add('transport', 'must be a Transport');
 * problems.throwIfAny(); // throws ConfigurationError listing both, if both are wrong
 * ```
 */
export class ProblemList {
  readonly #what: string;
  readonly #isUnchecked: (value: unknown) => boolean;
  readonly #problems: ConfigurationProblem[] = [];
  readonly #paths = new Set<string>();

  /** @param what - what is checked, for the error's message (`Invalid ${what} …`). */
  constructor(what: string, options: ProblemListOptions = {}) {
    this.#what = what;
    this.#isUnchecked = options.isUnchecked ?? (() => false);
  }

  /** The problems recorded so far. */
  get problems(): readonly ConfigurationProblem[] {
    return this.#problems;
  }

  /** Whether any problem was recorded. */
  get hasProblems(): boolean {
    return this.#problems.length > 0;
  }

  /** Records a problem. */
  add(path: string, message: string): void {
    this.#problems.push({ path, message });
    this.#paths.add(path);
  }

  /** Records problems found elsewhere (e.g. by a parser that reports its own). */
  addAll(problems: readonly ConfigurationProblem[]): void {
    for (const p of problems) this.add(p.path, p.message);
  }

  /** Whether a problem was recorded for `path` (so that checks built on it can be skipped). */
  has(path: string): boolean {
    return this.#paths.has(path);
  }

  /**
   * A required integer within `[min, max]`. Returns `value` when it is valid and `min` otherwise, so
   * later checks see an in-range number.
   */
  integer(path: string, value: unknown, min: number, max: number): number {
    if (this.#isUnchecked(value)) return value as number;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      this.add(path, `must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
      return min;
    }
    return value;
  }

  /**
   * Several integer options at once: for each `name: [min, max]` of `ranges`, in order,
   * `options[name] ?? defaults[name]` checked by {@link ProblemList.integer} under the path
   * `pathPrefix + name`.
   *
   * @returns the values by name (`min` for a wrong one).
   * @example
   * ```ts
   * const { lingerMs, maxConcurrentRequests } = problems.integers(options, DEFAULTS, {
   *   lingerMs: [0, 60_000],
   *   maxConcurrentRequests: [1, 1_000],
   * });
   * ```
   */
  integers<K extends string>(
    options: Readonly<Partial<Record<NoInfer<K>, unknown>>>,
    defaults: Readonly<Record<NoInfer<K>, number>>,
    ranges: IntegerRanges<K>,
    pathPrefix = '',
  ): Record<K, number> {
    const values = {} as Record<K, number>;
    for (const name of Object.keys(ranges) as K[]) {
      const [min, max] = ranges[name];
      values[name] = this.integer(`${pathPrefix}${name}`, options[name] ?? defaults[name], min, max);
    }
    return values;
  }

  /** An optional integer within `[min, max]` (`undefined` is accepted). */
  optionalInteger(path: string, value: unknown, min: number, max: number): void {
    if (value !== undefined) this.integer(path, value, min, max);
  }

  /** An optional finite number within `[min, max]` (`undefined` is accepted). */
  optionalNumber(path: string, value: unknown, min: number, max: number): void {
    if (value === undefined || this.#isUnchecked(value)) return;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
      this.add(path, `must be a number from ${min} to ${max}, got ${JSON.stringify(value)}`);
    }
  }

  /** An optional string matching `pattern`; `rule` says in words what it must be. */
  optionalMatch(path: string, value: unknown, pattern: RegExp, rule: string): void {
    if (value === undefined || this.#isUnchecked(value)) return;
    if (typeof value !== 'string' || !pattern.test(value)) {
      this.add(path, `must be ${rule}, got ${JSON.stringify(value)}`);
    }
  }

  /** An optional value that must be one of `allowed`. */
  optionalOneOf(path: string, value: unknown, allowed: readonly string[]): void {
    if (value === undefined) return;
    if (!allowed.includes(value as string)) {
      this.add(
        path,
        `must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${JSON.stringify(value)}`,
      );
    }
  }

  /** Records `unknown option` for every key of `options` not in `known`. */
  unknownKeys(options: object, known: ReadonlySet<string>): void {
    for (const key of Object.keys(options)) if (!known.has(key)) this.add(key, 'unknown option');
  }

  /** @throws {@link ConfigurationError} listing every recorded problem, when there is one. */
  throwIfAny(): void {
    if (this.#problems.length > 0) throw new ConfigurationError([...this.#problems], this.#what);
  }
}
