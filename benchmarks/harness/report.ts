import type { Better, FigureSpec, Reference, RoundMetrics } from './defineBenchmark.js';
import { ratio, roundFigure, summarize } from './stats.js';

/** One figure of the JSON line. `candidate`, `baseline` and `ratio` are the keys scripts compare. */
export interface FigureResult {
  readonly name: string;
  readonly unit: string;
  /** Median over the rounds of the candidate's value. */
  readonly candidate: number;
  /** Median over the rounds of the baseline's value, or `null` when no baseline is measured. */
  readonly baseline: number | null;
  /** `candidate / baseline`, or `null`. */
  readonly ratio: number | null;
  readonly reference?: Reference;
  /** Present when the figure was taken under load: compare it only with the baseline of the same run. */
  readonly under_load?: true;
  readonly better: Better;
  readonly candidate_min: number;
  readonly candidate_max: number;
  readonly baseline_min: number | null;
  readonly baseline_max: number | null;
  /** Rounds that produced the figure. */
  readonly rounds: number;
}

/** How busy the machine was: other work skews every figure. */
export interface MachineLoad {
  /** Cores Node may use (`os.availableParallelism()`). */
  readonly cores: number;
  /** 1-minute load average just before the run: the other work on the machine. */
  readonly load_average_before: number;
  /** Highest 1-minute load average sampled during the run (the benchmark's own processes count in it). */
  readonly load_average_max: number;
  /** `load_average_before > cores`: figures of such a run are marked and kept out of the docs' tables. */
  readonly under_load: boolean;
}

/** The JSON line (and `bench-results/<name>.json`). */
export interface BenchmarkReport {
  readonly bench: string;
  readonly quick: boolean;
  readonly figures: readonly FigureResult[];
  /** Set by the runner; absent from reports built by other means (tests, older results). */
  readonly machine?: MachineLoad;
}

/** Every contender's metrics of one round. */
export type RoundResults = Readonly<Record<string, RoundMetrics>>;

function valuesOf(
  rounds: readonly RoundResults[],
  contender: string,
  metric: string,
  figure: string,
): number[] {
  return rounds.map((round, index) => {
    const value = round[contender]?.[metric];
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new Error(
        `figure "${figure}": contender "${contender}" gave no finite "${metric}" in round ${index + 1} (got ${value})`,
      );
    }
    return value;
  });
}

/**
 * Turns the rounds' results into the report: per figure, median/min/max of candidate and baseline over
 * the rounds and the ratio of the medians. Pure.
 *
 * @throws Error when a contender did not produce a metric a figure needs, in some round.
 */
export function buildReport(
  bench: string,
  quick: boolean,
  figures: readonly FigureSpec[],
  rounds: readonly RoundResults[],
): BenchmarkReport {
  if (rounds.length === 0) throw new Error(`benchmark "${bench}" produced no rounds`);
  return {
    bench,
    quick,
    figures: figures.map((figure): FigureResult => {
      const metric = figure.metric ?? figure.name;
      const candidate = summarize(valuesOf(rounds, figure.from, metric, figure.name));
      const baseline =
        figure.baseline === null
          ? null
          : summarize(valuesOf(rounds, figure.baseline, figure.baselineMetric ?? metric, figure.name));
      const r = ratio(candidate.median, baseline?.median ?? null);
      return {
        name: figure.name,
        unit: figure.unit,
        candidate: roundFigure(candidate.median),
        baseline: baseline ? roundFigure(baseline.median) : null,
        ratio: r === null ? null : Number(r.toFixed(3)),
        ...(figure.reference ? { reference: figure.reference } : {}),
        ...(figure.underLoad ? { under_load: true as const } : {}),
        better: figure.better,
        candidate_min: roundFigure(candidate.min),
        candidate_max: roundFigure(candidate.max),
        baseline_min: baseline ? roundFigure(baseline.min) : null,
        baseline_max: baseline ? roundFigure(baseline.max) : null,
        rounds: candidate.count,
      };
    }),
  };
}

/** Figure names of `expected` missing from `actual`, and names in `actual` that `expected` lacks. Pure. */
export function figureNameDifferences(
  expected: readonly string[],
  actual: readonly string[],
): { readonly missing: string[]; readonly extra: string[] } {
  const have = new Set(actual);
  const want = new Set(expected);
  return {
    missing: [...want].filter((name) => !have.has(name)),
    extra: [...have].filter((name) => !want.has(name)),
  };
}

/**
 * Checks a report's shape: the keys of the JSON line with the right types and figure names that
 * match `expectedNames` (a quick run must emit every figure of the full run). Returns every problem. Pure.
 */
