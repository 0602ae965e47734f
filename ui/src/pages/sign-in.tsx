import { useState } from 'preact/hooks';
import type { Session } from '../session.ts';

/**
 * The admin token, asked once per tab. It is checked by the first API call: a wrong one comes back
 * here with Herald's answer as the message.
 */
export function SignIn({ session }: { session: Session }) {
  const [token, setToken] = useState('');
  return (
    <main id="main" class="sign-in">
      <form
        class="card sign-in-card"
        onSubmit={(event) => {
          event.preventDefault();
          if (token.trim()) session.signIn(token.trim());
        }}
      >
        <h1>Herald</h1>
        <p class="muted">Sign in with an admin token: the one in <code>HERALD_ADMIN_TOKEN</code>, the one <code>herald serve</code> printed on its first start, or one from <code>herald token</code>.</p>
        {session.notice ? <p class="note note-error" role="alert">{session.notice}</p> : null}
        <label class="field">
          <span>Admin token</span>
          <input type="password" name="token" autoComplete="current-password" required value={token} onInput={(event) => setToken(event.currentTarget.value)} />
        </label>
        <button type="submit" class="btn btn-primary">Sign in</button>
        <p class="muted small">The token stays in this tab (session storage) and is sent only to this server, as a bearer header.</p>
      </form>
    </main>
  );
}
