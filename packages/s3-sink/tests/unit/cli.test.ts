import { describe, expect, it } from 'vitest';
import { ExitCode, runCli } from '../../src/cli/cli.js';

function run(argv: string[], env: NodeJS.ProcessEnv = { AWS_REGION: 'us-east-1' }) {
  let stderr = '';
  const done = runCli(argv, {
    env,
    stdout: () => {},
    stderr: (t) => {
      stderr += t;
    },
    signal: AbortSignal.abort(),
  });
  return done.then((code) => ({ code, stderr }));
}

describe('shardline-s3-sink CLI', () => {
  it('refuses a missing bucket and bad numbers with a usage error', async () => {
    expect((await run(['--stream', 's'])).code).toBe(ExitCode.Usage);
    const bad = await run(['--stream', 's', '--bucket', 'b-bucket', '--buffer-size-bytes', 'lots']);
    expect(bad.code).toBe(ExitCode.Usage);
    expect(bad.stderr).toContain('--buffer-size-bytes');
  });

  it('reports every option problem at once, before any call', async () => {
    const out = await run([
      '--stream',
      's',
      '--bucket',
      'b-bucket',
      '--buffer-size-bytes',
      String(200 * 1024 * 1024),
      '--prefix',
      'x/!{nope:1}/',
    ]);
    expect(out.code).toBe(ExitCode.Usage);
    expect(out.stderr).toContain('bufferSizeBytes');
    expect(out.stderr).toContain('unknown expression !{nope:1}');
  });

  it('needs a region', async () => {
    const out = await run(['--stream', 's', '--bucket', 'b-bucket'], {});
    expect(out.code).toBe(ExitCode.Usage);
    expect(out.stderr).toContain('region');
  });
});
