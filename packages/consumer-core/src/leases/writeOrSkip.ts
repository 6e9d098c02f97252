import type { Logger } from '../internal/logger.js';

/**
 * Runs one conditional lease write of a round (a take, a hand-off request). A failure is logged as
 * `message` with the lease key and counts as "not written": the next round reads the table again and
 * decides anew, so nothing is lost by skipping one write.
 *
 * @returns what the write returned, or `undefined` when it failed.
 */
export async function writeOrSkip<T>(
  logger: Logger,
  message: string,
  leaseKey: string,
  write: () => Promise<T | undefined>,
): Promise<T | undefined> {
  try {
    return await write();
  } catch (error) {
    logger.warn(message, { leaseKey, error });
    return undefined;
  }
}
