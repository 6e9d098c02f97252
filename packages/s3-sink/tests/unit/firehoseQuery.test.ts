import { describe, expect, it } from 'vitest';
import { evaluateEnvelopeQuery, FIREHOSE_QUERY_SUPPORTED, parseFirehoseQuery } from '../../src/index.js';

function parsed(source: string) {
  const result = parseFirehoseQuery(source);
  if (typeof result === 'string') throw new Error(result);
  return Object.fromEntries(
    [...result].map(([name, q]) => [name, { source: q.source, root: q.root, path: q.path }]),
  );
}

describe('Firehose MetadataExtractionQuery (jq paths)', () => {
  it('accepts the object of paths Firehose configurations use, rooted at the event as sent', () => {
    expect(parsed('{event_type: .event_type, country: .user.country}')).toEqual({
      event_type: { source: '.event_type', root: 'data', path: ['event_type'] },
      country: { source: '.user.country', root: 'data', path: ['user', 'country'] },
    });
    expect(
      parsed(
        '{ "customer-id" : ."customer id", first_sku: .items[0].sku, ct: .headers["content-type"], b: .a.[2], c: .["x"]."y z", whole: . }',
      ),
    ).toEqual({
      'customer-id': { source: '."customer id"', root: 'data', path: ['customer id'] },
      first_sku: { source: '.items[0].sku', root: 'data', path: ['items', 0, 'sku'] },
      ct: { source: '.headers["content-type"]', root: 'data', path: ['headers', 'content-type'] },
      b: { source: '.a.[2]', root: 'data', path: ['a', 2] },
      c: { source: '.["x"]."y z"', root: 'data', path: ['x', 'y z'] },
      whole: { source: '.', root: 'data', path: [] },
    });
    // jq's shorthand {name} is {name: .name}; escapes in quoted names are JSON's.
    expect(parsed('{event_type, "a\\"b": ."\\u00e9t\\u00e9"}')).toEqual({
      event_type: { source: '.event_type', root: 'data', path: ['event_type'] },
      'a"b': { source: '."\\u00e9t\\u00e9"', root: 'data', path: ['été'] },
    });
    expect(parsed('\n{\n  "event_type": .event_type\n}\n')).toEqual({
      event_type: { source: '.event_type', root: 'data', path: ['event_type'] },
    });
  });

  it('refuses everything else, saying what is wrong and what is supported', () => {
    const cases: [string, RegExp][] = [
      ['{a: .a | tostring}', /pipes \(\|\) are not supported/],
      ['{a: select(.x == 1)}', /functions are not supported/],
      ['{a: (.x | ascii_downcase)}', /unexpected "\("/],
      ['{a: .x + 1}', /operators are not supported/],
      ['{a: .x == "y"}', /operators are not supported/],
      ['{a: .first-name}', /write a field name holding "-" as \."a-b"/],
      ['{a: .x?}', /optional operator/],
      ['{a: .x[]}', /only \[<index>\] and \["<name>"\]/],
      ['{a: .x[-1]}', /only \[<index>\]/],
      ['{a: .x[1:2]}', /only \[<index>\]/],
      ['{a: "constant"}', /constants are not supported/],
      ['{a: 1}', /constants are not supported/],
      ['{(.k): .v}', /computed or variable keys/],
      ['{$x: .v}', /computed or variable keys/],
      ['{a: .a, a: .b}', /key "a" appears twice/],
      ['{a: .a,}', /unexpected "}", expected a key name/],
      ['{a: .a', /unexpected the end/],
      ['{a: .a} | .', /unexpected "\|"/],
      ['{}', /no keys/],
      ['.event_type', /a single path/],
      ['[.a]', /must be an object/],
      ['{a: .b.}', /expected a field name after "\."/],
      ['{a: ."unclosed}', /unclosed string/],
      ['{a: ."x\\(.y)"}', /interpolation/],
      ['{a: .x and .y}', /"and" is not supported/],
    ];
    for (const [source, reason] of cases) {
      const result = parseFirehoseQuery(source);
      expect(typeof result, source).toBe('string');
      expect(result, source).toMatch(reason);
      expect(result, source).toContain(FIREHOSE_QUERY_SUPPORTED);
      expect(result, source).toMatch(/at position \d+/);
    }
  });

  it('evaluates on data like the partitionKeys syntax: scalars only, else a partitioning failure', () => {
    const queries = parseFirehoseQuery(
      '{t: .event_type, c: .user.country, n: .n, o: .user, z: .missing, i: .items[5]}',
    );
    if (typeof queries === 'string') throw new Error(queries);
    const input = {
      eventId: 'e',
      receivedAt: '2026-05-01T00:00:00.000Z',
      partitionKey: 'pk',
      data: () => ({ event_type: 'view', user: { country: 'FR' }, n: 12.5, items: [] }),
    };
    const value = (name: string) => evaluateEnvelopeQuery(queries.get(name)!, input);
    expect(value('t')).toBe('view');
    expect(value('c')).toBe('FR');
    expect(value('n')).toBe('12.5');
    expect(value('o')).toEqual({ error: '.user is an object, not a scalar' });
    expect(value('z')).toEqual({ error: '.missing: no value' });
    expect(value('i')).toEqual({ error: '.items[5]: no value' });
  });
});
