import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));

function runDemo(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ['--conditions=@shardline/source', '--import', 'tsx', 'examples/demo/src/main.ts', ...args],
      { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      out += c;
    });
    child.stderr.setEncoding('utf8').on('data', (c: string) => {
      out += c;
    });
    child.once('exit', (code) => resolve({ code, out }));
  });
}

it('runs the whole pipeline with a worker killed mid-run and verifies the archive', async () => {
  const { code, out } = await runDemo(['--chaos', '--events', '500']);
  expect(code, out).toBe(0);
  const summary = JSON.parse(out.trim().split('\n').at(-1)!) as Record<string, number>;
  expect(summary).toMatchObject({ events_sent: 1_500, events_archived: 1_500, duplicates: 0, missing: 0 });
  expect(out).toMatch(/chaos: SIGKILL sink-1 \(holding shardId-/);
  expect(out).toContain('verified: every event is in S3 exactly once');
}, 150_000);

it('archives as Parquet and verifies every event with DuckDB', async () => {
  const { code, out } = await runDemo(['--format', 'parquet', '--events', '200']);
  expect(code, out).toBe(0);
  const summary = JSON.parse(out.trim().split('\n').at(-1)!) as Record<string, unknown>;
  expect(summary).toMatchObject({
    events_sent: 1_200,
    events_archived: 1_200,
    format: 'parquet',
    error_records: 0,
    duplicates: 0,
    missing: 0,
  });
  expect(out).toContain('Parquet, snappy pages; read back with DuckDB');
  expect(out).toContain('verified: every event is in S3 exactly once');
}, 150_000);

it('refuses bad flags with a usage error', async () => {
  const { code, out } = await runDemo(['--events=-3', '--rate', 'fast', '--format', 'orc']);
  expect(code).toBe(2);
  expect(out).toContain('--format must be json or parquet');
  expect(out).toContain('--events must be a whole number');
  expect(out).toContain('--rate must look like 200/s');
});
