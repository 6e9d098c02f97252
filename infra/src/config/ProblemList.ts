import { Token } from 'aws-cdk-lib';
import { ConfigurationError, type ConfigurationProblem } from '../errors.js';

/**
 * Collects the problems of a construct's props, then throws them all at once. Values that are CDK
 * tokens (resolved at deploy time) are not checked.
 */
export class ProblemList {
  readonly #construct: string;
  readonly #problems: ConfigurationProblem[] = [];

  constructor(construct: string) {
    this.#construct = construct;
  }

  /** Records a problem. */
  add(path: string, message: string): void {
    this.#problems.push({ path, message });
  }

  /** An optional integer within `[min, max]`. */
  integer(path: string, value: number | undefined, min: number, max: number): void {
    if (value === undefined || Token.isUnresolved(value)) return;
    if (!Number.isInteger(value) || value < min || value > max) {
      this.add(path, `must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
    }
  }

  /** An optional number within `[min, max]`. */
  number(path: string, value: number | undefined, min: number, max: number): void {
    if (value === undefined || Token.isUnresolved(value)) return;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
      this.add(path, `must be a number from ${min} to ${max}, got ${JSON.stringify(value)}`);
    }
  }

  /** An optional string matching `pattern`. */
  matches(path: string, value: string | undefined, pattern: RegExp, rule: string): void {
    if (value === undefined || Token.isUnresolved(value)) return;
    if (typeof value !== 'string' || !pattern.test(value)) {
      this.add(path, `must be ${rule}, got ${JSON.stringify(value)}`);
    }
  }

  /** One of `allowed`. */
  oneOf<T extends string>(path: string, value: T | undefined, allowed: readonly T[]): void {
    if (value === undefined) return;
    if (!allowed.includes(value)) {
      this.add(
        path,
        `must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${JSON.stringify(value)}`,
      );
    }
  }

  /** @throws ConfigurationError when any problem was recorded. */
  throwIfAny(): void {
    if (this.#problems.length > 0) throw new ConfigurationError(this.#construct, this.#problems);
  }
}
