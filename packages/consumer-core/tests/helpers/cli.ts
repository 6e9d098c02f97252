import type { LocalTwinClient } from '@shardline/local';
import { afterEach } from 'vitest';
import { buildProgram } from '../../src/cli/main.js';
import { type Consumer, type ConsumerOptions, silentLogger } from '../../src/index.js';
import { consumerOn, type TwinClients } from './localTwin.js';

/** What one `shardline` command printed, and the exit code it set. */
export interface ShardlineRun {
  readonly out: string;
  readonly exitCode: number;
}

/**
 * Runs the `shardline` CLI in this process with `args`, keeping what it prints and the exit code it
 * set; `process.exitCode` is cleared before and after, so a refused command does not fail the run.
 *
 * @throws what the command throws (a usage error, for one).
 */
export async function shardline(...args: string[]): Promise<ShardlineRun> {
  let out = '';
  process.exitCode = undefined;
  await buildProgram((text) => (out += text)).parseAsync(['node', 'shardline', ...args]);
  const exitCode = Number(process.exitCode ?? 0);
  process.exitCode = undefined;
  return { out, exitCode };
}

/**
 * The live worker a CLI test looks at: `worker-1` of `applicationName`, reading `streamName` from
 * TRIM_HORIZON with a 3 s failover time, silent; `options` over these.
 */
export function cliWorker(
  clients: TwinClients,
  streamName: string,
  applicationName: string,
  options: Partial<ConsumerOptions> = {},
): Consumer {
  return consumerOn(clients, streamName, applicationName, {
    workerId: 'worker-1',
    initialPosition: 'TRIM_HORIZON',
    failoverTimeMs: 3_000,
    logger: silentLogger,
    ...options,
  });
}

/** Clears `process.exitCode` after each test of the file (a command that threw may have set it). */
export function clearExitCodeAfterEach(): void {
  afterEach(() => {
    process.exitCode = undefined;
  });
}

/** The CLI's endpoint flags: Kinesis of `kinesis`, DynamoDB and the region of `dynamodb`. */
export function endpointArgs(kinesis: LocalTwinClient, dynamodb: LocalTwinClient = kinesis): string[] {
  return [
    '--kinesis-endpoint',
    kinesis.info.endpoints.kinesis!,
    '--dynamodb-endpoint',
    dynamodb.info.endpoints.dynamodb!,
    '--region',
    dynamodb.info.region,
  ];
}
