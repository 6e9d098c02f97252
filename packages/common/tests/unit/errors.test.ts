import { describe, expect, it } from 'vitest';
import { ConfigurationError, errorText, ProblemList, ShardlineError } from '../../src/index.js';

describe('ShardlineError', () => {
  it('carries name, code, retriable and cause', () => {
    class ThingLostError extends ShardlineError {}
    const cause = new Error('boom');
    const error = new ThingLostError('lost', { cause, retriable: true });
    expect(error).toBeInstanceOf(ShardlineError);
    expect(error.name).toBe('ThingLostError');
    expect(error.code).toBe('ThingLostError');
    expect(error.retriable).toBe(true);
    expect(error.cause).toBe(cause);
  });

  it('defaults to not retriable, no cause, and takes a finer code', () => {
    const error = new ShardlineError('x', { code: 'ThrottlingException' });
    expect(error.retriable).toBe(false);
    expect('cause' in error).toBe(false);
    expect(error.code).toBe('ThrottlingException');
  });
});

describe('ConfigurationError', () => {
  it('lists every problem in its message', () => {
    const error = new ConfigurationError(
      [
        { path: 'a', message: 'is wrong' },
        { path: 'b.c', message: 'is worse' },
      ],
      'widget options',
    );
    expect(error).toBeInstanceOf(ShardlineError);
    expect(error.code).toBe('ConfigurationError');
    expect(error.message).toBe('Invalid widget options (2 problems):\n  - a: is wrong\n  - b.c: is worse');
    expect(new ConfigurationError([{ path: 'a', message: 'm' }]).message).toBe(
      'Invalid options (1 problem):\n  - a: m',
    );
  });
});

describe('errorText', () => {
  it('quotes an error by name and message, anything else as a string', () => {
    expect(errorText(new TypeError('bad'))).toBe('TypeError: bad');
    expect(errorText(42)).toBe('42');
  });
});

describe('ProblemList', () => {
  it('accumulates problems and throws them at once', () => {
    const problems = new ProblemList('widget options');
    expect(problems.integer('size', 5, 1, 10)).toBe(5);
    expect(problems.integer('count', 1.5, 1, 10)).toBe(1);
    problems.optionalInteger('skipped', undefined, 1, 2);
    problems.optionalNumber('ratio', Number.NaN, 0, 1);
    problems.optionalMatch('name', 'x y', /^\w+$/, 'a word');
    problems.optionalOneOf('mode', 'fast', ['slow']);
    problems.unknownKeys({ size: 1, colour: 2 }, new Set(['size']));
    expect(problems.has('count')).toBe(true);
    expect(problems.has('size')).toBe(false);
    expect(problems.problems.map((p) => p.path)).toEqual(['count', 'ratio', 'name', 'mode', 'colour']);
    expect(problems.problems[0]!.message).toBe('must be an integer from 1 to 10, got 1.5');
    const thrown = (() => {
      try {
        problems.throwIfAny();
      } catch (error) {
        return error;
      }
    })();
    expect(thrown).toBeInstanceOf(ConfigurationError);
    expect((thrown as ConfigurationError).problems).toHaveLength(5);
    expect((thrown as ConfigurationError).message).toMatch(/^Invalid widget options \(5 problems\)/);
  });

  it('checks several integer options at once, defaults filled in, in order', () => {
    const problems = new ProblemList('x');
    const values = problems.integers(
      { a: 5, b: 'no' } as { a?: number; b?: unknown; c?: number },
      { a: 1, b: 2, c: 3 },
      { b: [0, 10], a: [0, 10], c: [4, 10] },
      'retry.',
    );
    expect(values).toEqual({ a: 5, b: 0, c: 4 });
    expect(problems.problems.map((p) => p.path)).toEqual(['retry.b', 'retry.c']);
  });

  it('does not throw without problems and skips unchecked values', () => {
    const problems = new ProblemList('x', { isUnchecked: (v) => v === 'TOKEN' });
    problems.integer('a', 'TOKEN', 0, 1);
    problems.optionalMatch('b', 'TOKEN', /^z$/, 'z');
    expect(problems.hasProblems).toBe(false);
    expect(() => problems.throwIfAny()).not.toThrow();
  });
});
