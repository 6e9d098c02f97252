import type { DynamoDBLeaseStore } from '@shardline/consumer-core';
import type { LocalTwinClient } from '@shardline/local';
import { vi } from 'vitest';
import { runCli } from '../../src/cli/cli.js';
import { until } from './archive.js';
import { targetArgs } from './processes.js';

/** The sink run by {@link withSinkCli}, as the test body sees it. */
export interface RunningSinkCli {
  /** What the sink printed on stderr so far. */
  readonly stderr: () => string;
  /** Throws (with its stderr) if the sink has exited: call it inside waits so they fail at once. */
  readonly assertRunning: () => void;
}

/**
 * Runs `shardline-s3-sink` in this process through the CLI's own run function, as the binary runs it:
 * on the stream, bucket and application given, with `args` added, quick buffers (500 ms, 4 KiB) and the
 * twin's endpoints (`kinesisEndpoint` replaces the twin's Kinesis). The SDK clients take credentials
 * from the process environment, so the twin's are stubbed there (undo with `vi.unstubAllEnvs()` in
 * `afterEach`). `body` runs while the sink runs (its stderr printed if it fails); then the sink is
 * stopped by its abort signal. Returns the exit code.
 */
export async function withSinkCli(
  local: LocalTwinClient,
  target: { readonly streamName: string; readonly bucket: string; readonly app: string },
  args: readonly string[],
  options: { readonly kinesisEndpoint?: string; readonly stdout?: (text: string) => void },
  body: (sink: RunningSinkCli) => Promise<void>,
): Promise<number> {
  for (const [name, value] of Object.entries(local.env)) vi.stubEnv(name, value);
  const stop = new AbortController();
  let stderr = '';
  let hasExited = false;
  const exit = runCli(
    [
      ...targetArgs(target.streamName, target.bucket, target.app),
      ...args,
      '--buffer-interval-ms',
      '500',
      '--buffer-size-bytes',
      '4096',
      '--region',
      local.info.region,
      '--kinesis-endpoint',
      options.kinesisEndpoint ?? local.info.endpoints.kinesis!,
      '--dynamodb-endpoint',
      local.info.endpoints.dynamodb!,
      '--s3-endpoint',
      local.info.endpoints.s3!,
    ],
    {
      env: { ...local.env },
      stdout: options.stdout ?? (() => {}),
      stderr: (text) => {
        stderr += text;
      },
      signal: stop.signal,
    },
  ).finally(() => {
    hasExited = true;
  });
  try {
    await body({
      stderr: () => stderr,
      assertRunning: () => {
        if (hasExited) throw new Error(`the sink exited: ${stderr}`);
      },
    });
  } catch (error) {
    console.error(stderr);
    throw error;
  } finally {
    stop.abort();
  }
  return await exit;
}

/** Waits until `count` leases of `store` have an owner (the table may not exist yet at first). */
export async function untilLeasesOwned(
  store: DynamoDBLeaseStore,
  count: number,
  sink: RunningSinkCli,
  what: string,
): Promise<void> {
  await until(
    async () => {
      sink.assertRunning();
      try {
        return (await store.listLeases()).filter((l) => l.leaseOwner !== undefined).length === count;
      } catch {
        return false; // the table is being created
      }
    },
    30_000,
    what,
  );
}
