import type { BenchmarkReport } from './report.js';
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
 * Compares the candidate value of every figure between runs of the same benchmark in two checkouts
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
  const names = base[0]!.report.figures.map((f) => f.name);
  const valuesOf = (side: readonly RevisionRun[], name: string): number[] =>
    side.map((run, index) => {
      const figure = run.report.figures.find((f) => f.name === name);
      if (figure === undefined)
        throw new Error(`figure "${name}" is missing from ${run.revision} run ${index + 1}`);
      return figure.candidate;
    });
  return names.map((name) => {
    const spec = base[0]!.report.figures.find((f) => f.name === name)!;
    const b = summarize(valuesOf(base, name));
    const h = summarize(valuesOf(head, name));
    return {
      name,
      unit: spec.unit,
      better: spec.better,
      base: {
        median: roundFigure(b.median),
        min: roundFigure(b.min),
        max: roundFigure(b.max),
        runs: b.count,
      },
      head: {
        median: roundFigure(h.median),
        min: roundFigure(h.min),
        max: roundFigure(h.max),
        runs: h.count,
      },
      ratio:
        b.median === 0
          ? h.median === 0
            ? 1
            : Number.POSITIVE_INFINITY
          : Number((h.median / b.median).toFixed(3)),
      withinBaseRange: h.median >= b.min && h.median <= b.max,
    };
  });
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
