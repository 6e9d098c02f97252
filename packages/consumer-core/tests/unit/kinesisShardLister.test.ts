import { ListShardsCommand, type ListShardsCommandInput } from '@aws-sdk/client-kinesis';
import { describe, expect, it } from 'vitest';
import { type KinesisClientLike, KinesisShardLister } from '../../src/index.js';
import { awsError } from '../helpers/fakeKinesis.js';

function fakeLister(options: { rejectFilter?: boolean; throttleFirst?: boolean } = {}) {
  const requests: ListShardsCommandInput[] = [];
  let throttled = false;
  const client: KinesisClientLike = {
    send: (async (command: unknown) => {
      if (!(command instanceof ListShardsCommand)) throw new Error('unexpected');
      requests.push(command.input);
      if (options.throttleFirst && !throttled) {
        throttled = true;
        throw awsError('LimitExceededException');
      }
      if (options.rejectFilter && command.input.ShardFilter) throw awsError('ValidationException');
      if (!command.input.NextToken) {
        return {
          Shards: [
            {
              ShardId: 'p',
              HashKeyRange: { StartingHashKey: '0', EndingHashKey: '9' },
              SequenceNumberRange: { StartingSequenceNumber: '1', EndingSequenceNumber: '5' },
            },
          ],
          NextToken: 'page-2',
        };
      }
      return {
        Shards: [
          {
            ShardId: 'm',
            ParentShardId: 'p',
            AdjacentParentShardId: 'a',
            HashKeyRange: { StartingHashKey: '0', EndingHashKey: '19' },
            SequenceNumberRange: { StartingSequenceNumber: '6' },
          },
        ],
      };
    }) as KinesisClientLike['send'],
  };
  return { lister: new KinesisShardLister({ client, streamName: 's' }), requests };
}

describe('KinesisShardLister', () => {
  it('follows NextToken pages (naming only the token), reads both parents and whether a shard is open', async () => {
    const { lister, requests } = fakeLister();
    expect(await lister.listShards()).toEqual([
      {
        shardId: 'p',
        parentShardIds: [],
        hashKeyRange: { startingHashKey: '0', endingHashKey: '9' },
        isOpen: false,
      },
      {
        shardId: 'm',
        parentShardIds: ['a', 'p'],
        hashKeyRange: { startingHashKey: '0', endingHashKey: '19' },
        isOpen: true,
      },
    ]);
    expect(requests).toEqual([{ StreamName: 's' }, { NextToken: 'page-2' }]);
  });

  it('filters with ShardFilter for LATEST and timestamps, and lists everything where the filter is rejected', async () => {
    const at = new Date('2026-01-01T00:00:00Z');
    const ok = fakeLister();
    await ok.lister.listShards(undefined, 'LATEST');
    await ok.lister.listShards(undefined, { atTimestamp: at });
    await ok.lister.listShards(undefined, 'TRIM_HORIZON');
    expect(ok.requests.filter((r) => !r.NextToken).map((r) => r.ShardFilter)).toEqual([
      { Type: 'AT_LATEST' },
      { Type: 'AT_TIMESTAMP', Timestamp: at },
      undefined,
    ]);
    const rejecting = fakeLister({ rejectFilter: true });
    expect(await rejecting.lister.listShards(undefined, 'LATEST')).toHaveLength(2);
    expect(rejecting.requests.map((r) => r.ShardFilter?.Type)).toEqual(['AT_LATEST', undefined, undefined]);
  });

  it('retries a throttled ListShards', async () => {
    const { lister, requests } = fakeLister({ throttleFirst: true });
    expect(await lister.listShards()).toHaveLength(2);
    expect(requests).toHaveLength(3);
  });
});
