import type { TestProject } from 'vitest/node';
import type { LocalTwinInfo } from '../clientConfig.js';
import { type LocalTwin, startLocalTwin } from '../startLocalTwin.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The run's local twin: kinesalite, dynalite and fauxqs. */
    'shardline:local': LocalTwinInfo;
    /** The run's faithful Kinesis (kinesis-local), for resharding, `ChildShards` and fan-out. */
    'shardline:localFaithful': LocalTwinInfo;
  }
}

interface SharedStacks {
  stacks: Promise<LocalTwin[]> | undefined;
  users: number;
}

// Vitest loads a global setup file once per project, as separate module instances in the same process:
// the run's stacks live on globalThis so that every integration project shares one twin.
const SHARED = Symbol.for('@shardline/local/vitest/globalSetup');
const registry = globalThis as Record<symbol, SharedStacks | undefined>;
registry[SHARED] ??= { stacks: undefined, users: 0 };
const shared: SharedStacks = registry[SHARED];

/**
 * Vitest global setup: one local twin for the whole run, shared by every integration project. Tests
 * reach it with `localTwinFromContext()` from `@shardline/local/vitest`, and create uniquely named
 * streams, tables and buckets so that they never see each other's data.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  shared.users += 1;
  shared.stacks ??= Promise.all([
    startLocalTwin(),
    startLocalTwin({ kinesis: 'faithful', dynamodb: false, s3: false }),
  ]);
  const [local, faithful] = await shared.stacks;
  project.provide('shardline:local', local!.info);
  project.provide('shardline:localFaithful', faithful!.info);
  return async () => {
    shared.users -= 1;
    if (shared.users > 0) return;
    const running = await shared.stacks;
    shared.stacks = undefined;
    await Promise.all((running ?? []).map((stack) => stack.stop()));
  };
}
