import type { Lease } from '../leases/Lease.js';
import { retrievalOf } from '../leases/retrievalAttribute.js';

/** The registered consumer a recorded retrieval reads through, or `undefined` for polling or none. */
export function fanOutConsumerOf(retrieval: string | undefined): string | undefined {
  return retrieval?.startsWith('fanOut:') ? retrieval.slice('fanOut:'.length) : undefined;
}

/**
 * One line on an application's retrieval, from its leases: one mode, several (a rolling change of
 * mode, or leases not renewed since), or unknown.
 */
export function summarizeRetrieval(leases: readonly Lease[]): {
  /** Each recorded mode with the number of leases that carry it; `unrecorded` counts the others. */
  readonly modes: Readonly<Record<string, number>>;
  readonly unrecorded: number;
  readonly text: string;
} {
  const modes: Record<string, number> = {};
  let unrecorded = 0;
  for (const lease of leases) {
    const mode = retrievalOf(lease);
    if (mode === undefined) unrecorded += 1;
    else modes[mode] = (modes[mode] ?? 0) + 1;
  }
  const names = Object.keys(modes).sort();
  const describe = (mode: string) => {
    const consumer = fanOutConsumerOf(mode);
    return consumer === undefined ? mode : `enhanced fan-out (consumer ${consumer})`;
  };
  let text: string;
  if (names.length === 0) {
    text =
      leases.length === 0
        ? 'Retrieval: unknown (no leases)'
        : 'Retrieval: not recorded (leases written by a Shardline version without fan-out, or by the Java KCL: polling)';
  } else if (names.length === 1 && unrecorded === 0) {
    text = `Retrieval: ${describe(names[0]!)}`;
  } else {
    const parts = names.map((m) => `${describe(m)} on ${modes[m]} leases`);
    if (unrecorded > 0) parts.push(`not recorded on ${unrecorded} leases`);
    text = `Retrieval: mixed — ${parts.join(', ')} (a change of mode rolling out, or leases not taken since)`;
  }
  return { modes, unrecorded, text };
}
