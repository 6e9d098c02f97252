// The names this package had before 0.2: `LocalStack…` is another product's name (see the README's
// comparison), so the twin now speaks of itself as `LocalTwin…`. These aliases go in the next release.
import type { LocalTwinInfo } from './clientConfig.js';
import { localTwinEnv } from './clientConfig.js';
import type {
  LocalTwinOptions,
  LocalTwinPorts,
  ResolvedLocalTwinConfig,
} from './config/resolveLocalTwinConfig.js';
import { LOCAL_TWIN_DEFAULTS, resolveLocalTwinConfig } from './config/resolveLocalTwinConfig.js';
import { LocalTwinError } from './errors.js';
import { LocalTwinClient } from './LocalTwinClient.js';
import type { LocalTwinState } from './startLocalTwin.js';
import { LocalTwin, startLocalTwin } from './startLocalTwin.js';

/** @deprecated Use {@link LocalTwin}; this alias goes in the next release. */
export const LocalStack = LocalTwin;
/** @deprecated Use {@link LocalTwin}; this alias goes in the next release. */
export type LocalStack = LocalTwin;

/** @deprecated Use {@link startLocalTwin}; this alias goes in the next release. */
export const startLocalStack = startLocalTwin;

/** @deprecated Use {@link LocalTwinClient}; this alias goes in the next release. */
export const LocalStackClient = LocalTwinClient;
/** @deprecated Use {@link LocalTwinClient}; this alias goes in the next release. */
export type LocalStackClient = LocalTwinClient;

/** @deprecated Use {@link LocalTwinError}; this alias goes in the next release. */
export const LocalStackError = LocalTwinError;
/** @deprecated Use {@link LocalTwinError}; this alias goes in the next release. */
export type LocalStackError = LocalTwinError;

/** @deprecated Use {@link LOCAL_TWIN_DEFAULTS}; this alias goes in the next release. */
export const LOCAL_STACK_DEFAULTS = LOCAL_TWIN_DEFAULTS;

/** @deprecated Use {@link resolveLocalTwinConfig}; this alias goes in the next release. */
export const resolveLocalStackConfig = resolveLocalTwinConfig;

/** @deprecated Use {@link localTwinEnv}; this alias goes in the next release. */
export const localStackEnv = localTwinEnv;

/** @deprecated Use {@link LocalTwinInfo}; this alias goes in the next release. */
export type LocalStackInfo = LocalTwinInfo;
/** @deprecated Use {@link LocalTwinOptions}; this alias goes in the next release. */
export type LocalStackOptions = LocalTwinOptions;
/** @deprecated Use {@link LocalTwinPorts}; this alias goes in the next release. */
export type LocalStackPorts = LocalTwinPorts;
/** @deprecated Use {@link ResolvedLocalTwinConfig}; this alias goes in the next release. */
export type ResolvedLocalStackConfig = ResolvedLocalTwinConfig;
/** @deprecated Use {@link LocalTwinState}; this alias goes in the next release. */
export type LocalStackState = LocalTwinState;
