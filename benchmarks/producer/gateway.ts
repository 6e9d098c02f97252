/**
 * Contender process of `pnpm bench producer`: the local ingest gateway (`startIngestGateway` of
 * `@shardline/local`) in its own process, so that its CPU is neither the client's nor the emulator's.
 * It announces its URL with a `ready` event, serves until the parent stops it, and reports the
 * PutRecords calls it made (counted at its Kinesis client) and its CPU time.
 */
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { kinesisClientConfig, type LocalTwinInfo, startIngestGateway } from '@shardline/local';
import { countRequests, runContender } from '../harness/index.js';

/** Input of this contender. */
export interface GatewayInput {
  readonly info: LocalTwinInfo;
  readonly streamName: string;
  readonly apiKey: string;
}

/** What the `ready` event carries. */
export interface GatewayReady {
  readonly url: string;
}

runContender<GatewayInput>(async (input, probe) => {
  const kinesis = new KinesisClient(kinesisClientConfig(input.info));
  const requests = countRequests(kinesis);
  let errors = 0;
  const gateway = await startIngestGateway({
    kinesisClient: kinesis,
    streamName: input.streamName,
    apiKeys: [input.apiKey],
    onError: (error) => {
      errors += 1;
      process.stderr.write(`ingest gateway: ${String((error as Error)?.stack ?? error)}\n`);
    },
  });
  probe.mark('ready');
  probe.emit('ready', { url: gateway.url } satisfies GatewayReady);
  await new Promise<void>((resolve) =>
    probe.signal.addEventListener('abort', () => resolve(), { once: true }),
  );
  probe.mark('stopped');
  await gateway.close();
  kinesis.destroy();
  return {
    put_records_calls: requests.count('PutRecords'),
    cpu_us: probe.between('ready', 'stopped').cpuUs,
    errors,
  };
});
