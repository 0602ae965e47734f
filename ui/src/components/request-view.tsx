import type { ShownHeader } from '../api/types.ts';
import { CopyButton } from './controls.tsx';

/** Headers as received, in order; a masked one is marked, with no value until revealed. */
export function ReceivedHeaders({ headers }: { headers: ShownHeader[] }) {
  if (headers.length === 0) return <p class="muted small">No headers.</p>;
  return (
    <div class="scroll-x">
      <table class="headers" aria-label="Headers">
        <tbody>
          {headers.map((header, index) => (
            <tr key={index} data-header={header.name}>
              <th scope="row" class="mono">{header.name}</th>
              <td class="mono">
                {header.masked ? <><span class="muted">••••••</span> <span class="badge">masked</span></> : header.value}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

type BodyView = 'text' | 'base64' | 'hex';

/** A body as text (when it is UTF-8), base64 and hex, each copyable. */
export function ReceivedBody({ text, base64, view, onView }: { text: string | null; base64: string | null; view: BodyView; onView: (view: BodyView) => void }) {
  if (base64 === null) return <p class="muted small">The body is no longer kept.</p>;
  if (base64 === '') return <p class="muted small">Empty body.</p>;
  const shown = view === 'text' && text !== null ? text : view === 'hex' ? hexOf(base64) : base64;
  const chosen = view === 'text' && text === null ? 'base64' : view;
  return (
    <div class="body-view">
      <div class="row">
        <div class="range" role="group" aria-label="Body as">
          {(['text', 'base64', 'hex'] as const).map((kind) => (
            <button key={kind} type="button" class="btn btn-small" aria-pressed={chosen === kind} disabled={kind === 'text' && text === null} onClick={() => onView(kind)}>{kind === 'text' ? 'Text' : kind === 'base64' ? 'Base64' : 'Hex'}</button>
          ))}
        </div>
        {text === null ? <span class="muted small">Not UTF-8 text.</span> : null}
        <CopyButton text={shown} label="Copy body" />
      </div>
      <pre class="code small" data-testid={`body-${chosen}`}>{shown}</pre>
    </div>
  );
}

export function hexOf(base64: string): string {
  const bytes = Uint8Array.from(atob(base64), (char) => char.charCodeAt(0));
  const lines: string[] = [];
  for (let offset = 0; offset < bytes.length; offset += 16) {
    lines.push([...bytes.subarray(offset, offset + 16)].map((byte) => byte.toString(16).padStart(2, '0')).join(' '));
  }
  return lines.join('\n');
}

export function bytes(size: number): string {
  if (size < 1024) return `${size} B`;
  if (size < 1024 * 1024) return `${(size / 1024).toFixed(1)} KiB`;
  return `${(size / 1024 / 1024).toFixed(1)} MiB`;
}
