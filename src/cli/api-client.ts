import { type Option, UsageError, type Values } from './command.ts';

/**
 * The one HTTP client of the command line: every command that talks to a running Herald goes
 * through it. It sends the bearer token, JSON both ways, and turns the API's `{code, detail}`
 * errors (with a 422's per-field items) and network failures into errors whose message a person
 * can act on; commands print them and exit 1.
 */

export const DEFAULT_URL = 'http://127.0.0.1:8071';

/** The options of every command that talks to Herald; spread them into its declaration. */
export const API_OPTIONS = {
  url: { type: 'string', value: 'url', describe: `the Herald to talk to (or HERALD_URL; default ${DEFAULT_URL})` },
  token: { type: 'string', value: 'token', describe: 'an API token (or HERALD_TOKEN, which ps does not show)' },
} as const satisfies Record<string, Option>;

/** One item of a 422 answer, as the API writes it. */
export interface ValidationItem {
  loc: string[];
  msg: string;
  type?: string;
}

/** The API answered with an error status. The message says what it said, readably. */
export class ApiError extends Error {
  override name = 'ApiError';
  readonly status: number;
  readonly code: string | null;
  readonly detail: string | ValidationItem[] | null;
  /** `GET /api/v1/app/acme`. */
  readonly request: string;

  constructor(status: number, code: string | null, detail: string | ValidationItem[] | null, request: string) {
    super(describeFailure(status, code, detail, request));
    this.status = status;
    this.code = code;
    this.detail = detail;
    this.request = request;
  }
}

/** Herald could not be reached, or the connection broke. */
export class NetworkError extends Error {
  override name = 'NetworkError';
}

function describeFailure(status: number, code: string | null, detail: string | ValidationItem[] | null, request: string): string {
  const where = `(${status}${code ? ` ${code}` : ''}, ${request})`;
  if (Array.isArray(detail)) {
    const items = detail.map((item) => `  ${Array.isArray(item.loc) ? item.loc.join('.') : '?'}: ${item.msg}`);
    return [`the request is invalid ${where}:`, ...items].join('\n');
  }
  const text = detail ?? `HTTP ${status}`;
  // The API's 403 already says what the token may not do.
  const hint = status === 401 ? ' Check --token or HERALD_TOKEN.' : '';
  return `${text} ${where}${hint}`;
}

export type QueryValue = string | number | boolean | readonly string[] | null | undefined;

export interface CallOptions {
  query?: Record<string, QueryValue>;
  /** Sent as JSON; a string or Buffer is sent as it is, already JSON (to keep a payload's own bytes). */
  body?: unknown;
  signal?: AbortSignal;
}

export interface Answer<T = unknown> {
  status: number;
  /** The parsed body, or null when there is none. */
  body: T;
  /** The body's bytes as they came, for `--json`, which prints the API's JSON as it is. */
  raw: Buffer;
}

/** A Svix list page. */
export interface ListPage<T = unknown> {
  data: T[];
  iterator: string | null;
  prevIterator?: string | null;
  done: boolean;
}

export class ApiClient {
  readonly baseUrl: string;
  readonly #token: string;

