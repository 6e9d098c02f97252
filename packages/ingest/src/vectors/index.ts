// The ingest API's request/response test vectors: replay them against any gateway that implements the
// contract (the handler, the local gateway, the Lambda function, the VTL templates).

export type { KinesisFault } from '../testing/withKinesisFault.js';
export type { CheckVectorOptions, StoredRecordView, VectorResponse } from './checkVector.js';
export { checkVectorResponse, checkVectorStored, matchShape } from './checkVector.js';
export { ingestVectors } from './ingestVectors.js';
export type { ExpectedStoredRecord, IngestVector, VectorExpectation, VectorRequest } from './types.js';
export { VECTOR_SETUP, VectorTag } from './types.js';
