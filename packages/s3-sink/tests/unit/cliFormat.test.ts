import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode, runCli } from '../../src/cli/cli.js';

function run(argv: string[]) {
  let stderr = '';
  const done = runCli(['--stream', 's', '--bucket', 'b-bucket', ...argv], {
    env: { AWS_REGION: 'us-east-1' },
    stdout: () => {},
    stderr: (t) => {
      stderr += t;
    },
    signal: AbortSignal.abort(),
  });
  return done.then((code) => ({ code, stderr }));
}

describe('shardline-s3-sink CLI: record format flags', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cli-format-'));
    await writeFile(join(dir, 'bad.json'), '[{"name":"eventId","type":"string"},{"name":"n","type":"int"}]');
    await writeFile(join(dir, 'broken.json'), '{"type":');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('needs --schema with --format parquet, and --format parquet with the Parquet flags', async () => {
    const noSchema = await run(['--format', 'parquet']);
    expect(noSchema.code).toBe(ExitCode.Usage);
    expect(noSchema.stderr).toContain('--format parquet needs --schema <file>');
    const noFormat = await run(['--schema', join(dir, 'bad.json'), '--parquet-compression', 'zstd']);
    expect(noFormat.code).toBe(ExitCode.Usage);
    expect(noFormat.stderr).toContain('--schema, --parquet-compression need --format parquet');
    const badChoice = await run(['--format', 'csv']);
    expect(badChoice.code).toBe(ExitCode.Usage);
  });

  it('reports a schema file that is not JSON, and every problem of the schema with the other options', async () => {
    const broken = await run(['--format', 'parquet', '--schema', join(dir, 'broken.json')]);
    expect(broken.code).toBe(ExitCode.Usage);
    expect(broken.stderr).toContain(`--schema ${join(dir, 'broken.json')}:`);
    const missing = await run(['--format', 'parquet', '--schema', join(dir, 'nope.json')]);
    expect(missing.code).toBe(ExitCode.Usage);
    expect(missing.stderr).toContain('ENOENT');
    const bad = await run([
      '--format',
      'parquet',
      '--schema',
      join(dir, 'bad.json'),
      '--compression',
      'gzip',
    ]);
    expect(bad.code).toBe(ExitCode.Usage);
    expect(bad.stderr).toContain('"eventId" is reserved');
    expect(bad.stderr).toContain('parquet.schema[1].type');
    expect(bad.stderr).toContain("must be 'none' with format 'parquet'");
  });
});
