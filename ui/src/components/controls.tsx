import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { type ApiError, fieldName } from '../api/client.ts';

/** A labelled input; `error` comes from a 422's per-field detail. */
export function Field({ label, hint, error, children }: { label: string; hint?: ComponentChildren; error?: string | null; children: ComponentChildren }) {
  return (
    <label class="field">
      <span>{label}</span>
      {children}
      {hint ? <small class="hint">{hint}</small> : null}
      {error ? <small class="field-error">{error}</small> : null}
    </label>
  );
}

/** The message a 422 gave for one field (`url`, `uid`, …), if any. */
export function fieldError(error: unknown, name: string): string | null {
  const fields = (error as ApiError | null)?.fields ?? [];
  return fields.find((item) => fieldName(item) === name || fieldName(item).startsWith(`${name}.`))?.msg ?? null;
}

export function CopyButton({ text, label = 'Copy' }: { text: string; label?: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <button
      type="button"
      class="btn btn-small"
      onClick={async () => {
        try {
          await navigator.clipboard.writeText(text);
          setCopied(true);
          setTimeout(() => setCopied(false), 1500);
        } catch {
          // Clipboard access needs a secure context; select the text for the user instead.
          window.prompt('Copy this:', text);
        }
      }}
    >
      {copied ? 'Copied' : label}
    </button>
  );
}

export interface Pair {
  key: string;
  value: string;
}

export const pairsOf = (record: Record<string, string> | null | undefined): Pair[] =>
  Object.entries(record ?? {}).map(([key, value]) => ({ key, value }));

export const recordOf = (pairs: Pair[]): Record<string, string> =>
  Object.fromEntries(pairs.filter((pair) => pair.key.trim()).map((pair) => [pair.key.trim(), pair.value]));

/** Key/value rows (metadata, custom headers), with a row added and removed by buttons. */
export function KeyValueEditor({ legend, pairs, onChange, keyLabel = 'Key', valueLabel = 'Value' }: {
  legend: string;
  pairs: Pair[];
  onChange: (pairs: Pair[]) => void;
  keyLabel?: string;
  valueLabel?: string;
}) {
  const set = (index: number, change: Partial<Pair>) => onChange(pairs.map((pair, i) => (i === index ? { ...pair, ...change } : pair)));
  return (
    <fieldset class="field kv">
      <legend>{legend}</legend>
      {pairs.map((pair, index) => (
        <div class="kv-row" key={index}>
          <input aria-label={`${legend} ${keyLabel.toLowerCase()} ${index + 1}`} placeholder={keyLabel} value={pair.key} onInput={(event) => set(index, { key: event.currentTarget.value })} />
          <input aria-label={`${legend} ${valueLabel.toLowerCase()} ${index + 1}`} placeholder={valueLabel} value={pair.value} onInput={(event) => set(index, { value: event.currentTarget.value })} />
          <button type="button" class="btn btn-small" aria-label={`Remove ${legend.toLowerCase()} row ${index + 1}`} onClick={() => onChange(pairs.filter((_, i) => i !== index))}>Remove</button>
        </div>
      ))}
      <div>
        <button type="button" class="btn btn-small" onClick={() => onChange([...pairs, { key: '', value: '' }])}>Add {legend.toLowerCase().replace(/s$/, '')}</button>
      </div>
    </fieldset>
  );
}

/**
 * Svix's cursor paging: the page is named by the iterator it starts after; "Previous" goes back
 * through the iterators already seen, so it costs no request of its own.
 */
export function usePager() {
  const [stack, setStack] = useState<Array<string | null>>([null]);
  const iterator = stack[stack.length - 1] ?? null;
  return {
    iterator,
    page: stack.length,
    next: (next: string | null) => next && setStack([...stack, next]),
    previous: () => setStack(stack.length > 1 ? stack.slice(0, -1) : stack),
    reset: () => setStack([null]),
  };
}

export function Pager({ pager, done, nextIterator }: { pager: ReturnType<typeof usePager>; done: boolean; nextIterator: string | null }) {
  if (pager.page === 1 && done) return null;
  return (
    <nav class="pager" aria-label="Pages">
      <button type="button" class="btn" disabled={pager.page === 1} onClick={pager.previous}>Previous</button>
      <span class="muted">Page {pager.page}</span>
      <button type="button" class="btn" disabled={done || !nextIterator} onClick={() => pager.next(nextIterator)}>Next</button>
    </nav>
  );
}
