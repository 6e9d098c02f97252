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

describe('shardline-s3-sink --health-port', () => {
  it('is off without the flag', async () => {
    expect((await run([])).options?.consumer).toEqual({});
  });

  it('passes the port, host and stall time to the consumer', async () => {
    expect((await run(['--health-port', '8080'])).options?.consumer).toEqual({ health: { port: 8080 } });
    const { options } = await run([
      '--health-port',
      '9000',
      '--health-host',
      '0.0.0.0',
      '--health-stalled-shard-ms',
      '900000',
    ]);
    expect(options?.consumer).toEqual({ health: { port: 9000, host: '0.0.0.0', stalledShardMs: 900_000 } });
  });

  it('refuses a bad port, and --health-host without --health-port, before building a sink', async () => {
    for (const argv of [
      ['--health-port', '65536'],
      ['--health-port', 'x'],
      ['--health-port', '-1'],
      ['--health-host', '0.0.0.0'],
      ['--health-stalled-shard-ms', '1000'],
    ]) {
      const out = await run(argv);
      expect(out.code, argv.join(' ')).toBe(ExitCode.Usage);
      expect(out.stderr).toContain('--health-');
      expect(out.options).toBeUndefined();
    }
  });
});
