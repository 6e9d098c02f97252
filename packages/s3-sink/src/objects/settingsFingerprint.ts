import { createHash } from 'node:crypto';
import type { ResolvedS3SinkConfig } from '../config/resolveS3SinkConfig.js';
import { formatFingerprint } from './formats/RecordFormat.js';

/**
 * The settings that decide an object's bytes beyond the records and keys (the keys have their own
 * digest): the record format, compression and content options. One function, so that each new format
 * option is added here.
 */
export function formatSettings(config: ResolvedS3SinkConfig): Record<string, unknown> {
  return {
    // The record format with its own settings (Parquet: schema, its version, page compression, row groups).
    format: formatFingerprint(config.format),
    compression: config.codec.name,
    extension: config.codec.extension,
    newlineDelimiter: config.newlineDelimiter,
    recordContent: config.recordContent,
    invalidRecordPolicy: config.invalidRecordPolicy,
  };
}

/**
 * What a prepared range records of the settings that decide its objects: the transform's `version`
 * (`null` without a transform), the format settings ({@link formatSettings}) and the time-zone database
 * version (`process.versions.tz`: it decides local times in keys). A redo that finds another fingerprint
 * reports it (`REDO_SETTINGS_CHANGED`).
 */
export interface SettingsFingerprint {
  /** SHA-256 (hex, first 32 digits) of the parts, stored with the pending range. */
  readonly digest: string;
  /** The parts, in clear, for messages. */
  readonly parts: Readonly<Record<string, unknown>>;
}

/** The fingerprint of `config`'s settings (with `tz`, the time-zone database version, for tests). */
export function settingsFingerprint(
  config: ResolvedS3SinkConfig,
  tz: string | undefined = process.versions.tz,
): SettingsFingerprint {
  const parts = {
    transformVersion: config.transform?.version ?? null,
    format: formatSettings(config),
    // The time-zone database decides local times only: keys rendered in UTC never depend on it.
    tz: config.timeZone === 'UTC' ? null : (tz ?? null),
  };
  const digest = createHash('sha256').update(stableJson(parts)).digest('hex').slice(0, 32);
  return { digest, parts };
}

/** JSON with object keys sorted, so that the digest does not depend on the order they were set in. */
function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
