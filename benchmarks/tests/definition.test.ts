import { describe, expect, it } from 'vitest';
import { parseBenchArgs } from '../harness/cli.js';
import { defineBenchmark, definitionProblems } from '../harness/defineBenchmark.js';
import { maxInWindow, RequestCounter } from '../harness/requestCounter.js';
import { roundOrder } from '../harness/runBenchmark.js';
import { loadSampleRows, parseEcommerceCsv, sampleEvents } from '../harness/sampleEvents.js';

const contender = async () => ({ records_per_s: 1 });

describe('defineBenchmark', () => {
  it('accepts a valid definition', () => {
    const b = defineBenchmark({
      name: 'consumer',
      description: 'd',
      rounds: 3,
      params: { full: {}, quick: {} },
      contenders: { worker: contender, 'bare-loop': contender },
      figures: [
        { name: 'records_per_s', unit: '1/s', better: 'higher', from: 'worker', baseline: 'bare-loop' },
      ],
    });
    expect(b.kind).toBe('benchmark');
  });

  it('lists every problem at once', () => {
    const problems = definitionProblems({
      name: 'Bad_Name',
      description: '',
      rounds: 0,
      params: { full: {}, quick: {} },
      contenders: { worker: contender },
      figures: [
        { name: 'recordsPerS', unit: '', better: 'higher', from: 'nobody', baseline: 'ghost' },
        { name: 'recordsPerS', unit: '1/s', better: 'higher', from: 'worker', baseline: 'worker' },
      ],
    });
    expect(problems).toEqual([
      'name "Bad_Name" must be kebab-case (the file name)',
      'description is empty',
      'rounds must be an integer ≥ 1, got 0',
      'figure "recordsPerS" must be snake_case',
      'figure "recordsPerS" has no unit',
      'figure "recordsPerS": contender "nobody" is not declared',
      'figure "recordsPerS": baseline contender "ghost" is not declared',
      'figure "recordsPerS" is declared twice',
      'figure "recordsPerS" must be snake_case',
      'figure "recordsPerS": baseline is the candidate itself',
    ]);
  });
});

describe('roundOrder', () => {
  it('rotates the contenders every round so none always runs first', () => {
    const names = ['bare-loop', 'worker', 'lifion'];
    expect(roundOrder(names, 0)).toEqual(['bare-loop', 'worker', 'lifion']);
    expect(roundOrder(names, 1)).toEqual(['worker', 'lifion', 'bare-loop']);
    expect(roundOrder(names, 2)).toEqual(['lifion', 'bare-loop', 'worker']);
    expect(roundOrder(names, 3)).toEqual(names);
  });
});

describe('parseBenchArgs', () => {
  it('parses a name with --quick and --rounds', () => {
    expect(parseBenchArgs(['emulator', '--quick', '--rounds', '3'])).toEqual({
      mode: 'one',
      name: 'emulator',
      quick: true,
      rounds: 3,
    });
    expect(parseBenchArgs(['--', 'emulator'])).toEqual({ mode: 'one', name: 'emulator', quick: false });
  });
  it('parses --contenders into a list, for one benchmark only', () => {
    expect(parseBenchArgs(['consumer', '--contenders', 'bare-loop, shardline'])).toEqual({
      mode: 'one',
      name: 'consumer',
      quick: false,
      contenders: ['bare-loop', 'shardline'],
    });
    expect(() => parseBenchArgs(['--all', '--contenders', 'x'])).toThrow(
      /--contenders goes with one benchmark/,
    );
    expect(() => parseBenchArgs(['consumer', '--contenders', ','])).toThrow(/at least one contender/);
  });
  it('parses --all --quick and --list', () => {
    expect(parseBenchArgs(['--all', '--quick'])).toEqual({ mode: 'all', quick: true });
    expect(parseBenchArgs(['--list'])).toEqual({ mode: 'list' });
  });
  it('rejects bad combinations with every problem', () => {
    expect(() => parseBenchArgs(['emulator', '--all', '--rounds', 'x'])).toThrow(
      /--rounds must be an integer ≥ 1, got "x"\ngive only one of/,
    );
    expect(() => parseBenchArgs([])).toThrow(/name a benchmark/);
    expect(() => parseBenchArgs(['--nope'])).toThrow(/Unknown option/);
  });
});

describe('maxInWindow and RequestCounter', () => {
  it('finds the busiest 1-s window (half-open)', () => {
    expect(maxInWindow([0, 100, 999, 1000, 1500], 1000)).toBe(3);
    expect(maxInWindow([0, 1000, 2000], 1000)).toBe(1);
    expect(maxInWindow([], 1000)).toBe(0);
  });

  it('follows a shard through its iterators', () => {
    const counter = new RequestCounter();
    const first = counter.observe('GetShardIterator', { ShardId: 'shard-1' });
    counter.answered(first, { ShardIterator: 'it-1' });
    const get1 = counter.observe('GetRecords', { ShardIterator: 'it-1' });
    counter.answered(get1, { NextShardIterator: 'it-2' });
    const get2 = counter.observe('GetRecords', { ShardIterator: 'it-2' });
    expect(get2.shardId).toBe('shard-1');
    expect(counter.byCommand()).toEqual({ GetShardIterator: 1, GetRecords: 2 });
    expect(counter.maxPerShardPerSecond('GetRecords')).toBe(2);
  });
});

describe('sample events', () => {
  it('parses the shipped sample: 1,000 rows, 19-digit category ids kept as strings', () => {
    const rows = loadSampleRows();
    expect(rows).toHaveLength(1000);
    expect(rows[0]!.category_id).toBe('2103807459595387724');
  });
  it('builds JSON events partitioned by session, cycling through the rows', () => {
    const rows = loadSampleRows();
    const events = sampleEvents(1001, rows);
    const last = JSON.parse(new TextDecoder().decode(events[1000]!.data));
    expect(last.event_id).toBe('evt-000000rs');
    expect(last.user_session).toBe(rows[0]!.user_session);
    expect(last.event_time).toBe('2019-10-01T00:00:00Z');
    expect(events[1000]!.partitionKey).toBe(rows[0]!.user_session);
  });
  it('names the line of a malformed row', () => {
    const header =
      'event_time,event_type,product_id,category_id,category_code,brand,price,user_id,user_session';
    expect(() => parseEcommerceCsv(`${header}\na,b,c\n`)).toThrow(/line 2: 3 fields, expected 9/);
  });
});
