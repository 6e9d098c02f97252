// Kinesis per-record error codes that sending again cannot fix (KMS key disabled, missing, access
// denied), whichever path reported them: PutRecords results or the ingest API's answers.
export const PERMANENT_RECORD_CODES: ReadonlySet<string> = new Set([
  'KMSDisabledException',
  'KMSInvalidStateException',
  'KMSNotFoundException',
  'KMSOptInRequired',
  'KMSAccessDeniedException',
  'AccessDeniedException',
]);
