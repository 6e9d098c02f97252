import {
  createIngestHandler,
  type IngestResponse,
  type RecordWriter,
  type ThrottleRetryOptions,
} from '../../src/index.js';
import { type FaultyRecordWriter, withKinesisFault } from '../../src/testing/index.js';
import { type IngestVector, VECTOR_SETUP } from '../../src/vectors/index.js';

/**
 * Replays one contract vector through a handler set up as the vectors expect (`VECTOR_SETUP`'s API key
 * and origins) over `recordWriter` wrapped in the vector's Kinesis faults, with the handler's throttle
 * retries shortened to `throttleRetry`. Returns the answer and the faulty writer (its `faultHits`).
 */
export async function replayVector(
  vector: IngestVector,
  recordWriter: RecordWriter,
  throttleRetry: ThrottleRetryOptions,
): Promise<{ response: IngestResponse; writer: FaultyRecordWriter }> {
  const writer = withKinesisFault(recordWriter, vector.kinesisFaults);
  const handle = createIngestHandler({
    recordWriter: writer,
    apiKeys: [VECTOR_SETUP.apiKey],
    allowedOrigins: VECTOR_SETUP.allowedOrigins,
    throttleRetry,
  });
  return { response: await handle(vector.request), writer };
}
