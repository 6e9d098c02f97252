/**
 * Offline measurement of the sink's per-record envelope check on the benchmark's 200,000 envelopes
 * (the same bytes `pnpm bench s3-sink` loads): `decodeEnvelope` against the validate-only
 * `checkEnvelope`, alternating, in one process. Run:
 * `node --conditions=@shardline/source --import tsx benchmarks/s3-sink/envelopeCheck.ts [rounds]`.
 */
import { BigIntegerMode, checkEnvelope, decodeEnvelope, encodeEnvelope } from '@shardline/ingest';
import { sampleEvents } from '../harness/sampleEvents.js';

const RECEIVED_AT_MS = Date.parse('2026-11-25T12:00:00.000Z');
const COUNT = 200_000;
const rounds = Number(process.argv[2] ?? 5);

const decoder = new TextDecoder();
const records: Uint8Array[] = sampleEvents(COUNT).map((event, index) => {
  const { event_id } = JSON.parse(decoder.decode(event.data)) as { event_id: string };
  // A fresh copy per record, as the SDK hands each record's data over.
  return new Uint8Array(
    encodeEnvelope({ eventId: event_id, receivedAt: RECEIVED_AT_MS + index, dataJson: event.data }),
  );
});

function time(name: string, run: (data: Uint8Array) => unknown): number {
  const start = process.cpuUsage();
  let sink = 0;
  for (const data of records) if (run(data) !== undefined) sink++;
  const used = process.cpuUsage(start);
  if (sink !== COUNT) throw new Error(`${name}: ${sink} results`);
  return (used.user + used.system) / COUNT;
}

const results: Record<string, number[]> = { decodeEnvelope: [], checkEnvelope: [] };
for (let round = 0; round < rounds; round++) {
  results.decodeEnvelope!.push(time('decode', (d) => decodeEnvelope(d, { integers: BigIntegerMode.String })));
  results.checkEnvelope!.push(
    time('check', (d) => {
      checkEnvelope(d);
      return true;
    }),
  );
}
for (const [name, values] of Object.entries(results)) {
  const sorted = [...values].sort((a, b) => a - b);
  console.log(
    `${name.padEnd(16)} µs/record median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(3)} [${sorted[0]!.toFixed(3)}–${sorted.at(-1)!.toFixed(3)}]`,
  );
}
