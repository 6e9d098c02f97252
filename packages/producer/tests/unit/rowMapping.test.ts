import { describe, expect, it } from 'vitest';
import {
  EventTimeFormat,
  parseEventTime,
  RowMapper,
  RowMappingError,
  rowEventId,
} from '../../src/cli/rowMapping.js';

const columns = ['event_time', 'category_id', 'price', 'user_id', 'flag'];
const noMapping = { fields: new Map(), types: new Map(), eventTimeFormat: EventTimeFormat.Iso } as const;

describe('RowMapper', () => {
  it('keeps every value a string by default', () => {
    const mapper = new RowMapper(columns, noMapping);
    expect(
      mapper.map(['2019-10-01 00:00:00 UTC', '2103807459595387724', '35.79', '541312140', 'true']).event,
    ).toEqual({
      event_time: '2019-10-01 00:00:00 UTC',
      category_id: '2103807459595387724',
      price: '35.79',
      user_id: '541312140',
      flag: 'true',
    });
  });

  it('renames and converts mapped fields; big integers stay exact', () => {
    const mapper = new RowMapper(columns, {
      ...noMapping,
      fields: new Map([
        ['category_id', 'categoryId'],
        ['price', 'price'],
        ['flag', 'isFlagged'],
      ]),
      types: new Map([
        ['categoryId', 'number'],
        ['price', 'number'],
        ['isFlagged', 'boolean'],
      ]),
      partitionKeyColumn: 'user_id',
      eventTimeColumn: 'event_time',
    });
    const row = mapper.map(['2019-10-01 00:00:01 UTC', '2103807459595387724', '35.79', '541312140', '0']);
    expect(row.event).toEqual({ categoryId: 2103807459595387724n, price: 35.79, isFlagged: false });
    expect(row.partitionKey).toBe('541312140');
    expect(row.eventTimeMs).toBe(Date.UTC(2019, 9, 1, 0, 0, 1));
    expect(() => mapper.map(['2019-10-01 00:00:01 UTC', 'abc', '1', 'u', '1'])).toThrow(/not a number/);
    expect(() => mapper.map(['2019-10-01 00:00:01 UTC', '1', '1', '', '1'])).toThrow(
      /partition key column is empty/,
    );
    expect(() => mapper.map(['yesterday', '1', '1', 'u', '1'])).toThrow(/not a iso time/);
  });

  it('names every unknown column at construction', () => {
    const error = (() => {
      try {
        new RowMapper(columns, { ...noMapping, partitionKeyColumn: 'nope', eventTimeColumn: 'when' });
      } catch (e) {
        return e as Error;
      }
    })();
    expect(error).toBeInstanceOf(RowMappingError);
    expect(error?.message).toContain('"nope", "when"');
  });
});

describe('parseEventTime', () => {
  it.each([
    ['2019-10-01 00:00:00 UTC', 'iso', Date.UTC(2019, 9, 1)],
    ['2019-10-01T02:00:00+02:00', 'iso', Date.UTC(2019, 9, 1)],
    ['2019-10-01T00:00:00.250Z', 'iso', Date.UTC(2019, 9, 1, 0, 0, 0, 250)],
    ['01-12-2010 08:26', 'dmy', Date.UTC(2010, 11, 1, 8, 26)],
    ['12/01/2010 08:26', 'mdy', Date.UTC(2010, 11, 1, 8, 26)],
    ['1569888000000', 'epoch-ms', 1_569_888_000_000],
    ['1569888000.5', 'epoch-s', 1_569_888_000_500],
    ['31-02-2010 08:26', 'dmy', undefined],
    ['2019-13-01 00:00:00', 'iso', undefined],
  ] as const)('%s as %s', (value, format, expected) => {
    expect(parseEventTime(value, format)).toBe(expected);
  });
});

describe('rowEventId', () => {
  it('is deterministic, differs by row and by source, and fits the ingest contract', () => {
    expect(rowEventId('abc', 1)).toBe(rowEventId('abc', 1));
    expect(rowEventId('abc', 1)).not.toBe(rowEventId('abc', 2));
    expect(rowEventId('abc', 1)).not.toBe(rowEventId('abd', 1));
    expect(rowEventId('abc', 1)).toMatch(/^[0-9a-f]{32}$/);
  });
});
