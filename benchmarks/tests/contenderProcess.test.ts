import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import {
  ContenderError,
  type ContenderEvent,
  monotonicNowMs,
  spawnContender,
  startContender,
} from '../harness/contenderProcess.js';

// One real child process each (node + tsx start-up is ~0.5 s): the IPC protocol, the marks and the
// failure path are what every CPU/RSS figure of every benchmark rests on.
const fixture = new URL('./fixtures/probeContender.ts', import.meta.url);
const longRunning = new URL('./fixtures/eventContender.ts', import.meta.url);
const track = () => () => {};

describe('spawnContender', () => {
  it('runs the contender in its own process and reports CPU between marks and peak RSS', async () => {
    const report = await spawnContender(fixture, { spinMs: 200 }, new AbortController().signal, track);
    // The fixture spins until its own CPU time grew by 200 ms: the span measures at least that, and not
    // much more (it checks every few thousand iterations). The process's CPU time counts every thread
    // (V8's GC and compiler threads too), so it may exceed the wall time: only the CPU time is bounded.
    expect(report.metrics.spin_cpu_us).toBeGreaterThanOrEqual(200_000);
    expect(report.metrics.spin_cpu_us).toBeLessThan(1_000_000);
    expect(report.metrics.spin_wall_ms).toBeGreaterThan(0);
    expect(report.marks.end!.wallMs - report.marks.start!.wallMs).toBeCloseTo(
      report.metrics.spin_wall_ms!,
      3,
    );
    expect(report.peakRssMiB).toBeGreaterThan(10);
    expect(report.peakRssMiB).toBeLessThan(1024);
  }, 30_000);

  it('rejects with the child error and its stack', async () => {
    const run = spawnContender(fixture, { spinMs: 0, fail: true }, new AbortController().signal, track);
    await expect(run).rejects.toBeInstanceOf(ContenderError);
    await expect(run).rejects.toThrow(/asked to fail/);
  }, 30_000);

  it('kills the child when aborted', async () => {
    const controller = new AbortController();
    const run = spawnContender(fixture, { spinMs: 20_000 }, controller.signal, track);
    setTimeout(() => controller.abort(new Error('stop now')), 1_500);
    const t0 = Date.now();
    await expect(run).rejects.toThrow('stop now');
    expect(Date.now() - t0).toBeLessThan(10_000);
  }, 30_000);

  it('hears events as they happen, and stop() makes the contender finish and report', async () => {
    const events: ContenderEvent[] = [];
    let ready!: () => void;
    const isReady = new Promise<void>((resolve) => {
      ready = resolve;
    });
    const handle = startContender(longRunning, { tickMs: 20 }, new AbortController().signal, track, {
      onEvent: (event) => {
        events.push(event);
        if (event.name === 'ready') ready();
      },
    });
    await isReady;
    expect(events[0]).toMatchObject({ name: 'ready', data: { pid: handle.pid } });
    // The child's monotonic clock is ours: its stamp is in our past.
    expect(events[0]!.atMs).toBeLessThanOrEqual(monotonicNowMs());
    await sleep(200);
    handle.stop();
    // Without stop() the contender would never return: the report proves it heard the request.
    const report = await handle.report;
    expect(report.metrics.ticks_count).toBeGreaterThanOrEqual(2);
  }, 30_000);

  it('kill() ends the process with the signal, as a crash', async () => {
    let ready!: () => void;
    const isReady = new Promise<void>((resolve) => {
      ready = resolve;
    });
    const handle = startContender(longRunning, { tickMs: 20 }, new AbortController().signal, track, {
      onEvent: () => ready(),
    });
    await isReady;
    handle.kill('SIGKILL');
    const error = await handle.report.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ContenderError);
    expect((error as ContenderError).exitSignal).toBe('SIGKILL');
  }, 30_000);

  it('stop() and kill() asked while the contender is still being bundled take effect once it exists', async () => {
    // stop() before the process exists: it is sent as soon as the process starts, so the run ends.
    const stopped = startContender(longRunning, { tickMs: 20 }, new AbortController().signal, track);
    stopped.stop();
    expect((await stopped.report).metrics.ticks_count).toBeGreaterThanOrEqual(0);
    // kill() before the process exists: it never runs (or, from source, dies of the signal).
    const killed = startContender(longRunning, { tickMs: 20 }, new AbortController().signal, track);
    killed.kill('SIGKILL');
    expect(await killed.report.catch((e: unknown) => e)).toBeInstanceOf(ContenderError);
  }, 30_000);
});