  constructor(baseUrl: string, token: string) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.#token = token;
  }

  /** The client `--url`/`--token` (or HERALD_URL/HERALD_TOKEN) describe; a UsageError when they do not. */
  static fromOptions(values: Values, env: NodeJS.ProcessEnv): ApiClient {
    const url = (values.url as string | undefined) ?? env.HERALD_URL ?? DEFAULT_URL;
    const token = (values.token as string | undefined) ?? env.HERALD_TOKEN;
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new UsageError(`--url ${JSON.stringify(url)} is not a URL; expected something like ${DEFAULT_URL}.`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new UsageError(`--url must be http:// or https://; got ${JSON.stringify(url)}.`);
    if (!token) {
      throw new UsageError('No API token: pass --token or set HERALD_TOKEN (herald serve prints one at its first start; herald token makes another).');
    }
    return new ApiClient(parsed.href, token);
  }

  /**
   * Sends a request and returns the response once its status is a success, for callers that read
   * the body themselves (a stream); an error status becomes an ApiError.
   */
  async send(method: string, path: string, options: CallOptions = {}): Promise<Response> {
    const url = this.baseUrl + path + queryString(options.query);
    const request = `${method} ${path}`;
    const hasBody = options.body !== undefined;
    const body = !hasBody ? undefined : typeof options.body === 'string' || Buffer.isBuffer(options.body) ? options.body : JSON.stringify(options.body);
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers: { authorization: `Bearer ${this.#token}`, accept: 'application/json', ...(hasBody ? { 'content-type': 'application/json' } : {}) },
        ...(body === undefined ? {} : { body }),
        ...(options.signal ? { signal: options.signal } : {}),
      });
    } catch (error) {
      throw networkError(error, this.baseUrl);
    }
    if (response.ok) return response;
    const raw = await readBody(response, this.baseUrl);
    const parsed = parseJson(raw) as { code?: unknown; detail?: unknown } | undefined;
    if (parsed && typeof parsed === 'object' && 'detail' in parsed) {
      const detail = typeof parsed.detail === 'string' || Array.isArray(parsed.detail) ? (parsed.detail as string | ValidationItem[]) : JSON.stringify(parsed.detail);
      throw new ApiError(response.status, typeof parsed.code === 'string' ? parsed.code : null, detail, request);
    }
    // Not Herald's error shape: a proxy's page, or not Herald at all.
    const excerpt = raw.toString('utf8').replace(/\s+/g, ' ').trim().slice(0, 200);
    throw new ApiError(response.status, null, excerpt ? `the server answered: ${excerpt}` : null, request);
  }

  /** Sends a request and reads the JSON answer. */
  async call<T = unknown>(method: string, path: string, options: CallOptions = {}): Promise<Answer<T>> {
    const response = await this.send(method, path, options);
    const raw = await readBody(response, this.baseUrl);
    if (raw.length === 0) return { status: response.status, body: null as T, raw };
    const body = parseJson(raw);
    if (body === undefined) throw new ApiError(response.status, null, `the answer is not JSON: ${raw.toString('utf8').slice(0, 200)}`, `${method} ${path}`);
    return { status: response.status, body: body as T, raw };
  }

  get<T = unknown>(path: string, query?: Record<string, QueryValue>): Promise<Answer<T>> {
    return this.call<T>('GET', path, query ? { query } : {});
  }

  /**
   * Walks a Svix list page by page from `iterator` (or the start) until the API says it is done,
   * or after one page unless `all`.
   */
  async *pages<T = unknown>(path: string, query: Record<string, QueryValue>, { all, iterator }: { all: boolean; iterator?: string | null }): AsyncGenerator<Answer<ListPage<T>>> {
    let next = iterator ?? null;
    for (;;) {
      const page = await this.get<ListPage<T>>(path, { ...query, iterator: next });
      yield page;
      if (!all || page.body.done || !page.body.iterator || page.body.iterator === next) return;
      next = page.body.iterator;
    }
  }
}

/** A path segment: ids, uids and event type names, which the API takes in the path, escaped. */
export const segment = (value: string) => encodeURIComponent(value);

function queryString(query: Record<string, QueryValue> | undefined): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query ?? {})) {
    if (value === undefined || value === null) continue;
    if (Array.isArray(value)) for (const item of value) params.append(name, item);
    else params.append(name, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

async function readBody(response: Response, baseUrl: string): Promise<Buffer> {
  try {
    return Buffer.from(await response.arrayBuffer());
  } catch (error) {
    throw networkError(error, baseUrl);
  }
}

function parseJson(raw: Buffer): unknown {
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    return undefined;
  }
}

function networkError(error: unknown, baseUrl: string): Error {
  if (error instanceof Error && error.name === 'AbortError') return error;
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const reason = cause?.code ?? cause?.message ?? (error as Error).message;
  return new NetworkError(`cannot reach Herald at ${baseUrl} (${reason}). Is it running? Point --url or HERALD_URL at it.`);
}
