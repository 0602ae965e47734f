import type { Session } from '../session.ts';
import { parseExact } from './exact-json.ts';

/** One item of a 422 answer (Svix's ValidationError). */
export interface FieldError {
  loc: string[];
  msg: string;
  type: string;
}

/** An answer other than 2xx, with Herald's `{code, detail}` body when it has one. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly fields: FieldError[];

  constructor(status: number, code: string, detail: string | FieldError[]) {
    super(typeof detail === 'string' ? detail : detail.map((item) => `${fieldName(item)}: ${item.msg}`).join('; '));
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.fields = typeof detail === 'string' ? [] : detail;
  }
}

/** `['body', 'url']` → `url`: the name the form shows. */
export const fieldName = (item: FieldError) => item.loc.filter((part) => part !== 'body').join('.');

export type Query = Record<string, string | number | boolean | null | undefined | string[]>;

export function withQuery(path: string, query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value === null || value === undefined || value === '') continue;
    for (const item of Array.isArray(value) ? value : [value]) params.append(name, String(item));
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

/**
 * The UI's one way to the API: the session's bearer token on every call, JSON both ways (numbers
 * a parse would change kept as written, exact-json.ts), an ApiError for anything but 2xx. A 401 means the token is gone (expired, revoked, mistyped), so
 * the session ends with a message the sign-in page shows.
 */
export class Api {
  private readonly session: Session;

  constructor(session: Session) {
    this.session = session;
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.session.token) headers.authorization = `Bearer ${this.session.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch {
      throw new ApiError(0, 'network', 'Herald could not be reached. Check that it is running, then try again.');
    }
    const text = await response.text();
    let parsed: unknown = null;
    if (text) {
      try {
        parsed = parseExact(text);
      } catch {
        parsed = text;
      }
    }
    if (response.ok) return parsed as T;
    const error = errorOf(response.status, parsed);
    if (response.status === 401) {
      this.session.signOut(this.session.mode.kind === 'dashboard'
        ? `Herald refused the token (${error.message}) Sign in again with a valid admin token.`
        : 'This portal link has expired or was revoked. Ask for a new link.');
    } else if (response.status === 403 && this.session.mode.kind === 'dashboard') {
      // Only a token that is not an admin's is ever refused with 403 (src/api/auth.ts): a portal
      // token pasted into the dashboard, where every page would be refused.
      this.session.signOut('That token belongs to one application\'s portal: open it with the portal link it came with. The dashboard needs an admin token.');
    }
    throw error;
  }

  get = <T>(path: string, query?: Query) => this.request<T>('GET', withQuery(path, query));
  post = <T>(path: string, body: unknown = {}) => this.request<T>('POST', path, body);
  put = <T>(path: string, body: unknown) => this.request<T>('PUT', path, body);
  patch = <T>(path: string, body: unknown) => this.request<T>('PATCH', path, body);
  delete = (path: string) => this.request<void>('DELETE', path);
}

function errorOf(status: number, body: unknown): ApiError {
  if (body && typeof body === 'object' && 'detail' in body) {
    const { code, detail } = body as { code?: string; detail: string | FieldError[] };
    if (typeof detail === 'string' || Array.isArray(detail)) return new ApiError(status, code ?? 'error', detail);
  }
  return new ApiError(status, 'error', `Herald answered ${status}${typeof body === 'string' && body ? `: ${body.slice(0, 200)}` : '.'}`);
}

/** Path segments are ids and uids chosen by users: always encoded. */
export const seg = (value: string) => encodeURIComponent(value);
