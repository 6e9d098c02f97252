import { afterEach, describe, expect, it, vi } from 'vitest';
import type { S3SinkOptions } from '../../src/config/resolveS3SinkConfig.js';
import { ConfigurationError } from '../../src/errors.js';

// What the CLI hands the sink, without a sink (nor any AWS call): the stand-in refuses to be built.
const built: S3SinkOptions[] = [];
vi.mock('../../src/S3Sink.js', () => ({
  createS3Sink: (options: S3SinkOptions) => {
    built.push(options);
    throw new ConfigurationError([{ path: 'test', message: 'stops the CLI here' }]);
  },
}));
const { ExitCode, runCli } = await import('../../src/cli/cli.js');

async function run(argv: string[]) {
  let stderr = '';
  const code = await runCli(['--stream', 's', '--bucket', 'b-bucket', ...argv], {
    env: { AWS_REGION: 'us-east-1' },
    stdout: () => {},
    stderr: (t) => {
      stderr += t;
    },
    signal: AbortSignal.abort(),
  });
  return { code, stderr, options: built.at(-1) };
}

afterEach(() => {
  built.length = 0;
});

describe('shardline-s3-sink --lease-assignment', () => {
  it('passes leader to the consumer; the coordinator table is left to its default (<app>-ShardlineCoordinator)', async () => {
    const { options } = await run(['--lease-assignment', 'leader', '--app', 'archive']);
    expect(options?.consumer).toEqual({ leaseAssignment: 'leader' });
    expect(options?.applicationName).toBe('archive');
  });

  it('passes worker when asked, and nothing without the flag (the consumer default, worker)', async () => {
    expect((await run(['--lease-assignment', 'worker'])).options?.consumer).toEqual({
      leaseAssignment: 'worker',
    });
    expect((await run([])).options?.consumer).toEqual({});
  });

  it('combines with --fan-out', async () => {
    const { options } = await run(['--fan-out', 'c', '--lease-assignment', 'leader']);
    expect(options?.consumer).toEqual({
      retrieval: { fanOut: { consumerName: 'c' } },
      leaseAssignment: 'leader',
    });
  });

  it('refuses another value with a usage error naming the flag and the choices, before building a sink', async () => {
    for (const value of ['leaders', 'KCL3', '']) {
      const out = await run(['--lease-assignment', value]);
      expect(out.code).toBe(ExitCode.Usage);
      expect(out.stderr).toContain('--lease-assignment');
      expect(out.stderr).toMatch(/worker, leader/);
      expect(out.options).toBeUndefined();
    }
    const missing = await run(['--lease-assignment']);
    expect(missing.code).toBe(ExitCode.Usage);
    expect(missing.stderr).toContain('--lease-assignment');
  });
});
