/**
 * Resolves once `check()` holds (it may be async), checking every `intervalMs`; rejects after
 * `timeoutMs`, naming `what`. An expensive check (an S3 listing) wants a longer interval.
 *
 * @throws Error when the condition does not hold within the timeout, or `check`'s own error.
 */
export async function until(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 30_000,
  what = 'condition',
  intervalMs = 20,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
