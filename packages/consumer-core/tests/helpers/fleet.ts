import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LocalTwinInfo } from '@shardline/local';
import type { FleetWorkerSpec } from './fleetWorker.js';

const workerScript = join(import.meta.dirname, 'fleetWorker.ts');

/** A fleet worker process. */
export interface FleetProcess {
  readonly workerId: string;
  readonly ledgerPath: string;
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
  output(): string;
  /** SIGTERM (graceful stop), then waits for the exit. */
  stop(): Promise<void>;
}

/** Every process started by {@link startFleetWorker}: kill them all in `afterAll`/`afterEach`. */
export const fleetProcesses = new Set<ChildProcess>();

/** SIGKILLs every fleet process still alive (after a SIGCONT, in case it was frozen). */
export function killFleet(): void {
  for (const child of fleetProcesses) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGCONT');
      child.kill('SIGKILL');
    }
  }
  fleetProcesses.clear();
}

/** Starts a fleet worker as its own OS process; resolves once it runs. */
export async function startFleetWorker(
  spec: Omit<FleetWorkerSpec, 'info'> & { info: LocalTwinInfo },
): Promise<FleetProcess> {
  const child = spawn(process.execPath, ['--conditions=@shardline/source', '--import', 'tsx', workerScript], {
    env: { ...process.env, SHARDLINE_TEST: JSON.stringify(spec) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  fleetProcesses.add(child);
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 30_000;
  while (!output.includes('RUNNING')) {
    if (child.exitCode !== null || Date.now() > deadline) {
      throw new Error(`Fleet worker ${spec.workerId} did not start:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return {
    workerId: spec.workerId,
    ledgerPath: spec.ledgerPath,
    child,
    exited,
    output: () => output,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** One fact of a worker's ledger. */
export type LedgerLine =
  | { kind: 'D'; atMs: number; shardId: string; first: string; last: string }
  | { kind: 'P'; atMs: number; shardId: string; sequenceNumber: string; body: string }
  | { kind: 'E'; atMs: number; type: string; key: string; extra: string | undefined }
  | { kind: 'R'; atMs: number; requestKind: string; count: number }
  | { kind: 'X'; atMs: number; shardId: string; sequenceNumber: string };

/** Reads a worker's ledger (empty when it wrote nothing yet). */
export function readLedger(path: string): LedgerLine[] {
  if (!existsSync(path)) return [];
  const lines: LedgerLine[] = [];
  for (const text of readFileSync(path, 'utf8').split('\n')) {
    const parts = text.split(' ');
    if (parts.length < 3) continue; // a line cut by SIGKILL mid-write
    const atMs = Number(parts[0]);
    switch (parts[1]) {
      case 'D':
        lines.push({ kind: 'D', atMs, shardId: parts[2]!, first: parts[3]!, last: parts[4]! });
        break;
      case 'P':
        if (parts[4] !== undefined)
          lines.push({ kind: 'P', atMs, shardId: parts[2]!, sequenceNumber: parts[3]!, body: parts[4] });
        break;
      case 'E':
        lines.push({ kind: 'E', atMs, type: parts[2]!, key: parts[3]!, extra: parts[4] });
        break;
      case 'R':
        lines.push({ kind: 'R', atMs, requestKind: parts[2]!, count: Number(parts[3]) });
        break;
      case 'X':
        lines.push({ kind: 'X', atMs, shardId: parts[2]!, sequenceNumber: parts[3]! });
        break;
    }
  }
  return lines;
}

/** Processed records of a ledger. */
export function processed(lines: readonly LedgerLine[]) {
  return lines.filter((l): l is Extract<LedgerLine, { kind: 'P' }> => l.kind === 'P');
}

/** Events of a ledger, optionally of one type. */
export function events(lines: readonly LedgerLine[], type?: string) {
  return lines.filter(
    (l): l is Extract<LedgerLine, { kind: 'E' }> => l.kind === 'E' && (!type || l.type === type),
  );
}
