/**
 * A parser of a command-line integer argument: decimal digits only (no sign, no exponent, no
 * fraction), a safe integer of at least `min`. `fail` throws the CLI library's own error (for
 * commander, `InvalidArgumentError`) with a message saying what is expected.
 *
 * @example
 * ```ts
 * const positiveInteger = integerArgument(1, (message) => { throw new InvalidArgumentError(message); });
 * program.option('--shards <n>', 'shard count', positiveInteger);
 * ```
 */
export function integerArgument(min: number, fail: (message: string) => never): (value: string) => number {
  const message =
    min === 1
      ? 'must be a positive integer'
      : min === 0
        ? 'must be a non-negative integer'
        : `must be an integer of at least ${min}`;
  return (value) => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < min) fail(message);
    return n;
  };
}
