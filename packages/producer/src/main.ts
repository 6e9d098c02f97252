// Entry point of the `shardline-produce` command. The AWS SDK warns on every start that its releases after
// January 2027 need Node 22; the versions this package pins support Node 20, so the warning is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const { runCli } = await import('./cli/cli.js');

const abort = new AbortController();
let interrupts = 0;
process.on('SIGINT', () => {
  interrupts += 1;
  if (interrupts > 1) process.exit(130);
  process.stderr.write(
    '\nshardline-produce: stopping: sending what is buffered and writing the journal (Ctrl-C again to quit now)\n',
  );
  abort.abort(new Error('interrupted'));
});

// A named crash point for tests: `before-journal-write:N` hangs the journal before its first write once
// N rows are acknowledged, after printing a HOOK line, so a test can SIGKILL the replay at that point.
const hook = /^before-journal-write:(\d+)$/.exec(process.env.SHARDLINE_PRODUCE_TEST_HOOK ?? '');
const hookAtRows = hook === null ? undefined : Number(hook[1]);

const code = await runCli(process.argv.slice(2), {
  env: process.env,
  isTty: process.stderr.isTTY === true,
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  signal: abort.signal,
  beforeJournalWrite:
    hookAtRows === undefined
      ? undefined
      : (acked, journaled) => {
          if (acked < hookAtRows) return;
          process.stderr.write(`HOOK before-journal-write acked=${acked} journaled=${journaled}\n`);
          return new Promise<void>(() => {});
        },
});
process.exitCode = code;
