// A test-only entry point of shardline-produce: the shipped CLI (runProcess) with crash points injected
// through its options. The shipped binary reads no hook from its environment.
//
// SHARDLINE_TEST_CRASH_POINT (read here, in tests only):
// - `before-journal-write:N`: once N rows are acknowledged, print a HOOK line and hold the journal before
//   its next write forever, so that the test can SIGKILL the replay at that point;
// - `journal-write-fails:N`: once N rows are acknowledged, the next journal write fails (EIO), as a full
//   or failing disk would make it.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const { runProcess } = await import('../../src/cli/runProcess.js');

const point = /^(before-journal-write|journal-write-fails):(\d+)$/.exec(
  process.env.SHARDLINE_TEST_CRASH_POINT ?? '',
);
const atRows = point === null ? Number.POSITIVE_INFINITY : Number(point[2]);

await runProcess({
  beforeJournalWrite: (acked, journaled) => {
    if (point === null || acked < atRows) return;
    process.stderr.write(`HOOK ${point[1]} acked=${acked} journaled=${journaled}\n`);
    if (point[1] === 'before-journal-write') return new Promise<void>(() => {});
    throw Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' });
  },
});
