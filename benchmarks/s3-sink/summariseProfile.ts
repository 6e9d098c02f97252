/**
 * Summarises a V8 CPU profile (`.cpuprofile`, as written by `node --cpu-prof`): self time by function
 * and by package, the top entries first. Usage:
 *   node benchmarks/s3-sink/summariseProfile.ts <file.cpuprofile> [top=30]
 * (Node ≥ 22.6 strips the types itself; on Node 20 run it with `--import tsx`.)
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: {
    readonly functionName: string;
    readonly url: string;
    readonly lineNumber: number;
  };
  readonly children?: readonly number[];
}

interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** `@shardline/x`, `@aws-sdk/y`, `node:internal`, or the file name. */
function packageOf(url: string): string {
  if (url === '') return '(native/V8)';
  const pnpm = /node_modules\/\.pnpm\/[^/]+\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (pnpm) return pnpm[1]!;
  const workspace = /\/packages\/([^/]+)\/src\//.exec(url);
  if (workspace) return `@shardline/${workspace[1]}`;
  if (url.startsWith('node:')) return 'node (internal)';
  const bench = /\/benchmarks\/(.+)$/.exec(url);
  if (bench) return `benchmarks/${bench[1]}`;
  return url;
}

function main(): void {
  const args = process.argv.slice(2);
  const file = args.find((a) => a.endsWith('.cpuprofile'));
  if (!file) throw new Error('usage: summariseProfile.ts <file.cpuprofile> [top]');
  const top = Number(args.find((a) => /^\d+$/.test(a)) ?? 30);
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  let totalUs = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    selfUs.set(id, (selfUs.get(id) ?? 0) + dt);
    totalUs += dt;
  });
  const byFunction = new Map<string, number>();
  const byPackage = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (!node) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const where = url
      ? `${url.replace(/^.*\/(node_modules\/\.pnpm\/[^/]+\/node_modules\/|packages\/|benchmarks\/)/, '')}:${lineNumber + 1}`
      : '';
    const name = `${functionName || '(anonymous)'} ${where}`.trim();
    byFunction.set(name, (byFunction.get(name) ?? 0) + us);
    const pkg = packageOf(url);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + us);
  }
  const show = (title: string, entries: Map<string, number>) => {
    console.log(`\n${title}`);
    for (const [name, us] of [...entries].sort((a, b) => b[1] - a[1]).slice(0, top)) {
      console.log(
        `${((100 * us) / totalUs).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(7)} ms  ${name}`,
      );
    }
  };
  console.log(`${file}: ${(totalUs / 1e6).toFixed(2)} s sampled (idle included as "(idle)")`);
  show('self time by package', byPackage);
  show('self time by function', byFunction);
  // `--callers=<function name>`: where the self time of that function comes from (its callers' chains).
  const callersOf = args.find((a) => a.startsWith('--callers='))?.slice('--callers='.length);
  if (callersOf) {
    const parent = new Map<number, number>();
    for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
    const chains = new Map<string, number>();
    for (const [id, us] of selfUs) {
      if (byId.get(id)?.callFrame.functionName !== callersOf) continue;
      const names: string[] = [];
      for (let p = parent.get(id); p !== undefined && names.length < 6; p = parent.get(p)) {
        const frame = byId.get(p)!.callFrame;
        names.push(
          `${frame.functionName || '(anonymous)'}@${frame.url.split('/').pop()}:${frame.lineNumber + 1}`,
        );
      }
      const chain = names.join(' < ');
      chains.set(chain, (chains.get(chain) ?? 0) + us);
    }
    show(`callers of ${callersOf}`, chains);
  }
}

main();