export function reportProblems(report: unknown, expectedNames: readonly string[]): string[] {
  const problems: string[] = [];
  if (typeof report !== 'object' || report === null) return ['the report is not an object'];
  const r = report as Record<string, unknown>;
  if (typeof r.bench !== 'string') problems.push('"bench" is not a string');
  if (typeof r.quick !== 'boolean') problems.push('"quick" is not a boolean');
  if (!Array.isArray(r.figures)) return [...problems, '"figures" is not an array'];
  const names: string[] = [];
  for (const [index, f] of (r.figures as unknown[]).entries()) {
    if (typeof f !== 'object' || f === null) {
      problems.push(`figure ${index} is not an object`);
      continue;
    }
    const figure = f as Record<string, unknown>;
    const label = typeof figure.name === 'string' ? figure.name : `#${index}`;
    if (typeof figure.name !== 'string') problems.push(`figure ${label}: "name" is not a string`);
    else names.push(figure.name);
    if (typeof figure.unit !== 'string') problems.push(`figure ${label}: "unit" is not a string`);
    if (typeof figure.candidate !== 'number' || !Number.isFinite(figure.candidate)) {
      problems.push(`figure ${label}: "candidate" is not a finite number`);
    }
    for (const key of ['baseline', 'ratio'] as const) {
      const value = figure[key];
      if (!(value === null || (typeof value === 'number' && Number.isFinite(value)))) {
        problems.push(`figure ${label}: "${key}" is neither a finite number nor null`);
      }
    }
    if (figure.baseline === null && figure.ratio !== null) {
      problems.push(`figure ${label}: "ratio" must be null without a baseline`);
    }
  }
  if (r.machine !== undefined) {
    const machine = r.machine as Record<string, unknown> | null;
    if (typeof machine !== 'object' || machine === null) problems.push('"machine" is not an object');
    else {
      for (const key of ['cores', 'load_average_before', 'load_average_max'] as const) {
        if (typeof machine[key] !== 'number') problems.push(`"machine.${key}" is not a number`);
      }
      if (typeof machine.under_load !== 'boolean') problems.push('"machine.under_load" is not a boolean');
    }
  }
  const { missing, extra } = figureNameDifferences(expectedNames, names);
  if (missing.length > 0) problems.push(`figures missing: ${missing.join(', ')}`);
  if (extra.length > 0) problems.push(`figures not declared: ${extra.join(', ')}`);
  return problems;
}

function formatNumber(value: number | null): string {
  if (value === null) return '—';
  const v = roundFigure(value);
  return Math.abs(v) >= 1000 ? v.toLocaleString('en-US') : String(v);
}

function formatReference(reference: Reference | undefined): string {
  if (!reference) return '';
  const { value, min, max, source } = reference;
  const range =
    min !== undefined || max !== undefined ? `${formatNumber(min ?? null)}–${formatNumber(max ?? null)}` : '';
  const shown = [value !== undefined ? formatNumber(value) : '', range].filter(Boolean).join(' / ');
  return `${shown} (${source})`;
}

/** A readable table of the report: one row per figure, medians with [min–max], ratio and reference. Pure. */
export function formatTable(report: BenchmarkReport, specs: readonly FigureSpec[]): string {
  const header = [
    'figure',
    'unit',
    'candidate median [min–max]',
    'baseline median [min–max]',
    'ratio',
    'better',
  ];
  const rows = report.figures.map((f) => {
    const spec = specs.find((s) => s.name === f.name);
    const from = spec ? ` (${spec.from})` : '';
    const base = spec?.baseline ? ` (${spec.baseline})` : '';
    return [
      f.under_load ? `${f.name} *` : f.name,
      f.unit,
      `${formatNumber(f.candidate)} [${formatNumber(f.candidate_min)}–${formatNumber(f.candidate_max)}]${from}`,
      f.baseline === null
        ? '—'
        : `${formatNumber(f.baseline)} [${formatNumber(f.baseline_min)}–${formatNumber(f.baseline_max)}]${base}`,
      f.ratio === null ? '—' : `${f.ratio.toFixed(2)}×`,
      f.better,
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: readonly string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  const out = [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)];
  if (report.figures.some((f) => f.under_load)) {
    out.push(
      '',
      '* taken under load (the emulator loads the machine): compare only with the baseline of this run',
    );
  }
  const references = report.figures.filter((f) => f.reference);
  if (references.length > 0) {
    out.push('', 'References:');
    for (const f of references) out.push(`  ${f.name}: ${formatReference(f.reference)}`);
  }
  return out.join('\n');
}
