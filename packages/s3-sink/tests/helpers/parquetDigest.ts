// Prints the SHA-256 of every object planned from the sample range in Parquet, one `key sha256` per
// line: run in two processes to check that the bytes do not depend on the process.
import { createHash } from 'node:crypto';
import { joinChunks, objectBody, planObjects } from '../../src/objects/planObjects.js';
import { parquetLayout, sampleRange, sampleRecords } from './parquetSample.js';

for (const plan of planObjects(sampleRange(sampleRecords(500)), parquetLayout({ rowGroupSize: 128 }))) {
  const { chunks, uncompressedBytes } = await objectBody(plan);
  const body = joinChunks(chunks, uncompressedBytes);
  console.log(`${plan.key} ${createHash('sha256').update(body).digest('hex')}`);
}
