/**
 * The scale model's process: installs virtual time (every timer of this process becomes virtual),
 * runs the scenarios one after the other, and emits each result as a `scenario` event.
 */
import { seededRandom } from '@shardline/test-kit';
import { monotonicNowMs, runContender } from '../harness/index.js';
import type { CostModelSettings } from './costModel.js';
import {
  type FailoverCheckResult,
  runFailoverCheck,
  runScenario,
  type ScenarioResult,
  type ScenarioSettings,
} from './model.js';
import { VirtualTime } from './virtualTime.js';

/** One scenario of the grid: its size, and what it changes of the common settings. */
export interface GridEntry {
  readonly shards: number;
  readonly workers: number;
  readonly leasesExist?: boolean;
  /** @defaultValue 'worker' */
  readonly leaseAssignment?: 'worker' | 'leader';
  /** Partitions of each table and index, instead of the cost model's. */
  readonly partitions?: number;
  /** No crash after the steady window (a scenario run for its cost only). */
  readonly noCrash?: boolean;
}

/** Input of the model process. */
export interface ModelWorkerInput {
  readonly grid: readonly GridEntry[];
  readonly scenario: Omit<ScenarioSettings, 'shards' | 'workers' | 'costModel'>;
  readonly costModel: Omit<CostModelSettings, 'random'>;
  /** Seeds of the failover check (its result is averaged over them). */
  readonly failoverCheckSeeds: readonly number[];
  readonly failoverCheckWindowMs: number;
  readonly seed: number;
}

/** `scenario` event data. */
export interface ScenarioEvent {
  readonly result: ScenarioResult;
  /** Real time the scenario took, s. */
  readonly realS: number;
}

/** `failover-check` event data. */
export interface FailoverCheckEvent {
  readonly results: readonly FailoverCheckResult[];
}

runContender<ModelWorkerInput>(async (input, probe) => {
  const time = new VirtualTime();
  // The library's backoff jitter uses Math.random: seeded too, so a run is repeatable.
  const random = seededRandom(input.seed);
  Math.random = random;
  time.install();
  try {
    const checks: FailoverCheckResult[] = [];
    for (const seed of input.failoverCheckSeeds) {
      const checkRandom = seededRandom(seed);
      Math.random = checkRandom;
      checks.push(
        await runFailoverCheck(
          {
            consumer: { failoverTimeMs: 10_000, leaseTakeIntervalMs: 5_000, checkpointIntervalMs: 5_000 },
            windowMs: input.failoverCheckWindowMs,
            costModel: input.costModel,
          },
          time,
          checkRandom,
        ),
      );
    }
    probe.emit('failover-check', { results: checks } satisfies FailoverCheckEvent);
    Math.random = random;
    for (const { shards, workers, leasesExist, leaseAssignment, partitions, noCrash } of input.grid) {
      const startedMs = monotonicNowMs();
      const result = await runScenario(
        {
          ...input.scenario,
          shards,
          workers,
          leasesExist: leasesExist ?? false,
          consumer: { ...input.scenario.consumer, leaseAssignment: leaseAssignment ?? 'worker' },
          costModel: { ...input.costModel, ...(partitions === undefined ? {} : { partitions }) },
          ...(noCrash ? { crash: false } : {}),
        },
        time,
        random,
        (message) => probe.emit('log', message),
      );
      probe.emit('scenario', {
        result,
        realS: (monotonicNowMs() - startedMs) / 1_000,
      } satisfies ScenarioEvent);
    }
  } finally {
    time.uninstall();
  }
  return {};
});
