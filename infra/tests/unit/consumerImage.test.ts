import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const repoRoot = join(import.meta.dirname, '../../..');
const dockerfile = readFileSync(join(repoRoot, 'infra/docker/consumer.Dockerfile'), 'utf8');

describe('consumer image (docker/consumer.Dockerfile)', () => {
  it('runs on Node.js 26, the LTS line CI proves besides 20', () => {
    const from = dockerfile.split('\n').filter((line) => line.startsWith('FROM '));
    expect(from).toEqual(['FROM public.ecr.aws/docker/library/node:26-slim']);
  });

  it('installs the pnpm version the repository pins', () => {
    const { packageManager } = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
      packageManager: string;
    };
    expect(dockerfile).toContain(`RUN npm install -g ${packageManager}\n`);
  });
});
