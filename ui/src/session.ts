/**
 * Who the UI acts for. The dashboard holds the admin token; a portal page holds one application's
 * portal token. Tokens live in sessionStorage (gone with the tab), are sent as a bearer header and
 * never as a cookie, so there is no CSRF surface. A token in the URL's fragment (#token=...) never
 * reaches a server log; it is moved to storage and removed from the address bar at once.
 */

export type Mode = { kind: 'dashboard' } | { kind: 'portal'; appId: string };

export const DASHBOARD = '/dashboard';
export const PORTAL = '/app-portal';

export function modeOf(pathname: string): Mode {
  const portal = pathname.match(/^\/app-portal\/([^/]+)/);
  return portal ? { kind: 'portal', appId: decodeURIComponent(portal[1]!) } : { kind: 'dashboard' };
}

const storageKey = (mode: Mode) => (mode.kind === 'dashboard' ? 'herald.token' : `herald.portal.${mode.appId}`);

interface State {
  token: string | null;
  /** Why the user was sent back to sign in (a refused token), shown on the form. */
  notice: string | null;
}

type Listener = () => void;

export class Session {
  readonly mode: Mode;
  private state: State;
  private readonly listeners = new Set<Listener>();

  constructor(mode: Mode) {
    this.mode = mode;
    this.state = { token: readStorage(storageKey(mode)), notice: null };
  }

  get token() {
    return this.state.token;
  }

  get notice() {
    return this.state.notice;
  }

  /** Takes `#token=...` from the address bar, if there, and leaves the rest of the URL as it was. */
  adoptFragment(): void {
    const match = location.hash.match(/^#(?:.*&)?token=([^&]+)/);
    if (!match) return;
    history.replaceState(history.state, '', location.pathname + location.search);
    this.signIn(decodeURIComponent(match[1]!));
  }

  /**
   * Adopts a token that arrives later in the page's life: a link with `#token=...` opened in the
   * same tab, on the same path (after signing out, on the sign-in form, on a portal page whose
   * link expired), changes only the fragment, so the page is not loaded again. Returns the undo.
   */
  watchFragment(): () => void {
    const adopt = () => this.adoptFragment();
    window.addEventListener('hashchange', adopt);
    return () => window.removeEventListener('hashchange', adopt);
  }

  signIn(token: string): void {
    writeStorage(storageKey(this.mode), token);
    this.set({ token, notice: null });
  }

  signOut(notice: string | null = null): void {
    removeStorage(storageKey(this.mode));
    this.set({ token: null, notice });
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private set(state: State) {
    this.state = state;
    for (const listener of this.listeners) listener();
  }
}

// Storage can be switched off (private modes, sandboxed iframes): the token then lasts the page.
function readStorage(key: string): string | null {
  try {
    return sessionStorage.getItem(key);
  } catch {
    return null;
  }
}

function writeStorage(key: string, value: string) {
  try {
    sessionStorage.setItem(key, value);
  } catch {}
}

function removeStorage(key: string) {
  try {
    sessionStorage.removeItem(key);
  } catch {}
}
