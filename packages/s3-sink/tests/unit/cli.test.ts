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

  it('passes the event-time and query flags to the options, problems listed together', async () => {
    const out = await run([
      '--stream',
      's',
      '--bucket',
      'b-bucket',
      '--prefix',
      'country=!{partitionKeyFromQuery:country}/',
      '--time-field',
      'data.ts',
      '--time-zone',
      'Europe/Atlantis',
      '--metadata-extraction-query',
      '{country: .user.country | ascii_upcase}',
    ]);
    expect(out.code).toBe(ExitCode.Usage);
    expect(out.stderr).toContain('metadataExtractionQuery: pipes (|) are not supported');
    expect(out.stderr).toContain('timeZone: "Europe/Atlantis"');
    expect(out.stderr).toContain('timeField: is set but prefix has no !{timestamp:...}');
    const format = await run(['--stream', 's', '--bucket', 'b-bucket', '--time-field-format', 'nanos']);
    expect(format.code).toBe(ExitCode.Usage);
    expect(format.stderr).toContain('auto, iso-8601, epoch-seconds, epoch-millis');
  });

  it('needs a region', async () => {
    const out = await run(['--stream', 's', '--bucket', 'b-bucket'], {});
    expect(out.code).toBe(ExitCode.Usage);
    expect(out.stderr).toContain('region');
  });
});
