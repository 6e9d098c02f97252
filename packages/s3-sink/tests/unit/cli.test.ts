import { fileURLToPath } from 'node:url';
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

describe('shardline-s3-sink CLI: --buffer-records and --transform', () => {
  const base = ['--stream', 's', '--bucket', 'b-bucket'];
  const fixture = (name: string) => fileURLToPath(new URL(`../helpers/transforms/${name}`, import.meta.url));

  it('refuses a bad --buffer-records', async () => {
    const out = await run([...base, '--buffer-records', '-3']);
    expect(out.code).toBe(ExitCode.Usage);
    expect(out.stderr).toContain('--buffer-records');
    const tooMany = await run([...base, '--buffer-records', '20000000', '--prefix', 'x/!{nope:1}/']);
    expect(tooMany.code).toBe(ExitCode.Usage);
    expect(tooMany.stderr).toContain('bufferRecords');
    expect(tooMany.stderr).toContain('unknown expression !{nope:1}');
  });

  it('refuses a --transform module that cannot be imported, or lacks transform or version', async () => {
    const missing = await run([...base, '--transform', fixture('nope.ts')]);
    expect(missing.code).toBe(ExitCode.Usage);
    expect(missing.stderr).toContain('cannot import it');
    const shared = await run([...base, '--transform', fixture('tagShared.ts')]);
    expect(shared.code).toBe(ExitCode.Usage);
    expect(shared.stderr).toContain('must export a function `transform` and a string `version`');
  });

  it('loads a --transform module with its version (options checked, then the destinations)', async () => {
    const { transformFlagOptions } = await import('../../src/cli/transformFlags.js');
    const options = await transformFlagOptions({ transform: fixture('tagA.ts'), bufferRecords: 7 }, '/');
    expect(typeof options).toBe('object');
    expect(options).toMatchObject({ bufferRecords: 7, transform: { version: 'tag-A' } });
  });
});
