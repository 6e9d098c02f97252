import type { ConsumerEventListener } from '../events.js';
import type { Clock } from '../internal/clock.js';
import type { Logger } from '../internal/logger.js';
import type { LeaseStore } from './LeaseStore.js';

/**
 * What every lease loop of a worker (renewer, taker, hand-offs) shares: the lease table, who this worker
 * is, the lease timing, and where it reports.
 */
export interface LeaseLoopContext {
  readonly store: LeaseStore;
  readonly workerId: string;
  readonly failoverTimeMs: number;
  readonly renewIntervalMs: number;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly onEvent: ConsumerEventListener;
}

/**
 * Exactly the {@link LeaseLoopContext} fields of `source` (a module's wider options), to hand on to the
 * lease loops without the rest.
 */
export function leaseLoopContext(source: LeaseLoopContext): LeaseLoopContext {
  const { store, workerId, failoverTimeMs, renewIntervalMs, clock, logger, onEvent } = source;
  return { store, workerId, failoverTimeMs, renewIntervalMs, clock, logger, onEvent };
}
