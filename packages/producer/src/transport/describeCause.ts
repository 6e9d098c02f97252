/** The network error codes a user can act on, in words. */
const NETWORK_CAUSES: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection reset',
  UND_ERR_SOCKET: 'connection closed by the server',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host not found (DNS)',
  ETIMEDOUT: 'connection timed out',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  CERT_HAS_EXPIRED: 'TLS certificate expired',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'TLS certificate not trusted',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'TLS certificate not trusted',
};

interface ErrorLike {
  readonly code?: unknown;
  readonly errno?: unknown;
  readonly message?: unknown;
  readonly cause?: unknown;
  readonly address?: unknown;
  readonly port?: unknown;
  readonly isThrottle?: unknown;
}

/** The first network error code in `error`'s cause chain (fetch and the SDK wrap them), with its address. */
function networkCause(error: unknown): string | undefined {
  let e = error as ErrorLike | undefined;
  for (let depth = 0; e !== undefined && e !== null && depth < 6; depth++) {
    const code = typeof e.code === 'string' ? e.code : undefined;
    if (code !== undefined && NETWORK_CAUSES[code] !== undefined) {
      const where =
        typeof e.address === 'string'
          ? ` (${e.address}${typeof e.port === 'number' ? `:${e.port}` : ''})`
          : '';
      return `${NETWORK_CAUSES[code]}${where}`;
    }
    const errors = (e as { errors?: unknown }).errors;
    if (Array.isArray(errors) && errors.length > 0) {
      const inner = networkCause(errors[0]);
      if (inner !== undefined) return inner;
    }
    e = e.cause as ErrorLike | undefined;
  }
  return undefined;
}

/**
 * Says in a few words why a request or a record failed: `connection refused (127.0.0.1:4599)`,
 * `throttled`, `server error (HTTP 503)`, `no answer within 30000 ms`... For progress lines and the
 * message a CLI stops with. `failure` is a {@link TransportError} or a failed record's outcome.
 * @internal
 */
export function describeCause(failure: unknown): string {
  const f = failure as ErrorLike & { errorCode?: unknown; errorMessage?: unknown };
  const code = typeof f?.code === 'string' ? f.code : typeof f?.errorCode === 'string' ? f.errorCode : '';
  const network = networkCause(failure);
  if (network !== undefined) return network;
  if (f?.isThrottle === true) return `throttled (${code})`;
  if (code === 'Timeout' || code === 'DEADLINE_EXCEEDED') {
    const message = typeof f.message === 'string' ? f.message : '';
    const within = /within (\d+) ms/.exec(message);
    return within ? `no answer within ${within[1]} ms` : 'no answer in time';
  }
  const http = /^HTTP_(\d{3})$/.exec(code);
  if (http !== null) {
    const status = Number(http[1]);
    if (status >= 500) return `server error (HTTP ${status})`;
    if (status === 403) return 'HTTP 403 Forbidden (check the API key)';
    if (status === 404) return 'HTTP 404 Not Found (check the URL)';
    return `refused (HTTP ${status})`;
  }
  if (code === 'NetworkError' || code === '') {
    // fetch's "fetch failed" says nothing: the innermost cause does ("bad port", a TLS error...).
    let inner = failure as ErrorLike | undefined;
    for (let depth = 0; depth < 6 && inner?.cause !== undefined && inner.cause !== null; depth++) {
      inner = inner.cause as ErrorLike;
    }
    const text = typeof inner?.message === 'string' && inner.message !== '' ? inner.message : undefined;
    if (text !== undefined && inner !== failure) return text;
    if (code === 'NetworkError') return 'network error';
  }
  if (code === 'InternalFailure' || code === 'ServiceUnavailable' || code === 'InternalServerError')
    return `server error (${code})`;
  return code === '' ? 'unknown failure' : code;
}
