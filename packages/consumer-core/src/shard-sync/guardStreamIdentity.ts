import { StreamIdentityMismatchError } from '../errors.js';
import type { Logger } from '../internal/logger.js';
import type { LeaseStore } from '../leases/LeaseStore.js';
import { checkStreamIdentity, type StreamIdentity, streamIdentityOf } from '../leases/streamIdentity.js';
import type { ShardLister } from './ShardLister.js';

/** Inputs of {@link guardStreamIdentity}. */
export interface StreamIdentityGuardOptions {
  readonly lister: ShardLister;
  readonly store: LeaseStore;
  readonly tableName: string;
  /** Stamp leases of another stream with this one instead of refusing (`acceptStreamIdentityChange`). */
  readonly acceptStreamIdentityChange: boolean;
  readonly logger: Logger;
  readonly signal?: AbortSignal;
}

/**
 * The stream identity guard, run at start before anything is read: describes the stream, checks every
 * lease's stamp against it, stamps the leases without one (written by an older Shardline or the Java
 * KCL: adopted), and refuses a table whose leases belong to another stream.
 *
 * @returns the stream's identity (new leases are stamped with it), or `undefined` when the lister cannot
 * describe the stream (then nothing is checked).
 * @throws {@link StreamIdentityMismatchError} when leases belong to another stream and it is not accepted.
 * @throws `DependencyError` when the stream or the table cannot be read.
 */
export async function guardStreamIdentity(
  options: StreamIdentityGuardOptions,
): Promise<StreamIdentity | undefined> {
  const { lister, store, signal, logger } = options;
  if (!lister.describeStream) return undefined;
  const stream = await lister.describeStream(signal);
  const leases = await store.listLeases(signal);
  const { mismatched, unstamped } = checkStreamIdentity(leases, stream);
  if (mismatched.length > 0) {
    const leaseStream = streamIdentityOf(mismatched[0]!)!;
    const error = new StreamIdentityMismatchError(
      options.tableName,
      stream,
      leaseStream,
      mismatched.map((lease) => lease.leaseKey),
    );
    if (!options.acceptStreamIdentityChange) throw error;
    logger.warn('Leases of another stream are taken over (acceptStreamIdentityChange)', {
      error,
    });
  }
  // Stamped before the first sync: every lease the application relies on is then bound to this stream.
  for (const lease of [...unstamped, ...mismatched]) {
    await store.updateLeaseMeta(lease.leaseKey, { streamIdentity: stream }, signal);
  }
  return stream;
}
