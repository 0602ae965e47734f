import { PagedTable } from '../components/paged-table.tsx';
import { useAction } from '../api/action.ts';
import { useQuery, useQueryClient } from '@tanstack/preact-query';
import { useEffect, useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { seg } from '../api/client.ts';
import { openStream } from '../api/stream.ts';
import type { Bin, BinRequest, ListResponse } from '../api/types.ts';
import { CopyButton, Field, fieldError, KeyValueEditor, pairsOf, recordOf, type Pair } from '../components/controls.tsx';
import { Confirm, Dialog } from '../components/dialog.tsx';
import { ErrorNote, Loading } from '../components/feedback.tsx';
import { ago, dateTime } from '../components/format.ts';
import { Page } from '../components/page.tsx';
import { bytes, ReceivedBody, ReceivedHeaders } from '../components/request-view.tsx';
import { useApi, useUi } from '../context.tsx';
import { DASHBOARD } from '../session.ts';

const BINS = '/api/v1/bin';
const binPath = (id: string) => `${BINS}/${seg(id)}`;
/** How many captured requests the page keeps in view. */
const SHOWN = 100;

/** Request bins: URLs that record whatever is sent to them and answer as told, for testing senders. */
export function BinsPage() {
  const { route } = useLocation();
  const [creating, setCreating] = useState(false);
  const body = (
    <PagedTable<Bin>
      queryKey={['bins']}
      path={BINS}
      empty={{ title: 'No bins yet', children: <>
        <p class="muted">A bin is a URL that records every request sent to it (method, headers, body, byte for byte) and answers as you set: point a webhook sender at it to see what it sends.</p>
        <button type="button" class="btn btn-primary" onClick={() => setCreating(true)}>Create bin</button>
      </> }}
      head={<><th scope="col">Bin</th><th scope="col">URL</th><th scope="col" class="minor">Answers</th><th scope="col" class="minor">Last request</th></>}
      row={(bin) => (
        <tr key={bin.id}>
          <td class="cell-main"><a href={`${DASHBOARD}/bins/${seg(bin.id)}`}>{bin.name ?? bin.id}</a></td>
          <td><div class="row"><code class="url small">{bin.url}</code><CopyButton text={bin.url} /></div></td>
          <td class="minor mono">{bin.response.status}</td>
          <td class="minor">{bin.lastRequestAt ? <time dateTime={bin.lastRequestAt} title={dateTime(bin.lastRequestAt)}>{ago(bin.lastRequestAt)}</time> : <span class="muted">—</span>}</td>
        </tr>
      )}
    />
  );
  return (
    <Page title="Bins" actions={<button type="button" class="btn btn-primary" onClick={() => setCreating(true)}>Create bin</button>}>
      {body}
      {creating ? <BinDialog onClose={() => setCreating(false)} onSaved={(bin) => route(`${DASHBOARD}/bins/${seg(bin.id)}`)} /> : null}
    </Page>
  );
}

/** Create a bin, or change how one answers (PATCH). */
function BinDialog({ bin, onClose, onSaved }: { bin?: Bin; onClose: () => void; onSaved: (bin: Bin) => void }) {
  const api = useApi();
  const queries = useQueryClient();
  const [name, setName] = useState(bin?.name ?? '');
  const [status, setStatus] = useState(String(bin?.response.status ?? 200));
  const [headers, setHeaders] = useState<Pair[]>(pairsOf(bin?.response.headers));
  const [body, setBody] = useState(bin?.response.body ?? '');
  const [delayMs, setDelayMs] = useState(String(bin?.response.delayMs ?? 0));
  const save = useAction({
    mutationFn: () => {
      const fields = {
        name: name.trim() || null,
        response: { status: Number(status), headers: recordOf(headers), body, delayMs: Number(delayMs) || 0 },
      };
      return bin ? api.patch<Bin>(binPath(bin.id), fields) : api.post<Bin>(BINS, fields);
    },
    onSuccess: (saved) => {
      void queries.invalidateQueries({ queryKey: ['bins'] });
      queries.setQueryData(['bin', saved.id], saved);
      onSaved(saved);
    },
  });
  return (
    <Dialog title={bin ? 'Edit the answer' : 'Create a bin'} onClose={onClose} wide>
      <form onSubmit={(event) => { event.preventDefault(); save.mutate(); }}>
        {save.isError ? <ErrorNote error={save.error} /> : null}
        <Field label="Name" hint="Optional." error={fieldError(save.error, 'name')}>
          <input name="name" value={name} onInput={(event) => setName(event.currentTarget.value)} />
        </Field>
        <div class="grid-2">
          <Field label="Response status" error={fieldError(save.error, 'response.status')}>
            <input name="status" type="number" min={200} max={599} required value={status} onInput={(event) => setStatus(event.currentTarget.value)} />
          </Field>
          <Field label="Delay (ms)" hint="How long to wait before answering." error={fieldError(save.error, 'response.delayMs')}>
            <input name="delayMs" type="number" min={0} value={delayMs} onInput={(event) => setDelayMs(event.currentTarget.value)} />
          </Field>
        </div>
        <KeyValueEditor legend="Response headers" keyLabel="Name" pairs={headers} onChange={setHeaders} />
        {fieldError(save.error, 'response.headers') ? <p class="field-error small">{fieldError(save.error, 'response.headers')}</p> : null}
        <Field label="Response body" error={fieldError(save.error, 'response.body')}>
          <textarea name="body" rows={4} value={body} onInput={(event) => setBody(event.currentTarget.value)} />
        </Field>
        <footer class="dialog-foot">
          <button type="button" class="btn" onClick={onClose}>Cancel</button>
          <button type="submit" class="btn btn-primary" disabled={save.isPending}>{bin ? 'Save' : 'Create'}</button>
        </footer>
      </form>
    </Dialog>
  );
}

/**
 * Captured requests, newest first: the latest page from the list route, then each new capture
 * from the bin's event stream as it happens.
 */
function useLiveRequests(binId: string) {
  const { api, session } = useUi();
  const [requests, setRequests] = useState<BinRequest[]>([]);
  const [state, setState] = useState<'loading' | 'open' | 'retrying' | 'closed'>('loading');
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    let stop: (() => void) | null = null;
    let cancelled = false;
    const add = (incoming: BinRequest[]) => setRequests((current) => {
      const known = new Set(current.map((request) => request.id));
      return [...incoming.filter((request) => !known.has(request.id)), ...current].sort((a, b) => b.createdAt.localeCompare(a.createdAt) || (a.id < b.id ? 1 : -1)).slice(0, SHOWN);
    });
    // The stream first, so nothing captured between the list and the stream's start is missed;
    // what both bring is shown once.
    stop = openStream(session, `${binPath(binId)}/request/stream`, {
      onEvent: (event) => {
        if (event.event !== 'request') return;
        try {
          add([JSON.parse(event.data) as BinRequest]);
        } catch {}
      },
      onState: (next) => !cancelled && setState(next),
    });
    api.get<ListResponse<BinRequest>>(`${binPath(binId)}/request`, { limit: SHOWN })
      .then((page) => !cancelled && add(page.data))
      .catch((caught) => !cancelled && setError(caught));
    return () => {
      cancelled = true;
      stop?.();
    };
  }, [binId]);
  const forget = (id: string) => setRequests((current) => current.filter((request) => request.id !== id));
  return { requests, state, error, forget };
}

