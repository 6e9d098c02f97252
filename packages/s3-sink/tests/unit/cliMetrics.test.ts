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
  let stdout = '';
  const code = await runCli(['--stream', 's', '--bucket', 'b-bucket', ...argv], {
    env: { AWS_REGION: 'us-east-1' },
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
    },
    signal: AbortSignal.abort(),
  });
  return { code, stderr, stdout, options: built.at(-1) };
}

afterEach(() => {
  built.length = 0;
});

describe('shardline-s3-sink --metrics', () => {
  it('emf: the sink gets the exporter meter provider; the exporter is shut down when the CLI exits', async () => {
    const { options, stderr, stdout } = await run(['--metrics', 'emf:Archive']);
    expect(stderr).toMatch(/metrics: emf namespace Archive every 60 s/);
    expect(typeof options?.meterProvider?.getMeter).toBe('function');
    // Nothing was recorded (the sink was never built): the shutdown flush writes no document.
    expect(stdout).toBe('');
  });

  it('no flag: no meter provider (the global one, as before)', async () => {
    expect((await run([])).options?.meterProvider).toBeUndefined();
  });

  it('names each problem of a wrong value, exit 2, before building a sink', async () => {
    for (const [value, problem] of [
      ['prometheus', /prometheus needs a port/],
      ['prometheus:99999', /port must be an integer from 1 to 65535/],
      ['statsd:8125', /unknown metrics exporter "statsd"/],
      ['emf:AWS/Kinesis', /namespace|not starting with/],
    ] as const) {
      const out = await run(['--metrics', value]);
      expect(out.code, value).toBe(ExitCode.Usage);
      expect(out.stderr).toMatch(problem);
      expect(out.options).toBeUndefined();
    }
  });
});
