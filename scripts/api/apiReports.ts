// The API reports: one `api/<name>[.<subpath>].api.md` per entry point of every publishable package,
// written by API Extractor from the built declarations (`dist/`, so `pnpm build` first).
//
//   pnpm api:update   rewrites the reports from the current build
//   pnpm api:check    fails when a report differs from the current build (CI), printing the difference
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IConfigFile } from '@microsoft/api-extractor';
import { Extractor, ExtractorConfig, ExtractorLogLevel } from '@microsoft/api-extractor';
import {
  type PackageEntryPoint,
  type PublishablePackage,
  publishablePackages,
} from '../packages/publishablePackages.js';

const isCheck = process.argv.includes('--check');
const tempFolder = mkdtempSync(join(tmpdir(), 'shardline-api-'));

function configFor(pkg: PublishablePackage, entry: PackageEntryPoint): IConfigFile {
  return {
    projectFolder: pkg.dir,
    mainEntryPointFilePath: entry.typesFile,
    bundledPackages: [],
    newlineKind: 'lf',
    compiler: {
      // The declarations as a user's TypeScript sees them: Node's resolution, no source condition.
      overrideTsconfig: {
        compilerOptions: {
          target: 'ES2023',
          lib: ['ES2023'],
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          skipLibCheck: true,
          types: ['node'],
        },
        files: [entry.typesFile],
      },
    },
    apiReport: {
      enabled: true,
      reportFileName: entry.reportName,
      reportFolder: join(pkg.dir, 'api'),
      reportTempFolder: join(tempFolder, pkg.unscopedName),
      includeForgottenExports: false,
    },
    docModel: { enabled: false },
    dtsRollup: { enabled: false },
    tsdocMetadata: { enabled: false },
    messages: {
      compilerMessageReporting: { default: { logLevel: ExtractorLogLevel.Warning } },
      extractorMessageReporting: {
        default: { logLevel: ExtractorLogLevel.Warning },
        // The packages use no release tags (@public, @beta...): everything exported is public.
        'ae-missing-release-tag': { logLevel: ExtractorLogLevel.None },
        // A type reachable from the API but not exported: listed in the report, where a review sees it.
        'ae-forgotten-export': { logLevel: ExtractorLogLevel.None, addToApiReportFile: true },
        // Documentation completeness and TSDoc links are the linters' business, not the surface's.
        'ae-undocumented': { logLevel: ExtractorLogLevel.None },
        'ae-unresolved-link': { logLevel: ExtractorLogLevel.None },
      },
      // The reports are about the surface, not about the TSDoc dialect of its comments.
      tsdocMessageReporting: { default: { logLevel: ExtractorLogLevel.None } },
    },
  };
}

let failures = 0;
let preambleShown = false;
try {
  for (const pkg of publishablePackages()) {
    mkdirSync(join(pkg.dir, 'api'), { recursive: true });
    // A report whose entry point is gone (a subpath removed from the exports map) goes too.
    const reports = new Set(pkg.entryPoints.map((entry) => `${entry.reportName}.api.md`));
    for (const file of readdirSync(join(pkg.dir, 'api')).filter((name) => name.endsWith('.api.md'))) {
      if (reports.has(file)) continue;
      const report = join(pkg.relativeDir, 'api', file);
      if (isCheck) {
        failures += 1;
        process.stderr.write(`✗ ${report}: no such entry point in ${pkg.name}'s exports map\n`);
      } else {
        rmSync(join(pkg.dir, 'api', file));
        process.stdout.write(`✓ ${report}: removed (no such entry point)\n`);
      }
    }
    for (const entry of pkg.entryPoints) {
      const label = `${pkg.name}${entry.subpath === '.' ? '' : entry.subpath.slice(1)}`;
      const config = ExtractorConfig.prepare({
        configObject: configFor(pkg, entry),
        configObjectFullPath: undefined,
        packageJsonFullPath: join(pkg.dir, 'package.json'),
      });
      const result = Extractor.invoke(config, {
        localBuild: !isCheck,
        printApiReportDiff: isCheck,
        messageCallback: (message) => {
          // "Analysis will use the bundled TypeScript version …", once per run is enough.
          if (message.messageId === 'console-preamble') {
            message.handled = preambleShown;
            preambleShown = true;
          }
        },
      });
      const report = join(pkg.relativeDir, 'api', `${entry.reportName}.api.md`);
      if (!result.succeeded) {
        failures += 1;
        process.stderr.write(`✗ ${label}: ${isCheck ? `${report} is not the current API` : 'failed'}\n`);
      } else {
        process.stdout.write(`✓ ${label}: ${report}${result.apiReportChanged ? ' (updated)' : ''}\n`);
      }
    }
  }
} finally {
  rmSync(tempFolder, { recursive: true, force: true });
}
if (failures > 0) {
  process.stderr.write(
    isCheck
      ? `\n${failures} API report(s) differ from the build: review the change, then run pnpm api:update and commit the reports.\n`
      : `\n${failures} API report(s) could not be written.\n`,
  );
  process.exitCode = 1;
}
