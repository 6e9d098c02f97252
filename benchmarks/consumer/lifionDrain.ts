/**
 * Reference of `pnpm bench consumer` (its own process): lifion-kinesis 1.3.3 with its defaults drains a
 * pre-loaded stream from TRIM_HORIZON, measured like the consumer-core worker: from its first
 * GetShardIterator to the last record. lifion decodes each record's JSON itself (`shouldParseJson:
 * 'auto'`), so its processor only reads the decoded `event_id`.
 */
import { runContender } from '../harness/index.js';
import { createLifionConsumer, onLifionRequest } from './lifion.js';
import { type DrainInput, drainFigures, EventLedger, eventIndex } from './shared.js';

runContender<DrainInput>(async (input, probe) => {
  const ledger = new EventLedger(input.records);
  let started = false;
  let getRecordsCalls = 0;
  onLifionRequest((operation) => {
    if (operation === 'getShardIterator' && !started) {
      started = true;
      probe.mark('start');
    }
    if (operation === 'getRecords') getRecordsCalls++;
  });

  const consumer = createLifionConsumer(input.info, input.streamName, input.tableName);
  const allSeen = new Promise<void>((resolve, reject) => {
    consumer.on('data', ({ records }) => {
      for (const record of records) {
        if (ledger.see(eventIndex(record.data as { event_id: string }))) {
          probe.mark('end');
          resolve();
        }
      }
    });
    consumer.on('error', reject);
    probe.signal.addEventListener('abort', () => reject(probe.signal.reason), { once: true });
  });
  await consumer.startConsumer();
  await allSeen;
  consumer.stopConsumer();
  ledger.assertComplete('lifion-kinesis');

  return {
    ...drainFigures(probe, input.records, ledger),
    get_records_calls: getRecordsCalls,
  };
});
