// A stand-in for API Gateway's mapping-template runtime ($input, $util, $context) over velocityjs, so
// the direct mode's templates run in Node. Checked against AWS's documented examples in
// tests/unit/apiGatewayVtl.test.ts. Only what the documentation states is modelled.
import velocity from 'velocityjs';

/**
 * A Java `String` as VTL sees it in API Gateway (Velocity 1.7 on the JVM): `replaceAll` takes a regular
 * expression, `length()` is a method. Renders as its text.
 */
export class JavaString {
  readonly #text: string;
  constructor(text: string) {
    this.#text = text;
  }
  toString(): string {
    return this.#text;
  }
  valueOf(): string {
    return this.#text;
  }
  length(): number {
    return this.#text.length;
  }
  replaceAll(regex: string, replacement: string): JavaString {
    // Java's replacement string: `$n` groups, `\` escapes; none of ours uses either.
    return new JavaString(this.#text.replace(new RegExp(regex, 'g'), replacement));
  }
  substring(begin: number, end?: number): JavaString {
    return new JavaString(this.#text.substring(begin, end));
  }
  contains(s: unknown): boolean {
    return this.#text.includes(String(s));
  }
  startsWith(s: unknown): boolean {
    return this.#text.startsWith(String(s));
  }
  indexOf(s: unknown): number {
    return this.#text.indexOf(String(s));
  }
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Evaluates the JSONPath subset mapping templates use: `$`, `$.a.b`, `$.a[3]`, `$['a']`, `a.b` (no `$`). */
export function jsonPath(root: Json | undefined, path: string): Json | undefined {
  let rest = path.trim();
  if (rest.startsWith('$')) rest = rest.slice(1);
  let value: Json | undefined = root;
  const step = /^(?:\.([A-Za-z_$][\w$-]*)|\[(\d+)\]|\['([^']*)'\]|\["([^"]*)"\]|^([A-Za-z_][\w$-]*))/;
  while (rest.length > 0) {
    const m = step.exec(rest);
    if (!m) throw new Error(`Unsupported JSONPath ${path}`);
    rest = rest.slice(m[0].length);
    const key = m[1] ?? m[3] ?? m[4] ?? m[5];
    if (value === null || value === undefined || typeof value !== 'object') return undefined;
    value =
      key !== undefined
        ? Array.isArray(value)
          ? undefined
          : value[key]
        : Array.isArray(value)
          ? value[Number(m[2])]
          : undefined;
  }
  return value;
}

/** Commons Lang `StringEscapeUtils.escapeJavaScript`, which `$util.escapeJavaScript` uses. */
export function escapeJavaScript(text: string): string {
  let out = '';
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    if (code > 0xffff) {
      // Two UTF-16 units, each escaped.
      for (const unit of [ch.charCodeAt(0), ch.charCodeAt(1)]) out += `\\u${unit.toString(16).toUpperCase()}`;
    } else if (code > 0x7f) out += `\\u${code.toString(16).toUpperCase().padStart(4, '0')}`;
    else if (ch === '\b') out += '\\b';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\f') out += '\\f';
    else if (ch === '\r') out += '\\r';
    else if (code < 0x20) out += `\\u${code.toString(16).toUpperCase().padStart(4, '0')}`;
    else if (ch === "'") out += "\\'";
    else if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '/') out += '\\/';
    else out += ch;
  }
  return out;
}

/** The request-side facts a template may read through `$context`. */
export interface VtlContext {
  readonly requestId: string;
  /** Epoch milliseconds of the request. */
  readonly requestTimeEpoch: number;
  readonly stage?: string;
  readonly httpMethod?: string;
  readonly resourcePath?: string;
  readonly apiId?: string;
  readonly identity?: Readonly<Record<string, string>>;
}

/** What a rendering produced. */
export interface VtlResult {
  readonly output: string;
  /** `$context.responseOverride.status`, when the template set it. */
  readonly statusOverride: number | undefined;
  /** `$context.responseOverride.header.*`. */
  readonly headerOverrides: Readonly<Record<string, string>>;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `$context.requestTime`: CLF format, `dd/MMM/yyyy:HH:mm:ss +0000`. */
export function clfTime(epochMs: number): string {
  const d = new Date(epochMs);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

function wrap(value: Json | undefined): unknown {
  if (typeof value === 'string') return new JavaString(value);
  if (Array.isArray(value)) return value.map(wrap);
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, wrap(v)]));
  return value;
}

/**
 * Renders a mapping template as API Gateway would: `$input` over `body` (the request or integration
 * response body), `$util`, `$context` (with `responseOverride`), `$input.params()` from `params`.
 */
export function renderMappingTemplate(
  template: string,
  body: string,
  context: VtlContext,
  params: {
    header?: Record<string, string>;
    path?: Record<string, string>;
    querystring?: Record<string, string>;
  } = {},
): VtlResult {
  let parsed: Json | undefined;
  const root = () => {
    parsed ??= body === '' ? {} : (JSON.parse(body) as Json);
    return parsed;
  };
  const responseOverride = { status: undefined as number | undefined, header: {} as Record<string, unknown> };
  const input = {
    body,
    json: (path: unknown) => JSON.stringify(jsonPath(root(), String(path)) ?? null),
    path: (path: unknown) => wrap(jsonPath(root(), String(path))),
    params: (name?: unknown) => {
      const all = {
        path: params.path ?? {},
        querystring: params.querystring ?? {},
        header: params.header ?? {},
      };
      if (name === undefined) return all;
      const key = String(name);
      return all.path[key] ?? all.querystring[key] ?? all.header[key] ?? '';
    },
  };
  const util = {
    escapeJavaScript: (s: unknown) => new JavaString(escapeJavaScript(String(s))),
    base64Encode: (s: unknown) => Buffer.from(String(s), 'utf8').toString('base64'),
    base64Decode: (s: unknown) => new JavaString(Buffer.from(String(s), 'base64').toString('utf8')),
    parseJson: (s: unknown) => wrap(JSON.parse(String(s)) as Json),
    urlEncode: (s: unknown) => encodeURIComponent(String(s)).replace(/%20/g, '+'),
    urlDecode: (s: unknown) => decodeURIComponent(String(s).replace(/\+/g, '%20')),
  };
  const ctx = {
    ...context,
    requestTime: clfTime(context.requestTimeEpoch),
    responseOverride,
  };
  const output = velocity.render(template, { input, util, context: ctx }, {}, { escape: false });
  const headerOverrides = Object.fromEntries(
    Object.entries(responseOverride.header).map(([k, v]) => [k, String(v)]),
  );
  const status = responseOverride.status === undefined ? undefined : Number(String(responseOverride.status));
  return { output, statusOverride: status, headerOverrides };
}
