import { NodeHttpHandler } from '@smithy/node-http-handler';
import { describe, expect, it } from 'vitest';
import {
  assertFanOutCapableClient,
  deregisterStreamConsumer,
  FanOutClientError,
  type KinesisClientLike,
  listStreamConsumers,
  registerStreamConsumer,
  StreamConsumerLimitError,
} from '../../src/index.js';
import { awsError } from '../helpers/fakeKinesis.js';

const STREAM = 'arn:aws:kinesis:us-east-1:123456789012:stream/s';
const arnOf = (name: string) => `${STREAM}/consumer/${name}:1`;

/** A Kinesis control plane in memory: consumers go CREATING → ACTIVE after `activeAfterDescribes` looks. */
function fakeControlPlane(
  options: { existing?: string[]; activeAfterDescribes?: number; registerErrors?: Error[] } = {},
) {
  const consumers = new Map<string, { status: string; describes: number }>();
  for (const name of options.existing ?? []) consumers.set(name, { status: 'ACTIVE', describes: 0 });
  const calls: string[] = [];
  const registerErrors = [...(options.registerErrors ?? [])];
  const client = {
    send: async (command: { constructor: { name: string }; input: Record<string, string> }) => {
      const name = command.constructor.name.replace(/Command$/, '');
      calls.push(name);
      const consumerName = command.input.ConsumerName ?? '';
      switch (name) {
        case 'DescribeStreamConsumer': {
          const consumer = consumers.get(consumerName);
          if (!consumer) throw awsError('ResourceNotFoundException');
          consumer.describes += 1;
          if (consumer.describes > (options.activeAfterDescribes ?? 0)) consumer.status = 'ACTIVE';
          return {
            ConsumerDescription: {
              ConsumerName: consumerName,
              ConsumerARN: arnOf(consumerName),
              ConsumerStatus: consumer.status,
            },
          };
        }
        case 'RegisterStreamConsumer': {
          const error = registerErrors.shift();
          if (error) throw error;
          if (consumers.has(consumerName)) throw awsError('ResourceInUseException');
          if (consumers.size >= 20) throw awsError('LimitExceededException');
          consumers.set(consumerName, { status: 'CREATING', describes: 0 });
          return {
            Consumer: {
              ConsumerName: consumerName,
              ConsumerARN: arnOf(consumerName),
              ConsumerStatus: 'CREATING',
            },
          };
        }
        case 'ListStreamConsumers':
          return {
            Consumers: [...consumers].map(([n, c]) => ({
              ConsumerName: n,
              ConsumerARN: arnOf(n),
              ConsumerStatus: c.status,
            })),
          };
        case 'DeregisterStreamConsumer':
          if (!consumers.delete(consumerName)) throw awsError('ResourceNotFoundException');
          return {};
        default:
          throw new Error(name);
      }
    },
  };
  return { client: client as unknown as KinesisClientLike, calls, consumers };
}

