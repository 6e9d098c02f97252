/** Polls `condition` every 20 ms until it holds. @throws the signal's reason when aborted, Error after `timeoutMs`. */
export async function waitFor(
  what: string,
  condition: () => boolean,
  signal: AbortSignal,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    signal.throwIfAborted();
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
