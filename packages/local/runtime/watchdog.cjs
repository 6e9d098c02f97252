'use strict';
// Loaded into every emulator process (`node --require watchdog.cjs ...`). The owner holds the write end
// of this process's stdin: when the owner dies for any reason (SIGKILL included) the pipe closes and this
// process exits at once. A parent-pid check backs that up in case stdin was redirected. Some emulators
// ignore SIGTERM while busy, so termination signals exit hard here too.
const initialParentPid = process.ppid;
const exitNow = (code) => {
  // Hooks registered by the host (e.g. closing servers) get one synchronous chance to run.
  try {
    process.emit('shardline:shutdown');
  } catch {}
  process.exit(code);
};

process.stdin.on('end', () => exitNow(0));
process.stdin.on('close', () => exitNow(0));
process.stdin.on('error', () => exitNow(0));
process.stdin.resume();

const parentCheck = setInterval(() => {
  if (process.ppid !== initialParentPid) exitNow(0);
}, 500);
parentCheck.unref();

for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) {
  process.on(signal, () => exitNow(0));
}
