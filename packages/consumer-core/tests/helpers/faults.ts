/** An error shaped like an AWS SDK service error. */
export function serviceError(name: string, httpStatusCode = 400, attempts = 1): Error {
  const error = new Error(`${name} (injected)`);
  error.name = name;
  Object.assign(error, {
    $metadata: { httpStatusCode, attempts },
    $fault: httpStatusCode >= 500 ? 'server' : 'client',
  });
  return error;
}

/** An error shaped like a dropped connection (no HTTP response). */
export function networkError(): Error {
  return Object.assign(new Error('socket hang up (injected)'), { code: 'ECONNRESET' });
}
