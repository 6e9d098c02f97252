/**
 * `pnpm bench <name> | --all | --list`: runs the benchmarks of this folder (see docs/benchmarks.md).
 * Started by the root script as `node --conditions=@shardline/source --import tsx benchmarks/run.ts`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildWorkspace, contendersFromSource, SOURCE_NODE_ARGS } from './harness/builtContender.js';
import { type BenchCommand, parseBenchArgs, USAGE } from './harness/cli.js';
import type { Benchmark } from './harness/defineBenchmark.js';
import { runBenchmark } from './harness/runBenchmark.js';

const here = import.meta.dirname;
const resultsDir = join(here, '..', 'bench-results');
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

function benchmarkNames(): string[] {
  return readdirSync(here)
    .filter((f) => f.endsWith('.ts') && f !== 'run.ts' && !f.endsWith('.d.ts'))
    .map((f) => f.slice(0, -3))
    .sort();
}

async function load(name: string): Promise<Benchmark> {
  const file = join(here, `${name}.ts`);
  if (!existsSync(file)) {
    throw new Error(`No benchmark "${name}" (benchmarks/${name}.ts). Known: ${benchmarkNames().join(', ')}`);
  }
  const module = (await import(pathToFileURL(file).href)) as { default?: Benchmark };
  const benchmark = module.default;
  if (benchmark?.kind !== 'benchmark') {
    throw new Error(`benchmarks/${name}.ts must \`export default defineBenchmark({...})\``);
  }
  if (benchmark.name !== name) {
    throw new Error(
      `benchmarks/${name}.ts declares the name "${benchmark.name}": it must match the file name`,
    );
  }
  return benchmark;
}

async function list(): Promise<number> {
  for (const name of benchmarkNames()) {
    const benchmark = await load(name);
    process.stdout.write(`${name.padEnd(14)} ${benchmark.description}\n`);
  }
  return 0;
}

/** Set for the benchmarks `--all` runs, once it has built the workspace. */
const WORKSPACE_BUILT = 'SHARDLINE_BENCH_WORKSPACE_BUILT';

/**
 * Builds the workspace once per `pnpm bench` (the producer benchmark starts the replay CLI's `dist`) and
 * says how contenders run (see harness/builtContender.ts).
 */
function prepareContenders(): void {
  if (process.env[WORKSPACE_BUILT] === '1') return;
  const ms = buildWorkspace(join(here, '..'));
  process.env[WORKSPACE_BUILT] = '1';
  process.stderr.write(
    contendersFromSource()
      ? `[bench] contenders run from source under tsx (SHARDLINE_BENCH_FROM_SOURCE=1); tsc -b: ${ms} ms\n`
      : `[bench] contenders run as bundled JavaScript, no loader; tsc -b: ${ms} ms\n`,
  );
}

async function one(command: Extract<BenchCommand, { mode: 'one' }>): Promise<number> {
  const benchmark = await load(command.name);
  prepareContenders();
  const controller = new AbortController();
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    if (signals === 1) {
      process.stderr.write(`\n[bench] ${signal}: stopping contenders and emulators...\n`);
      controller.abort(new Error(`interrupted by ${signal}`));
    } else {
      // Second Ctrl-C: leave now; the emulators' watchdogs end them when this process is gone.
      process.exit(130);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await runBenchmark(benchmark, {
      quick: command.quick,
      signal: controller.signal,
      resultsDir,
      ...(command.rounds === undefined ? {} : { rounds: command.rounds }),
      ...(command.contenders === undefined ? {} : { contenders: command.contenders }),
    });
    return 0;
  } catch (error) {
    if (controller.signal.aborted) return 130;
    throw error;
  }
}

let currentChild: ChildProcess | undefined;

function runChild(name: string, command: Extract<BenchCommand, { mode: 'all' }>): Promise<number> {
  const args = [...SOURCE_NODE_ARGS, join(here, 'run.ts'), name];
  if (command.quick) args.push('--quick');
  if (command.rounds !== undefined) args.push('--rounds', String(command.rounds));
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { stdio: 'inherit' });
    currentChild = child;
    child.on('exit', (code, signal) => {
      currentChild = undefined;
      resolve(code ?? (signal ? 128 : 1));
    });
    child.on('error', () => resolve(1));
  });
}

async function all(command: Extract<BenchCommand, { mode: 'all' }>): Promise<number> {
  // Each benchmark in its own process: one's memory or leftovers cannot skew the next.
  let interrupted = false;
  // Ctrl-C reaches the running benchmark from the terminal (same process group): let it clean up.
  process.on('SIGINT', () => {
    interrupted = true;
  });
  // SIGTERM (a CI timeout, `kill`) is sent to us alone: pass it on.
  process.on('SIGTERM', () => {
    interrupted = true;
    currentChild?.kill('SIGTERM');
  });
  const outcomes: { name: string; code: number; seconds: number }[] = [];
  prepareContenders();
  for (const name of benchmarkNames()) {
    if (interrupted) break;
    process.stderr.write(`\n[bench] === ${name}${command.quick ? ' --quick' : ''} ===\n`);
    const t0 = Date.now();
    const code = await runChild(name, command);
    outcomes.push({ name, code, seconds: (Date.now() - t0) / 1000 });
  }
  process.stderr.write('\n[bench] summary:\n');
  for (const o of outcomes) {
    process.stderr.write(
      `  ${o.name.padEnd(14)} ${o.code === 0 ? 'ok' : `FAILED (exit ${o.code})`}  ${o.seconds.toFixed(1)} s\n`,
    );
  }
  if (interrupted) return 130;
  return outcomes.every((o) => o.code === 0) ? 0 : 1;
}

async function main(): Promise<number> {
  let command: BenchCommand;
  try {
    command = parseBenchArgs(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    return 2;
  }
  switch (command.mode) {
    case 'help':
      process.stdout.write(`${USAGE}\n`);
      return 0;
    case 'list':
      return list();
    case 'all':
      return all(command);
    case 'one':
      return one(command);
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(
      `[bench] ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
