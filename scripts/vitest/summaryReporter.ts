import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Reporter, TestModule } from 'vitest/node';

/**
 * Ends every run with the plain line `N passed, N failed, N skipped`, counted from the test cases
 * themselves, after naming each failed test, and writes the same counts and names to
 * `test-results/summary.json` for CI.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<unknown>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    let moduleErrors = 0;
    const failures: string[] = [];
    for (const module of testModules) {
      if (module.errors().length > 0) {
        moduleErrors += 1;
        failures.push(`${relative(process.cwd(), module.moduleId)} (the file failed to load or run)`);
      }
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') passed += 1;
        else if (state === 'failed') {
          failed += 1;
          failures.push(`${relative(process.cwd(), module.moduleId)} > ${test.fullName}`);
        } else skipped += 1;
      }
    }
    // A file that failed to load, or an error outside any test, is a failure too.
    failed += moduleErrors + unhandledErrors.length;
    const dir = join(process.cwd(), 'test-results');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'summary.json'), `${JSON.stringify({ passed, failed, skipped, failures })}\n`);
    // The failing tests are named again at the very end, where a log cut to its tail still shows them.
    for (const failure of failures) process.stdout.write(`\nFAILED ${failure}`);
    process.stdout.write(`\n${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  }
}
