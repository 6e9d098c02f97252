'use strict';
// Loaded into every emulator process (`node --require watchdog.cjs ...`). When the owner dies for any
// reason (SIGKILL included) this process is re-parented at once, and it exits on the next check. (A
// pipe on stdin would tell sooner, but reading stdin while tsx's module hooks start up stalls the
// main module on Node 20.) Some emulators ignore SIGTERM while busy, so termination signals exit hard.
const initialParentPid = process.ppid;
const exitNow = (code) => {
  // Hooks registered by the host (e.g. closing servers) get one synchronous chance to run.
  try {
    process.emit('shardline:shutdown');
  } catch {}
  process.exit(code);
};

const parentCheck = setInterval(() => {
  if (process.ppid !== initialParentPid) exitNow(0);
}, 200);
parentCheck.unref();

for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) {
  process.on(signal, () => exitNow(0));
}
