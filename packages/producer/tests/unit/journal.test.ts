import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seededRandom } from '@shardline/test-kit';
import { afterAll, describe, expect, it } from 'vitest';
import { Journal, JournalError } from '../../src/cli/Journal.js';
import { RangeSet } from '../../src/cli/RangeSet.js';

const dir = mkdtempSync(join(tmpdir(), 'producer-journal-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('RangeSet', () => {
  it('matches a plain Set under random adds (seeded)', () => {
    const seed = Date.now() % 1_000_000;
    console.log(`RangeSet seed ${seed}`);
    const random = seededRandom(seed);
    const set = new RangeSet();
    const reference = new Set<number>();
    for (let i = 0; i < 3_000; i++) {
      const n = 1 + Math.floor(random() * 500);
      set.add(n);
      reference.add(n);
    }
    expect(set.size).toBe(reference.size);
    for (let n = 0; n <= 501; n++) expect(set.has(n), `n=${n} seed=${seed}`).toBe(reference.has(n));
    const ranges = set.ranges();
    for (let i = 1; i < ranges.length; i++) expect(ranges[i]![0]).toBeGreaterThan(ranges[i - 1]![1] + 1);
  });

  it('merges ranges that touch or overlap', () => {
    const set = new RangeSet();
    set.addRange(5, 7);
    set.addRange(1, 2);
    set.addRange(3, 4);
    set.addRange(10, 12);
    set.addRange(6, 11);
    expect(set.ranges()).toEqual([[1, 12]]);
    expect(set.size).toBe(12);
  });
});

describe('Journal', () => {
  it('resumes with exactly the rows written, ignoring a torn last line', async () => {
    const path = join(dir, 'a.journal');
    const journal = await Journal.open(path, 'src-1', '/data/a.csv');
    for (const row of [1, 2, 3, 5, 8]) journal.ack(row);
    await journal.write();
    journal.ack(9);
    await journal.close();
    appendFileSync(path, '{"acked":[[20,3'); // killed mid-write
    const resumed = await Journal.open(path, 'src-1', '/data/a.csv');
    expect(resumed.resumedRows).toBe(6);
    expect([1, 2, 3, 4, 5, 8, 9, 20].map((r) => resumed.acked.has(r))).toEqual([
      true,
      true,
      true,
      false,
      true,
      true,
      true,
      false,
    ]);
    resumed.ack(4);
    await resumed.close();
    // The torn line was terminated, so the new line parses.
    const again = await Journal.open(path, 'src-1', '/data/a.csv');
    expect(again.acked.has(4)).toBe(true);
    await again.close();
  });

  it('refuses the journal of another source, and damage before the last line', async () => {
    const path = join(dir, 'b.journal');
    const journal = await Journal.open(path, 'src-1', '/data/b.csv');
    await journal.close();
    await expect(Journal.open(path, 'src-2', '/data/b.csv')).rejects.toBeInstanceOf(JournalError);
    writeFileSync(path, `${readFileSync(path, 'utf8')}garbage\n{"acked":[[1,1]]}\n`);
    await expect(Journal.open(path, 'src-1', '/data/b.csv')).rejects.toThrow(/line 2/);
  });

  it('lets a hook hold a write (the crash point of the kill test)', async () => {
    const path = join(dir, 'c.journal');
    const journal = await Journal.open(path, 's', 'c.csv');
    const seen: [number, number][] = [];
    journal.beforeWrite = (acked, written) => {
      seen.push([acked, written]);
    };
    journal.ack(1);
    journal.ack(2);
    await journal.write();
    journal.ack(3);
    await journal.close();
    expect(seen).toEqual([
      [2, 0],
      [3, 2],
    ]);
  });
});

describe('Journal write failures', () => {
  it('a failed write rejects with JournalError, and so does every later write; close still closes the file', async () => {
    const path = join(dir, 'failing.journal');
    const journal = await Journal.open(path, 'src', 'file.csv');
    journal.ack(1);
    await journal.write();
    let calls = 0;
    journal.beforeWrite = () => {
      calls += 1;
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    };
    journal.ack(2);
    const first = await journal.write().catch((e: unknown) => e);
    expect(first).toBeInstanceOf(JournalError);
    expect((first as Error).message).toMatch(/cannot write the journal .*failing\.journal: ENOSPC/);
    expect(journal.failure).toBe(first);
    journal.ack(3);
    await expect(journal.write()).rejects.toBe(first);
    await expect(journal.close()).rejects.toBe(first);
    expect(calls).toBe(1);
    // What is in the file is what was written before the failure: row 1 only.
    const reopened = await Journal.open(path, 'src', 'file.csv');
    expect(reopened.acked.ranges()).toEqual([[1, 1]]);
    await reopened.close();
  });
});
