import { ConfigurationError as CommonConfigurationError, ShardlineError } from '@shardline/common';
import {
  ConfigurationError as ConsumerConfigurationError,
  resolveConsumerConfig,
} from '@shardline/consumer-core';
import { ConfigurationError as IngestConfigurationError } from '@shardline/ingest';
import { ConfigurationError, S3SinkError } from '@shardline/s3-sink';
import { describe, expect, it } from 'vitest';
import { resolveS3SinkConfig, type S3SinkOptions } from '../../src/config/resolveS3SinkConfig.js';

describe('errors shared through @shardline/common', () => {
  it('is one ConfigurationError class, whichever package exports it', () => {
    expect(ConfigurationError).toBe(CommonConfigurationError);
    expect(ConsumerConfigurationError).toBe(CommonConfigurationError);
    expect(IngestConfigurationError).toBe(CommonConfigurationError);
  });

  it('lets a configuration error of one package be caught as another package’s', () => {
    expect(() => resolveS3SinkConfig({} as S3SinkOptions)).toThrow(ConsumerConfigurationError);
    expect(() => resolveConsumerConfig({} as never)).toThrow(ConfigurationError);
  });

  it('roots every package error in ShardlineError', () => {
    const error = new S3SinkError('x', { retriable: true });
    expect(error).toBeInstanceOf(ShardlineError);
    expect(error.code).toBe('S3SinkError');
  });
});
