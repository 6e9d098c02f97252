/**
 * `pnpm bench:revisions --base <dir> <name> [--pairs N] [--contenders a,b]`: runs one benchmark
 * alternately in another checkout (the commit before a change, with its dependencies installed) and in
 * this one, one round per run, and says per figure whether this checkout's median stays within the
 * other's min–max range. For a change that must not move the figures (a refactor). See
 * docs/benchmarks.md.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { BenchmarkReport } from '../harness/report.js';
import {
  compareRevisions,
  formatRevisionTable,
  type Revision,
  type RevisionRun,
  revisionOrder,
} from '../harness/revisionComparison.js';
import { machineLine } from '../harness/runBenchmark.js';

const USAGE = `Usage: pnpm bench:revisions --base <dir> <name> [--pairs N] [--contenders a,b]
  --base DIR     another checkout of this repository (dependencies installed) to compare with
  --pairs N      how many base/head pairs of one-round runs (default 3), alternating the order
  --contenders   passed to each run (both checkouts must know the option)`;

const head = resolve(import.meta.dirname, '..', '..');

function runOnce(dir: string, name: string, contenders: string | undefined): Promise<BenchmarkReport> {
  const args = [
    '--conditions=@shardline/source',
    '--import',
    'tsx',
    'benchmarks/run.ts',
    name,
    '--rounds',
    '1',
  ];
  if (contenders !== undefined) args.push('--contenders', contenders);
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, args, { cwd: dir, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      const last = out.trim().split('\n').pop() ?? '';
      if (code !== 0) {
        reject(new Error(`benchmark in ${dir} exited with ${code ?? signal}`));
        return;
      }
      try {
        resolvePromise(JSON.parse(last) as BenchmarkReport);
      } catch {
        reject(new Error(`benchmark in ${dir} printed no JSON line last: ${last.slice(0, 200)}`));
      }
    });
  });
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    args: process.argv.slice(2).filter((a) => a !== '--'),
    allowPositionals: true,
    options: {
      base: { type: 'string' },
      pairs: { type: 'string', default: '3' },
      contenders: { type: 'string' },
    },
  });
  const problems: string[] = [];
  const pairs = Number(values.pairs);
  if (!Number.isInteger(pairs) || pairs < 1)
    problems.push(`--pairs must be an integer ≥ 1, got "${values.pairs}"`);
  if (values.base === undefined) problems.push('--base <dir> is required');
  else if (!existsSync(join(values.base, 'benchmarks', 'run.ts')))
    problems.push(`${values.base} is not a checkout`);
  if (positionals.length !== 1) problems.push('name exactly one benchmark');
  if (problems.length > 0) {
    process.stderr.write(`${problems.join('\n')}\n\n${USAGE}\n`);
    return 2;
  }
  const name = positionals[0]!;
  const dirs: Record<Revision, string> = { base: resolve(values.base!), head };
  const runs: RevisionRun[] = [];
  const loads: number[] = [];
  const started = Date.now();
  for (const [index, revision] of revisionOrder(pairs).entries()) {
    loads.push(loadavg()[0]!);
    process.stderr.write(`[revisions] run ${index + 1}/${pairs * 2}: ${revision} (${dirs[revision]})\n`);
    runs.push({ revision, report: await runOnce(dirs[revision], name, values.contenders) });
  }
  const figures = compareRevisions(runs);
  const result = {
    bench: name,
    pairs,
    base: dirs.base,
    contenders: values.contenders ?? null,
    load_average_max: Number(Math.max(...loads).toFixed(2)),
    figures,
    runs: runs.map((run, index) => ({
      revision: run.revision,
      load_average: loads[index],
      report: run.report,
    })),
  };
  const dir = join(head, 'bench-results');
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, `${name}-revisions.json`), `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(
    [
      '',
      `${name}: base ${dirs.base} vs head ${head}, ${pairs} pair(s) of one-round runs, ${((Date.now() - started) / 1000).toFixed(0)} s`,
      `${machineLine()}; 1-min load average before each run: ${loads.map((l) => l.toFixed(2)).join(', ')}`,
      '',
      formatRevisionTable(figures),
      '',
      JSON.stringify({ ...result, runs: undefined }),
      '',
    ].join('\n'),
  );
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`[revisions] ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
