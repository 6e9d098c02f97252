import { mutate, seededRandom, testSeed } from '@shardline/test-kit';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { createIngestHandler, decodeEnvelope, INGEST_EVENTS_REQUEST_SCHEMA } from '../../src/index.js';
import { InMemoryRecordWriter } from '../../src/testing/index.js';

const { $schema: _draft, ...schema } = INGEST_EVENTS_REQUEST_SCHEMA;
const validate = new Ajv({ strict: false }).compile(schema);

describe('the handler on random mutations of valid requests', () => {
  const seed = testSeed('handler fuzz');
  it(`answers 200 exactly when JSON.parse and the JSON Schema accept, storing the same values (SEED=${seed})`, async () => {
    const random = seededRandom(seed);
    const corpus = [
      '{"records":[{"data":{"a":[1,2.5,true,null],"s":"x"},"eventId":"e-1","partitionKey":"k"},{"data":-3e2}]}',
      '{"records":[{"data":[{"b":{}},[]],"eventId":"e:2"}]}',
      '{"records":[{"partitionKey":"p","data":"text"}]}',
    ];
    const alphabet = '{}[]:,"\\ 0123456789-.eEtrufalsn\tdatrecodsxyk';
    let accepted = 0;
    let rejected = 0;
    for (let i = 0; i < 1500; i++) {
      const text = mutate(corpus[i % corpus.length]!, random, alphabet, 2);
      if (/\\u/.test(text)) continue;
      let parsed: { records: { data: unknown }[] } | undefined;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
      const writer = new InMemoryRecordWriter();
      const handle = createIngestHandler({ recordWriter: writer, apiKeys: ['k'] });
      const response = await handle({
        method: 'POST',
        path: '/v1/events',
        headers: { 'content-type': 'application/json', 'x-api-key': 'k' },
        body: Buffer.from(text),
      });
      const context = `SEED=${seed} input ${JSON.stringify(text)} answer ${response.body}`;
      const isDuplicate = response.status === 400 && /Duplicate field/.test(response.body);
      if (parsed !== undefined && validate(parsed) && !isDuplicate) {
        expect(response.status, context).toBe(200);
        const stored = writer.records.map((r) => decodeEnvelope(r.data).data);
        expect(stored, context).toEqual(parsed.records.map((r) => r.data));
        accepted += 1;
      } else {
        expect(response.status, context).toBe(400);
        expect(writer.records, context).toHaveLength(0);
        rejected += 1;
      }
    }
    expect(accepted).toBeGreaterThan(50);
    expect(rejected).toBeGreaterThan(500);
  });
});
