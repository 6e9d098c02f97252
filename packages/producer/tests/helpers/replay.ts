import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LocalTwinClient } from '@shardline/local';
import { collect, spawnCli } from './processes.js';

/** A sample file of the repository's `data/` folder, by name. */
export const sampleFile = (name: string): string =>
  fileURLToPath(new URL(`../../../../data/${name}`, import.meta.url));

/**
 * The replay ledger, computed from the file alone (as the CLI derives event ids: the file's SHA-256,
 * then each row's number): row number by expected event id, for rows 1 to `rows`.
 */
export function expectedIds(file: string, rows: number): Map<string, number> {
  const sourceId = createHash('sha256').update(readFileSync(file)).digest('hex');
  const ids = new Map<string, number>();
  for (let row = 1; row <= rows; row++) {
    ids.set(createHash('sha256').update(`${sourceId}\n${row}`).digest('hex').slice(0, 32), row);
  }
  return ids;
}

/**
 * Runs `shardline-produce replay` for one test file, each run in its own process with the twin's
 * environment (and `env` over it). Output files always go to `dir`, never the working directory (the
 * repository): rejects (unless `args` name their own) and dead letters (`deadLetters`) to files of
 * their own per run.
 * Progress is printed as lines every `progressIntervalMs`.
 */
export function replayRunner(local: LocalTwinClient, dir: string, progressIntervalMs: number) {
  let runs = 0;
  return (args: readonly string[], env: NodeJS.ProcessEnv = {}) => {
    runs += 1;
    const files = args.includes('--rejects') ? [] : ['--rejects', join(dir, `run${runs}.rejects.jsonl`)];
    const deadLetters = join(dir, `run${runs}.dead-letters.jsonl`);
    const child = spawnCli(
      [
        'replay',
        ...args,
        ...files,
        ...['--dead-letters', deadLetters],
        ...['--progress', 'lines', '--progress-interval-ms', String(progressIntervalMs)],
      ],
      { ...local.env, ...env },
    );
    return { child, deadLetters, ...collect(child) };
  };
}
