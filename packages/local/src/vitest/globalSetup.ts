import type { TestProject } from 'vitest/node';
import type { LocalStackInfo } from '../clientConfig.js';
import { type LocalStack, startLocalStack } from '../startLocalStack.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The run's local stack: kinesalite, dynalite and fauxqs. */
    'shardline:local': LocalStackInfo;
    /** The run's faithful Kinesis (kinesis-local), for resharding, `ChildShards` and fan-out. */
    'shardline:localFaithful': LocalStackInfo;
  }
}

let stacks: Promise<LocalStack[]> | undefined;
let users = 0;

/**
 * Vitest global setup: one local twin for the whole run, shared by every integration project. Tests
 * reach it with `localStackFromContext()` from `@shardline/local/vitest`, and create uniquely named
 * streams, tables and buckets so that they never see each other's data.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  users += 1;
  stacks ??= Promise.all([
    startLocalStack(),
    startLocalStack({ kinesis: 'faithful', dynamodb: false, s3: false }),
  ]);
  const [local, faithful] = await stacks;
  project.provide('shardline:local', local!.info);
  project.provide('shardline:localFaithful', faithful!.info);
  return async () => {
    users -= 1;
    if (users > 0) return;
    const running = await stacks;
    stacks = undefined;
    await Promise.all((running ?? []).map((stack) => stack.stop()));
  };
}
