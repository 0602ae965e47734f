import type { ComponentChildren } from 'preact';
import { ApiError } from '../api/client.ts';

export function ErrorNote({ error }: { error: unknown }) {
  const message = error instanceof ApiError
    ? error.status === 403 ? `Not allowed: ${error.message}` : error.message
    : error instanceof Error ? error.message : String(error);
  return <p class="note note-error" role="alert">{message}</p>;
}

export function Loading({ what = 'Loading' }: { what?: string }) {
  return <p class="muted" aria-live="polite">{what}…</p>;
}

/** An empty list that tells the next step. */
export function Empty({ title, children }: { title: string; children?: ComponentChildren }) {
  return (
    <div class="empty">
      <h3>{title}</h3>
      {children}
    </div>
  );
}

/** A page another part of the work will fill. */
export function Todo({ what }: { what: string }) {
  return (
    <div class="empty" data-todo={what}>
      <h3>{what}</h3>
      <p class="muted">This view is not built yet.</p>
    </div>
  );
}
