import { ShardlineError } from '@shardline/common';
import * as local from '@shardline/local';
import * as vitestEntry from '@shardline/local/vitest';
import { describe, expect, it } from 'vitest';

describe('the LocalStack names of 0.1, deprecated', () => {
  it('are the same values as the LocalTwin names', () => {
    expect(local.LocalStack).toBe(local.LocalTwin);
    expect(local.startLocalStack).toBe(local.startLocalTwin);
    expect(local.LocalStackClient).toBe(local.LocalTwinClient);
    expect(local.LocalStackError).toBe(local.LocalTwinError);
    expect(local.LOCAL_STACK_DEFAULTS).toBe(local.LOCAL_TWIN_DEFAULTS);
    expect(local.resolveLocalStackConfig).toBe(local.resolveLocalTwinConfig);
    expect(local.localStackEnv).toBe(local.localTwinEnv);
    expect(vitestEntry.localStackFromContext).toBe(vitestEntry.localTwinFromContext);
  });

  it('keep instanceof working for errors thrown under the new names', () => {
    expect(new local.PortInUseError('kinesis', 4567)).toBeInstanceOf(local.LocalStackError);
    // ConfigurationError is the one class of @shardline/common, shared by every package: it extends the
    // common root, not the local twin's.
    expect(() => local.resolveLocalTwinConfig({ region: '' })).toThrow(local.ConfigurationError);
    expect(new local.ConfigurationError([])).toBeInstanceOf(ShardlineError);
  });
});
