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