export function BinPage({ binId }: { binId: string }) {
  const api = useApi();
  const { route } = useLocation();
  const queries = useQueryClient();
  const [dialog, setDialog] = useState<'edit' | 'delete' | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const bin = useQuery({ queryKey: ['bin', binId], queryFn: () => api.get<Bin>(binPath(binId)) });
  const live = useLiveRequests(binId);
  const remove = useAction({
    mutationFn: () => api.delete(binPath(binId)),
    onSuccess: () => {
      void queries.invalidateQueries({ queryKey: ['bins'] });
      route(`${DASHBOARD}/bins`);
    },
  });
  const breadcrumb = <div class="breadcrumb"><a href={`${DASHBOARD}/bins`}>Bins</a></div>;
  if (bin.isPending) return <>{breadcrumb}<Loading /></>;
  if (bin.isError) return <>{breadcrumb}<ErrorNote error={bin.error} /></>;
  const b = bin.data;
  const chosen = live.requests.find((request) => request.id === selected) ?? null;
  return (
    <section class="page">
      {breadcrumb}
      <div class="page-head">
        <div>
          <h1>{b.name ?? 'Bin'}</h1>
          <div class="sub">{b.id}</div>
        </div>
        <div class="page-actions">
          <button type="button" class="btn" onClick={() => setDialog('edit')}>Edit answer</button>
          <button type="button" class="btn btn-danger" onClick={() => setDialog('delete')}>Delete bin</button>
        </div>
      </div>
      <div class="card">
        <dl class="details">
          <dt>URL</dt><dd><div class="row"><code class="url" data-testid="bin-url">{b.url}</code><CopyButton text={b.url} /></div><small class="muted">Send anything to it, with any method and any path below it.</small></dd>
          <dt>Answers</dt><dd class="mono">{b.response.status}{b.response.delayMs ? ` after ${b.response.delayMs} ms` : ''}{Object.keys(b.response.headers).length ? ` · ${Object.entries(b.response.headers).map(([name, value]) => `${name}: ${value}`).join(', ')}` : ''}{b.response.body ? ` · ${b.response.body.slice(0, 60)}` : ''}</dd>
        </dl>
      </div>
      <div class="split">
        <section class="card" aria-label="Captured requests">
          <div class="card-head">
            <h2>Requests</h2>
            <span class="muted small live" data-stream={live.state}>{live.state === 'open' ? <><span class="live-dot" aria-hidden="true" />Live</> : live.state === 'retrying' ? 'Reconnecting…' : live.state === 'loading' ? 'Connecting…' : 'Stopped'}</span>
          </div>
          {live.error ? <ErrorNote error={live.error} /> : null}
          {live.requests.length === 0 ? (
            <div>
              <p class="muted">Nothing captured yet. Try:</p>
              <pre class="code small">{`curl -X POST ${b.url}/hello -H 'Content-Type: application/json' -d '{"hello":"world"}'`}</pre>
            </div>
          ) : (
            <ul class="request-list">
              {live.requests.map((request) => (
                <li key={request.id} data-request-id={request.id}>
                  <button type="button" class="request-item" aria-pressed={selected === request.id} onClick={() => setSelected(request.id)}>
                    <span class="row">
                      <span class="badge">{request.method}</span>
                      <span class="mono url">{request.path || '/'}{request.query !== null ? `?${request.query}` : ''}</span>
                      <span class="muted small">{bytes(request.size)}</span>
                      <time class="muted small" dateTime={request.createdAt} title={dateTime(request.createdAt)}>{ago(request.createdAt)}</time>
                    </span>
                  </button>
                </li>
              ))}
            </ul>
          )}
        </section>
        {chosen ? <BinRequestDetail bin={b} request={chosen} onClose={() => setSelected(null)} onDeleted={() => { live.forget(chosen.id); setSelected(null); }} /> : null}
      </div>
      {dialog === 'edit' ? <BinDialog bin={b} onClose={() => setDialog(null)} onSaved={() => setDialog(null)} /> : null}
      {dialog === 'delete' ? (
        <Confirm title="Delete this bin?" confirm="Delete bin" busy={remove.isPending} error={remove.error} onConfirm={() => remove.mutate()} onClose={() => setDialog(null)}>
          <p>Its URL stops capturing at once, and every request it holds is deleted.</p>
        </Confirm>
      ) : null}
    </section>
  );
}

