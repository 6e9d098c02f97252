import { describe, expect, it } from 'vitest';
import type { FigureSpec } from '../harness/defineBenchmark.js';
import type { BenchmarkReport } from '../harness/report.js';
import { compareRevisions, revisionOrder } from '../harness/revisionComparison.js';
import { selectContenders } from '../harness/runBenchmark.js';

function report(cpu: number, rate: number): BenchmarkReport {
  const figure = (name: string, unit: string, candidate: number, better: 'higher' | 'lower') => ({
    name,
    unit,
    candidate,
    baseline: null,
    ratio: null,
    better,
    candidate_min: candidate,
    candidate_max: candidate,
    baseline_min: null,
    baseline_max: null,
    rounds: 1,
  });
  return {
    bench: 'consumer',
    quick: false,
    figures: [
      figure('cpu_us_per_record', 'us', cpu, 'lower'),
      figure('records_per_s', '1/s', rate, 'higher'),
    ],
  };
}

describe('compareRevisions', () => {
  it('summarises each side and checks the head median against the base range', () => {
    const figures = compareRevisions([
      { revision: 'base', report: report(8, 30_000) },
      { revision: 'head', report: report(8.2, 20_000) },
      { revision: 'head', report: report(8.4, 21_000) },
      { revision: 'base', report: report(9, 31_000) },
    ]);
    expect(figures[0]).toMatchObject({
      name: 'cpu_us_per_record',
      base: { median: 8.5, min: 8, max: 9, runs: 2 },
      head: { median: 8.3, min: 8.2, max: 8.4, runs: 2 },
      ratio: 0.976,
      withinBaseRange: true,
    });
    expect(figures[1]).toMatchObject({ name: 'records_per_s', withinBaseRange: false });
    expect(figures).toHaveLength(2);
  });

  it('needs both sides and every figure in every run', () => {
    expect(() => compareRevisions([{ revision: 'base', report: report(1, 1) }])).toThrow(/both checkouts/);
    const partial: BenchmarkReport = { ...report(1, 1), figures: report(1, 1).figures.slice(0, 1) };
    expect(() =>
      compareRevisions([
        { revision: 'base', report: report(1, 1) },
        { revision: 'head', report: partial },
      ]),
    ).toThrow(/"records_per_s" is missing from head run 1/);
  });
});

describe('compareRevisions of a figure taken under load', () => {
  it('compares only its candidate/baseline ratio, never its raw value across runs', () => {
    const underLoad = (candidate: number, ratio: number): BenchmarkReport => {
      const r = report(candidate, 1);
      return {
        ...r,
        figures: [{ ...r.figures[0]!, baseline: candidate / ratio, ratio, under_load: true }, r.figures[1]!],
      };
    };
    const figures = compareRevisions([
      { revision: 'base', report: underLoad(10, 1.0) },
      { revision: 'head', report: underLoad(20, 1.05) },
    ]);
    expect(figures.map((f) => f.name)).toEqual(['cpu_us_per_record (÷ baseline)', 'records_per_s']);
    expect(figures[0]).toMatchObject({ unit: 'ratio', ratio: 1.05 });
  });
});

describe('compareRevisions with a baseline', () => {
  it("compares the runs' candidate/baseline ratios as a figure of their own", () => {
    const withRatio = (candidate: number, ratio: number): BenchmarkReport => {
      const r = report(candidate, 1);
      return { ...r, figures: [{ ...r.figures[0]!, baseline: candidate / ratio, ratio }] };
    };
    const figures = compareRevisions([
      { revision: 'base', report: withRatio(10, 1.1) },
      { revision: 'base', report: withRatio(12, 1.3) },
      { revision: 'head', report: withRatio(11, 1.2) },
    ]);
    expect(figures.map((f) => f.name)).toEqual(['cpu_us_per_record', 'cpu_us_per_record (÷ baseline)']);
    expect(figures[1]).toMatchObject({
      unit: 'ratio',
      base: { median: 1.2, min: 1.1, max: 1.3 },
      head: { median: 1.2 },
      withinBaseRange: true,
    });
  });
});

describe('revisionOrder', () => {
  it('alternates which checkout runs first', () => {
    expect(revisionOrder(3)).toEqual(['base', 'head', 'head', 'base', 'base', 'head']);
  });
});

describe('selectContenders', () => {
  const figures: FigureSpec[] = [
    { name: 'a_ms', unit: 'ms', better: 'lower', from: 'x', baseline: 'y' },
    { name: 'b_ms', unit: 'ms', better: 'lower', from: 'z', baseline: null },
  ];
  it('keeps the figures whose contenders all run', () => {
    const selection = selectContenders(['x', 'y', 'z'], figures, ['y', 'x']);
    expect(selection.names).toEqual(['x', 'y']);
    expect(selection.figures.map((f) => f.name)).toEqual(['a_ms']);
    expect(selectContenders(['x', 'y', 'z'], figures, undefined).figures).toHaveLength(2);
  });
  it('names unknown contenders and refuses a selection that makes no figure', () => {
    expect(() => selectContenders(['x', 'y', 'z'], figures, ['x', 'q'])).toThrow(/unknown contender\(s\) q/);
    expect(() => selectContenders(['x', 'y', 'z'], figures, ['y'])).toThrow(/no figure/);
  });
});
