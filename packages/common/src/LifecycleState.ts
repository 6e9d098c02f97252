/**
 * The lifecycle of every long-lived Shardline component (a consumer, a sink): one state value instead
 * of several booleans. `stop()` moves `running` → `stopping` → `stopped`; a stopped component is not
 * started again.
 */
export const LifecycleState = {
  Idle: 'idle',
  Starting: 'starting',
  Running: 'running',
  Stopping: 'stopping',
  Stopped: 'stopped',
} as const;
/** See {@link LifecycleState}. */
export type LifecycleState = (typeof LifecycleState)[keyof typeof LifecycleState];