function BinRequestDetail({ bin, request, onClose, onDeleted }: { bin: Bin; request: BinRequest; onClose: () => void; onDeleted: () => void }) {
  const api = useApi();
  const [reveal, setReveal] = useState(false);
  const [view, setView] = useState<'text' | 'base64' | 'hex'>('text');
  const revealed = useQuery({
    queryKey: ['bin-request', bin.id, request.id, 'revealed'],
    queryFn: () => api.get<BinRequest>(`${binPath(bin.id)}/request/${seg(request.id)}`, { reveal: true }),
    enabled: reveal,
  });
  const remove = useAction({
    mutationFn: () => api.delete(`${binPath(bin.id)}/request/${seg(request.id)}`),
    onSuccess: onDeleted,
  });
  const shown = reveal && revealed.data ? revealed.data : request;
  const anyMasked = request.headers.some((header) => header.masked);
  return (
    <section class="card request-detail" aria-label="Request">
      <div class="card-head">
        <h2>Request</h2>
        <div class="page-actions">
          <button type="button" class="btn btn-small btn-danger" disabled={remove.isPending} onClick={() => remove.mutate()}>Delete request</button>
          <button type="button" class="btn btn-small btn-ghost" aria-label="Close the request" onClick={onClose}>×</button>
        </div>
      </div>
      {remove.isError ? <ErrorNote error={remove.error} /> : null}
      <dl class="details">
        <dt>Method</dt><dd class="mono" data-testid="method">{shown.method}</dd>
        <dt>Path</dt><dd class="mono url" data-testid="path">{shown.path || '/'}</dd>
        <dt>Query</dt><dd class="mono url" data-testid="query">{shown.query ?? <span class="muted">—</span>}</dd>
        <dt>Size</dt><dd data-testid="size">{bytes(shown.size)} ({shown.size} bytes)</dd>
        <dt>From</dt><dd class="mono">{shown.ip ?? <span class="muted">—</span>}</dd>
        <dt>Time</dt><dd>{dateTime(shown.createdAt)}</dd>
        <dt>Answered</dt><dd class="mono">{shown.responseStatusCode ?? 'no answer (held open)'}{shown.rule && shown.rule !== 'configured' ? ` · rule ${shown.rule}` : ''}</dd>
      </dl>
      <div class="row section-row">
        <h3>Headers</h3>
        {anyMasked ? <label class="check small"><input type="checkbox" checked={reveal} onChange={(event) => setReveal(event.currentTarget.checked)} /> Reveal masked headers</label> : null}
      </div>
      {revealed.isError ? <ErrorNote error={revealed.error} /> : null}
      <ReceivedHeaders headers={shown.headers} />
      <h3>Body</h3>
      <ReceivedBody text={shown.body} base64={shown.bodyBase64} view={view} onView={setView} />
    </section>
  );
}
