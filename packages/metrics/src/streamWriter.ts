import type { MetricsLogger } from './MetricsLogger.js';

/**
 * Lines to `process.stdout`. Once stdout fails (closed pipe: EPIPE), metrics stop with one warning on
 * stderr; without the listener the error event would end the process.
 */
export function streamWriter(stream: NodeJS.WritableStream, logger: MetricsLogger): (line: string) => void {
  let isBroken = false;
  stream.on('error', (error: unknown) => {
    if (isBroken) return;
    isBroken = true;
    logger.warn('stdout failed; EMF metrics are no longer written.', { error });
  });
  return (line) => {
    if (isBroken) return;
    stream.write(line);
  };
}