describe('registerStreamConsumer', () => {
  it('registers a missing consumer and waits until it is ACTIVE', async () => {
    const plane = fakeControlPlane({ activeAfterDescribes: 2 });
    const result = await registerStreamConsumer({
      client: plane.client,
      streamArn: STREAM,
      consumerName: 'app',
      pollIntervalMs: 1,
    });
    expect(result).toEqual({ consumerArn: arnOf('app'), isNew: true });
    expect(plane.calls.filter((c) => c === 'RegisterStreamConsumer')).toHaveLength(1);
    expect(plane.calls.at(-1)).toBe('DescribeStreamConsumer');
  });

  it('reuses an existing consumer without registering', async () => {
    const plane = fakeControlPlane({ existing: ['app'] });
    expect(
      await registerStreamConsumer({ client: plane.client, streamArn: STREAM, consumerName: 'app' }),
    ).toEqual({
      consumerArn: arnOf('app'),
      isNew: false,
    });
    expect(plane.calls).toEqual(['DescribeStreamConsumer']);
  });

  it('lets workers race: every one ends with the same ACTIVE consumer, registered once', async () => {
    const plane = fakeControlPlane({ activeAfterDescribes: 3 });
    const results = await Promise.all(
      Array.from({ length: 5 }, () =>
        registerStreamConsumer({
          client: plane.client,
          streamArn: STREAM,
          consumerName: 'app',
          pollIntervalMs: 1,
        }),
      ),
    );
    expect(new Set(results.map((r) => r.consumerArn))).toEqual(new Set([arnOf('app')]));
    expect(plane.consumers.size).toBe(1);
  });

  it('retries a rate-limited registration but fails clearly at 20 consumers per stream', async () => {
    const limited = fakeControlPlane({ registerErrors: [awsError('LimitExceededException')] });
    await expect(
      registerStreamConsumer({
        client: limited.client,
        streamArn: STREAM,
        consumerName: 'app',
        pollIntervalMs: 1,
        random: () => 0,
      }),
    ).resolves.toMatchObject({ isNew: true });

    const full = fakeControlPlane({ existing: Array.from({ length: 20 }, (_, i) => `other-${i}`) });
    const error = await registerStreamConsumer({
      client: full.client,
      streamArn: STREAM,
      consumerName: 'app',
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StreamConsumerLimitError);
    expect((error as StreamConsumerLimitError).registeredConsumerNames).toHaveLength(20);
    expect((error as StreamConsumerLimitError).retriable).toBe(false);
  });

  it('lists and deregisters consumers', async () => {
    const plane = fakeControlPlane({ existing: ['a', 'b'] });
    expect(
      (await listStreamConsumers({ client: plane.client, streamArn: STREAM })).map((c) => c.consumerName),
    ).toEqual(['a', 'b']);
    expect(
      await deregisterStreamConsumer({ client: plane.client, streamArn: STREAM, consumerName: 'a' }),
    ).toBe(true);
    expect(
      await deregisterStreamConsumer({ client: plane.client, streamArn: STREAM, consumerName: 'a' }),
    ).toBe(false);
  });
});

describe('assertFanOutCapableClient', () => {
  it('refuses an HTTP/1.1 handler aimed at AWS, accepts it for a custom (local) endpoint, and the HTTP/2 default', () => {
    const client = (requestHandler: unknown, isCustomEndpoint: boolean) =>
      ({
        send: async () => ({}),
        config: { requestHandler, isCustomEndpoint },
      }) as unknown as KinesisClientLike;
    expect(() => assertFanOutCapableClient(client(new NodeHttpHandler(), false))).toThrow(FanOutClientError);
    expect(() => assertFanOutCapableClient(client(new NodeHttpHandler(), true))).not.toThrow();
    class NodeHttp2Handler {}
    expect(() => assertFanOutCapableClient(client(new NodeHttp2Handler(), false))).not.toThrow();
    expect(() =>
      assertFanOutCapableClient({ send: async () => ({}) } as unknown as KinesisClientLike),
    ).not.toThrow();
  });

  it('accepts an HTTP/1.1 handler whose endpoint comes from AWS_ENDPOINT_URL_KINESIS or AWS_ENDPOINT_URL, unless configured endpoints are ignored', () => {
    const client = {
      send: async () => ({}),
      config: { requestHandler: new NodeHttpHandler(), isCustomEndpoint: false },
    };
    const names = [
      'AWS_ENDPOINT_URL_KINESIS',
      'AWS_ENDPOINT_URL',
      'AWS_IGNORE_CONFIGURED_ENDPOINT_URLS',
    ] as const;
    const saved = names.map((name) => [name, process.env[name]] as const);
    try {
      for (const name of names) delete process.env[name];
      for (const name of ['AWS_ENDPOINT_URL_KINESIS', 'AWS_ENDPOINT_URL'] as const) {
        process.env[name] = 'http://127.0.0.1:4567';
        expect(() => assertFanOutCapableClient(client as unknown as KinesisClientLike)).not.toThrow();
        process.env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS = 'true';
        expect(() => assertFanOutCapableClient(client as unknown as KinesisClientLike)).toThrow(
          FanOutClientError,
        );
        delete process.env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS;
        delete process.env[name];
      }
    } finally {
      for (const [name, value] of saved) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });
});
