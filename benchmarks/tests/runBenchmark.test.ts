import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defineBenchmark } from '../harness/defineBenchmark.js';
import { reportProblems } from '../harness/report.js';
import { runBenchmark } from '../harness/runBenchmark.js';

const resultsDir = mkdtempSync(join(tmpdir(), 'shardline-bench-test-'));
afterAll(() => rmSync(resultsDir, { recursive: true, force: true }));

function fakeBenchmark(calls: string[], failIn?: string) {
  const contender = (name: string, value: number) => async () => {
    calls.push(name);
    if (name === failIn) throw new Error(`${name} failed`);
    return { records_per_s: value };
  };
  return defineBenchmark({
    name: 'fake',
    description: 'a fake benchmark',
    rounds: 3,
    quickRounds: 1,
    params: { full: {}, quick: {} },
    setup: async (ctx) => {
      ctx.defer(() => calls.push('cleanup'));
    },
    contenders: { 'bare-loop': contender('bare-loop', 100), worker: contender('worker', 90) },
    figures: [
      { name: 'records_per_s', unit: '1/s', better: 'higher', from: 'worker', baseline: 'bare-loop' },
    ],
  });
}

describe('runBenchmark', () => {
  it('interleaves the contenders, prints the table and ends with the JSON line it also writes to a file', async () => {
    const calls: string[] = [];
    let out = '';
    const report = await runBenchmark(fakeBenchmark(calls), {
      quick: false,
      signal: new AbortController().signal,
      resultsDir,
      write: (text) => {
        out += text;
      },
      log: () => {},
    });
    expect(calls).toEqual(['bare-loop', 'worker', 'worker', 'bare-loop', 'bare-loop', 'worker', 'cleanup']);
    const lines = out.trimEnd().split('\n');
    const last = JSON.parse(lines.at(-1)!);
    expect(last).toEqual(report);
    expect(Object.keys(last)).toEqual(['bench', 'quick', 'figures', 'machine']);
    expect(last.machine.cores).toBeGreaterThan(0);
    expect(last.machine.under_load).toBe(last.machine.load_average_before > last.machine.cores);
    expect(last.figures[0]).toMatchObject({
      name: 'records_per_s',
      candidate: 90,
      baseline: 100,
      ratio: 0.9,
    });
    expect(reportProblems(last, ['records_per_s'])).toEqual([]);
    expect(out).toContain('| records_per_s');
    expect(JSON.parse(readFileSync(join(resultsDir, 'fake.json'), 'utf8'))).toEqual(report);
  });

  it('runs quickRounds with --quick and --rounds overrides both', async () => {
    const quickCalls: string[] = [];
    const opts = { signal: new AbortController().signal, resultsDir, write: () => {}, log: () => {} };
    const quick = await runBenchmark(fakeBenchmark(quickCalls), { ...opts, quick: true });
    expect(quick.quick).toBe(true);
    expect(quickCalls.filter((c) => c === 'worker')).toHaveLength(1);
    const overridden: string[] = [];
    await runBenchmark(fakeBenchmark(overridden), { ...opts, quick: true, rounds: 2 });
    expect(overridden.filter((c) => c === 'worker')).toHaveLength(2);
  });

  it('runs the cleanups when a contender fails, and writes no report', async () => {
    const calls: string[] = [];
    let out = '';
    const run = runBenchmark(fakeBenchmark(calls, 'worker'), {
      quick: false,
      signal: new AbortController().signal,
      resultsDir: join(resultsDir, 'failed'),
      write: (text) => {
        out += text;
      },
      log: () => {},
    });
    await expect(run).rejects.toThrow('worker failed');
    expect(calls).toEqual(['bare-loop', 'worker', 'cleanup']);
    expect(out).toBe('');
  });

  it('stops at the next contender once aborted, and still cleans up', async () => {
    const calls: string[] = [];
    const controller = new AbortController();
    const benchmark = defineBenchmark({
      name: 'fake',
      description: 'aborts',
      rounds: 3,
      params: { full: {}, quick: {} },
      setup: async (ctx) => ctx.defer(() => calls.push('cleanup')),
      contenders: {
        only: async () => {
          calls.push('only');
          controller.abort(new Error('interrupted by SIGINT'));
          return { x_ms: 1 };
        },
      },
      figures: [{ name: 'x_ms', unit: 'ms', better: 'lower', from: 'only', baseline: null }],
    });
    await expect(
      runBenchmark(benchmark, {
        quick: false,
        signal: controller.signal,
        resultsDir,
        write: () => {},
        log: () => {},
      }),
    ).rejects.toThrow('interrupted by SIGINT');
    expect(calls).toEqual(['only', 'cleanup']);
  });
});
