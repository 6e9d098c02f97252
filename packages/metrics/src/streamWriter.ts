import type { MetricsLogger } from './MetricsLogger.js';

/**
 * A writer of text to `stream` (stdout) that survives the stream failing: once it emits an error (a
 * closed pipe: EPIPE), writing stops with one warning to `logger`. Without a listener, that error
 * event would end the process, and with it the pipeline whose metrics (or events) were being written.
 *
 * @example
 * ```ts
 * const stdout = streamWriter(process.stdout, { warn: (m) => process.stderr.write(`${m}\n`) });
 * ```
 */
export function streamWriter(stream: NodeJS.WritableStream, logger: MetricsLogger): (text: string) => void {
  let isBroken = false;
  stream.on('error', (error: unknown) => {
    if (isBroken) return;
    isBroken = true;
    logger.warn('stdout failed; nothing more is written to it.', { error });
  });
  return (text) => {
    if (isBroken) return;
    stream.write(text);
  };
}
