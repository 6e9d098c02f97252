import { describe, expect, it } from 'vitest';
import type { FigureSpec } from '../harness/defineBenchmark.js';
import {
  type BenchmarkReport,
  buildReport,
  figureNameDifferences,
  formatTable,
  reportProblems,
} from '../harness/report.js';

const figures: FigureSpec[] = [
  { name: 'records_per_s', unit: '1/s', better: 'higher', from: 'worker', baseline: 'bare-loop' },
  {
    name: 'lifion_cpu_us_per_record',
    unit: 'us',
    better: 'lower',
    from: 'lifion',
    metric: 'cpu_us_per_record',
    baseline: 'bare-loop',
  },
  {
    name: 'latency_p50_ms',
    unit: 'ms',
    better: 'lower',
    from: 'worker',
    baseline: null,
    reference: { value: 150, source: 'issue target' },
  },
];

const rounds = [
  {
    worker: { records_per_s: 900, latency_p50_ms: 40 },
    'bare-loop': { records_per_s: 1000, cpu_us_per_record: 10 },
    lifion: { cpu_us_per_record: 14 },
  },
  {
    worker: { records_per_s: 950, latency_p50_ms: 60 },
    'bare-loop': { records_per_s: 1100, cpu_us_per_record: 12 },
    lifion: { cpu_us_per_record: 15 },
  },
  {
    worker: { records_per_s: 700, latency_p50_ms: 50 },
    'bare-loop': { records_per_s: 1200, cpu_us_per_record: 11 },
    lifion: { cpu_us_per_record: 16 },
  },
];

describe('buildReport', () => {
  const report = buildReport('consumer', false, figures, rounds);

  it('has the issue shape: bench, quick, figures with name, unit, candidate, baseline, ratio', () => {
    expect(report.bench).toBe('consumer');
    expect(report.quick).toBe(false);
    expect(report.figures.map((f) => f.name)).toEqual([
      'records_per_s',
      'lifion_cpu_us_per_record',
      'latency_p50_ms',
    ]);
    expect(
      reportProblems(
        JSON.parse(JSON.stringify(report)),
        figures.map((f) => f.name),
      ),
    ).toEqual([]);
  });

  it('takes medians over the rounds and the ratio of the medians', () => {
    const f = report.figures[0]!;
    expect([f.candidate, f.candidate_min, f.candidate_max]).toEqual([900, 700, 950]);
    expect([f.baseline, f.baseline_min, f.baseline_max]).toEqual([1100, 1000, 1200]);
    expect(f.ratio).toBeCloseTo(900 / 1100, 3);
    expect(f.rounds).toBe(3);
  });

  it('reads a named metric of another contender against the baseline', () => {
    const f = report.figures[1]!;
    expect(f.candidate).toBe(15);
    expect(f.baseline).toBe(11);
    expect(f.ratio).toBeCloseTo(15 / 11, 3);
  });

  it('leaves baseline and ratio null without a baseline and carries the reference', () => {
    const f = report.figures[2]!;
    expect(f.baseline).toBeNull();
    expect(f.ratio).toBeNull();
    expect(f.reference).toEqual({ value: 150, source: 'issue target' });
  });

  it('names the contender, metric and round of a missing value', () => {
    const broken = [rounds[0]!, { ...rounds[1]!, lifion: {} }];
    expect(() => buildReport('consumer', false, figures, broken)).toThrow(
      /"lifion_cpu_us_per_record": contender "lifion" gave no finite "cpu_us_per_record" in round 2/,
    );
  });

  it('prints one table row per figure', () => {
    const table = formatTable(report, figures);
    expect(table).toMatch(
      /records_per_s .*900 \[700–950\] \(worker\).*1,100 \[1,000–1,200\] \(bare-loop\).*0\.82×/,
    );
    expect(table).toContain('latency_p50_ms: 150 (issue target)');
  });
});

describe('a figure taken under load', () => {
  const underLoad: FigureSpec[] = [
    {
      name: 'fanout_cpu_us_per_record',
      unit: 'us',
      better: 'lower',
      from: 'lifion',
      metric: 'cpu_us_per_record',
      baseline: 'bare-loop',
      underLoad: true,
    },
    figures[0]!,
  ];
  const report = buildReport('consumer', false, underLoad, rounds);

  it('says so in the JSON line, and only for that figure', () => {
    const json = JSON.parse(JSON.stringify(report)) as BenchmarkReport;
    expect(json.figures[0]!.under_load).toBe(true);
    expect('under_load' in json.figures[1]!).toBe(false);
    expect(
      reportProblems(
        json,
        underLoad.map((f) => f.name),
      ),
    ).toEqual([]);
  });

  it('is starred in the table, with a legend', () => {
    const table = formatTable(report, underLoad);
    expect(table).toMatch(/\| fanout_cpu_us_per_record \* /);
    expect(table).toMatch(/\| records_per_s {2,}\|/);
    expect(table).toContain(
      '* taken under load (the emulator loads the machine): compare only with the baseline of this run',
    );
    expect(formatTable(buildReport('consumer', false, figures, rounds), figures)).not.toContain('under load');
  });
});

describe('figure names of a quick and a full run', () => {
  it('finds what is missing and what is extra', () => {
    expect(figureNameDifferences(['a_ms', 'b_ms', 'c_ms'], ['a_ms', 'c_ms', 'd_ms'])).toEqual({
      missing: ['b_ms'],
      extra: ['d_ms'],
    });
    expect(figureNameDifferences(['a_ms'], ['a_ms'])).toEqual({ missing: [], extra: [] });
  });

  it('reportProblems flags a quick report that lacks a figure of the full run', () => {
    const quick = {
      bench: 'x',
      quick: true,
      figures: [{ name: 'a_ms', unit: 'ms', candidate: 1, baseline: null, ratio: null }],
    };
    expect(reportProblems(quick, ['a_ms', 'b_per_s'])).toEqual(['figures missing: b_per_s']);
  });

  it('reportProblems flags wrong types and a ratio without baseline', () => {
    const bad = {
      bench: 1,
      quick: 'no',
      figures: [{ name: 'a_ms', unit: 'ms', candidate: 'fast', baseline: null, ratio: 2 }],
    };
    expect(reportProblems(bad, ['a_ms'])).toEqual([
      '"bench" is not a string',
      '"quick" is not a boolean',
      'figure a_ms: "candidate" is not a finite number',
      'figure a_ms: "ratio" must be null without a baseline',
    ]);
  });

  it('reportProblems checks the machine load block when present', () => {
    const figures = [{ name: 'a_ms', unit: 'ms', candidate: 1, baseline: null, ratio: null }];
    const machine = { cores: 2, load_average_before: 3.1, load_average_max: 4, under_load: true };
    expect(reportProblems({ bench: 'x', quick: false, figures, machine }, ['a_ms'])).toEqual([]);
    expect(
      reportProblems(
        { bench: 'x', quick: false, figures, machine: { ...machine, load_average_max: '4', under_load: 1 } },
        ['a_ms'],
      ),
    ).toEqual(['"machine.load_average_max" is not a number', '"machine.under_load" is not a boolean']);
  });
});
