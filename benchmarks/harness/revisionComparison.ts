import type { BenchmarkReport, FigureResult } from './report.js';
import { roundFigure, summarize } from './stats.js';

/** Which checkout a run measured. */
export type Revision = 'base' | 'head';

/** One single-round run of a benchmark in one checkout. */
export interface RevisionRun {
  readonly revision: Revision;
  readonly report: BenchmarkReport;
}

/** One figure's candidate values in the base and head checkouts. */
export interface RevisionFigure {
  readonly name: string;
  readonly unit: string;
  readonly better: 'higher' | 'lower';
  readonly base: {
    readonly median: number;
    readonly min: number;
    readonly max: number;
    readonly runs: number;
  };
  readonly head: {
    readonly median: number;
    readonly min: number;
    readonly max: number;
    readonly runs: number;
  };
  /** head median / base median. */
  readonly ratio: number;
  /** Whether the head's median lies within the base's [min, max]. */
  readonly withinBaseRange: boolean;
}

/**
 * Compares the candidate value of every figure (and, where the figure has a baseline, the run's
 * candidate/baseline ratio) between runs of the same benchmark in two checkouts
 * (the commit before a change and after it), run alternately: per figure, median/min/max of each side
 * and whether the head's median stays within the base's min–max range. Pure.
 *
 * @throws Error when there is no run of one side, or a figure is missing from some run.
 */
export function compareRevisions(runs: readonly RevisionRun[]): RevisionFigure[] {
  const base = runs.filter((r) => r.revision === 'base');
  const head = runs.filter((r) => r.revision === 'head');
  if (base.length === 0 || head.length === 0) {
    throw new Error(`need runs of both checkouts (base: ${base.length}, head: ${head.length})`);
  }
  const figureOf = (run: RevisionRun, index: number, name: string) => {
    const figure = run.report.figures.find((f) => f.name === name);
    if (figure === undefined)
      throw new Error(`figure "${name}" is missing from ${run.revision} run ${index + 1}`);
    return figure;
  };
  const compare = (
    name: string,
    unit: string,
    better: 'higher' | 'lower',
    value: (f: FigureResult) => number,
  ) => {
    const b = summarize(base.map((run, index) => value(figureOf(run, index, name))));
    const h = summarize(head.map((run, index) => value(figureOf(run, index, name))));
    const side = (x: typeof b) => ({
      median: roundFigure(x.median),
      min: roundFigure(x.min),
      max: roundFigure(x.max),
      runs: x.count,
    });
    return {
      name,
      unit,
      better,
      base: side(b),
      head: side(h),
      ratio:
        b.median === 0
          ? h.median === 0
            ? 1
            : Number.POSITIVE_INFINITY
          : Number((h.median / b.median).toFixed(3)),
      withinBaseRange: h.median >= b.min && h.median <= b.max,
    };
  };
  const figures: RevisionFigure[] = [];
  for (const spec of base[0]!.report.figures) {
    // A figure taken under load compares only with its baseline of the same run: only its ratio is kept.
    if (!spec.under_load) figures.push(compare(spec.name, spec.unit, spec.better, (f) => f.candidate));
    // Each run's candidate/baseline ratio too: the baseline met the same machine in the same run, so the
    // ratio carries less of the load than the raw value.
    if (spec.ratio !== null) {
      figures.push({
        ...compare(spec.name, 'ratio', spec.better, (f) => {
          if (f.ratio === null) throw new Error(`figure "${spec.name}" has no ratio in some run`);
          return f.ratio;
        }),
        name: `${spec.name} (÷ baseline)`,
      });
    }
  }
  return figures;
}

/**
 * The order of `pairs` alternating runs: base, head, then head, base, and so on, so that neither
 * checkout always runs first. Pure.
 */
export function revisionOrder(pairs: number): Revision[] {
  const order: Revision[] = [];
  for (let i = 0; i < pairs; i++)
    order.push(...(i % 2 === 0 ? (['base', 'head'] as const) : (['head', 'base'] as const)));
  return order;
}

/** The comparison as a Markdown table. Pure. */
export function formatRevisionTable(figures: readonly RevisionFigure[]): string {
  const n = (v: number) => v.toLocaleString('en-US', { maximumFractionDigits: 2 });
  const rows = figures.map(
    (f) =>
      `| \`${f.name}\` | ${f.unit} | ${n(f.base.median)} [${n(f.base.min)}–${n(f.base.max)}] | ${n(f.head.median)} [${n(f.head.min)}–${n(f.head.max)}] | ${f.ratio} | ${f.withinBaseRange ? 'yes' : 'no'} |`,
  );
  return [
    '| figure | unit | base median [min–max] | head median [min–max] | head/base | head median within base range |',
    '|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}
