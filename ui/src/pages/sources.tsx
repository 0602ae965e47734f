import { PagedTable } from '../components/paged-table.tsx';
import { useAction } from '../api/action.ts';
import { useQuery, useQueryClient } from '@tanstack/preact-query';
import { useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { seg } from '../api/client.ts';
import type { Endpoint, ListResponse, Source, SourceRequest, SourceRequestDetail } from '../api/types.ts';
import { CopyButton, Field, fieldError, Pager, usePager } from '../components/controls.tsx';
import { Confirm, Dialog } from '../components/dialog.tsx';
import { ErrorNote, Loading } from '../components/feedback.tsx';
import { ago, dateTime } from '../components/format.ts';
import { Page } from '../components/page.tsx';
import { bytes, ReceivedBody, ReceivedHeaders } from '../components/request-view.tsx';
import { useApi } from '../context.tsx';
import { DASHBOARD } from '../session.ts';

const SOURCES = '/ingest/api/v1/source';
const sourcePath = (id: string) => `${SOURCES}/${seg(id)}`;
const requestsPath = (id: string) => `/api/v1/source/${seg(id)}/request`;
const LIVE_MS = 2_000;

interface ConfigField {
  name: string;
  label: string;
  required?: boolean;
  hint?: string;
  choices?: string[];
  secret?: boolean;
  number?: boolean;
}

const SECRET: ConfigField = { name: 'secret', label: 'Signing secret', required: true, secret: true, hint: 'The secret the provider signs its requests with.' };
/**
 * What each source type needs to verify its requests (as src/inbound/source-config.ts checks it):
 * nothing for generic-webhook, Discord's public key, the whole scheme for hmac, else the secret.
 */
const TYPES: Record<string, ConfigField[]> = {
  'generic-webhook': [],
  stripe: [SECRET], github: [SECRET], shopify: [SECRET], slack: [SECRET], svix: [SECRET], 'standard-webhooks': [SECRET],
  clerk: [SECRET], twilio: [SECRET], gitlab: [SECRET], paddle: [SECRET], linear: [SECRET], zoom: [SECRET],
  discord: [{ name: 'publicKey', label: 'Public key', required: true, hint: "The Discord application's public key, 64 hex characters." }],
  hmac: [
    SECRET,
    { name: 'header', label: 'Signature header', required: true, hint: 'e.g. x-signature' },
    { name: 'algorithm', label: 'Algorithm', choices: ['sha256', 'sha1', 'sha512'] },
    { name: 'encoding', label: 'Encoding', choices: ['hex', 'base64'] },
    { name: 'secretEncoding', label: 'Secret encoding', choices: ['raw', 'base64'] },
    { name: 'prefix', label: 'Prefix', hint: 'Before the signature in the header, e.g. sha256=' },
    { name: 'signedContent', label: 'Signed content', hint: 'What is signed, if not the body alone.' },
    { name: 'timestampHeader', label: 'Timestamp header' },
    { name: 'idHeader', label: 'Id header' },
    { name: 'toleranceSeconds', label: 'Tolerance (seconds)', number: true },
  ],
};

/** Inbound sources: where providers send their webhooks, each verified as its type says. */
export function SourcesPage() {
  const { route } = useLocation();
  const [creating, setCreating] = useState(false);
  const body = (
    <PagedTable<Source>
      queryKey={['sources']}
      path={SOURCES}
      empty={{ title: 'No sources yet', children: <>
        <p class="muted">A source takes webhooks from a provider (Stripe, GitHub, Shopify, …) at its own ingest URL, checks their signatures, and forwards them to your endpoints.</p>
        <button type="button" class="btn btn-primary" onClick={() => setCreating(true)}>Create source</button>
      </> }}
      head={<><th scope="col">Name</th><th scope="col">Type</th><th scope="col">Ingest URL</th></>}
      row={(source) => (
        <tr key={source.id}>
          <td class="cell-main"><a href={`${DASHBOARD}/sources/${seg(source.id)}`}>{source.name}</a>{source.uid ? <div class="muted small mono">{source.uid}</div> : null}</td>
          <td><span class="chip">{source.type}</span></td>
          <td><div class="row"><code class="url small">{source.ingestUrl}</code><CopyButton text={source.ingestUrl} /></div></td>
        </tr>
      )}
    />
  );
  return (
    <Page title="Sources" actions={<button type="button" class="btn btn-primary" onClick={() => setCreating(true)}>Create source</button>}>
      {body}
      {creating ? <SourceDialog onClose={() => setCreating(false)} onSaved={(source) => route(`${DASHBOARD}/sources/${seg(source.id)}`)} /> : null}
    </Page>
  );
}

function SourceDialog({ onClose, onSaved }: { onClose: () => void; onSaved: (source: Source) => void }) {
  const api = useApi();
  const queries = useQueryClient();
  const [name, setName] = useState('');
  const [uid, setUid] = useState('');
  const [type, setType] = useState('github');
  const [config, setConfig] = useState<Record<string, string>>({});
  const fields = TYPES[type] ?? [];
  const save = useAction({
    mutationFn: () => {
      const values: Record<string, unknown> = {};
      for (const field of fields) {
        const value = config[field.name]?.trim();
        if (value) values[field.name] = field.number ? Number(value) : value;
      }
      return api.post<Source>(SOURCES, { name, uid: uid.trim() || null, type, config: values });
    },
    onSuccess: (saved) => {
      void queries.invalidateQueries({ queryKey: ['sources'] });
      onSaved(saved);
    },
  });
  const known = ['name', 'uid', 'type', ...fields.map((field) => `config.${field.name}`)];
  return (
    <Dialog title="Create a source" onClose={onClose} wide>
      <form onSubmit={(event) => { event.preventDefault(); save.mutate(); }}>
        {save.isError && !known.some((field) => fieldError(save.error, field)) ? <ErrorNote error={save.error} /> : null}
        <div class="grid-2">
          <Field label="Name" error={fieldError(save.error, 'name')}>
            <input name="name" required value={name} onInput={(event) => setName(event.currentTarget.value)} />
          </Field>
          <Field label="UID" hint="Optional." error={fieldError(save.error, 'uid')}>
            <input name="uid" value={uid} onInput={(event) => setUid(event.currentTarget.value)} />
          </Field>
        </div>
        <Field label="Type" hint="Which provider sends to it: how its signatures are checked." error={fieldError(save.error, 'type')}>
          <select name="type" value={type} onChange={(event) => setType(event.currentTarget.value)}>
            {Object.keys(TYPES).map((name) => <option key={name} value={name}>{name}</option>)}
          </select>
        </Field>
        {fields.length === 0 ? <p class="muted small">This type checks no signature: every request is accepted, marked unverified.</p> : null}
        <div class="grid-2">
          {fields.map((field) => (
            <Field key={field.name} label={field.label} hint={field.hint} error={fieldError(save.error, `config.${field.name}`)}>
              {field.choices ? (
                <select name={field.name} value={config[field.name] ?? ''} onChange={(event) => setConfig({ ...config, [field.name]: event.currentTarget.value })}>
                  <option value="">Default ({field.choices[0]})</option>
                  {field.choices.map((choice) => <option key={choice} value={choice}>{choice}</option>)}
                </select>
              ) : (
                <input
                  name={field.name}
                  type={field.secret ? 'password' : field.number ? 'number' : 'text'}
                  autoComplete="off"
                  required={field.required}
                  value={config[field.name] ?? ''}
                  onInput={(event) => setConfig({ ...config, [field.name]: event.currentTarget.value })}
                />
              )}
            </Field>
          ))}
        </div>
        <footer class="dialog-foot">
          <button type="button" class="btn" onClick={onClose}>Cancel</button>
          <button type="submit" class="btn btn-primary" disabled={save.isPending}>Create</button>
        </footer>
      </form>
    </Dialog>
  );
}

/** One source: its ingest URL, the requests it received (live), one request's detail, its destinations. */
export function SourcePage({ sourceId }: { sourceId: string }) {
  const api = useApi();
  const { route } = useLocation();
  const [deleting, setDeleting] = useState(false);
  const [selected, setSelected] = useState<string | null>(null);
  const source = useQuery({ queryKey: ['source', sourceId], queryFn: () => api.get<Source>(sourcePath(sourceId)) });
  const queries = useQueryClient();
  const remove = useAction({
    mutationFn: () => api.delete(sourcePath(sourceId)),
    onSuccess: () => {
      void queries.invalidateQueries({ queryKey: ['sources'] });
      route(`${DASHBOARD}/sources`);
    },
  });
  const breadcrumb = <div class="breadcrumb"><a href={`${DASHBOARD}/sources`}>Sources</a></div>;
  if (source.isPending) return <>{breadcrumb}<Loading /></>;
  if (source.isError) return <>{breadcrumb}<ErrorNote error={source.error} /></>;
  const s = source.data;
  return (
    <section class="page">
      {breadcrumb}
      <div class="page-head">
        <div>
          <h1>{s.name}</h1>
          <div class="sub">{s.uid ? `${s.uid} · ` : ''}{s.id}</div>
        </div>
        <div class="page-actions"><button type="button" class="btn btn-danger" onClick={() => setDeleting(true)}>Delete</button></div>
      </div>
      <div class="card">
        <dl class="details">
          <dt>Type</dt><dd><span class="chip">{s.type}</span></dd>
          <dt>Ingest URL</dt><dd><div class="row"><code class="url" data-testid="ingest-url">{s.ingestUrl}</code><CopyButton text={s.ingestUrl} /></div><small class="muted">Give this URL to the provider. Its last part is a secret.</small></dd>
          {Object.entries(s.config).map(([key, value]) => <><dt class="mono">{key}</dt><dd class="mono">{typeof value === 'string' ? value : JSON.stringify(value)}</dd></>)}
        </dl>
      </div>
      <div class="split">
        <ReceivedRequests sourceId={s.id} selected={selected} onSelect={setSelected} />
        {selected ? <RequestDetail sourceId={s.id} requestId={selected} onClose={() => setSelected(null)} /> : null}
      </div>
      <Destinations sourceId={s.id} />
      {deleting ? (
        <Confirm title={`Delete ${s.name}?`} confirm="Delete source" busy={remove.isPending} error={remove.error} onConfirm={() => remove.mutate()} onClose={() => setDeleting(false)}>
          <p>Its ingest URL stops taking requests at once, and its received requests and destinations go with it.</p>
        </Confirm>
      ) : null}
    </section>
  );
}

function ReceivedRequests({ sourceId, selected, onSelect }: { sourceId: string; selected: string | null; onSelect: (id: string) => void }) {
  const api = useApi();
  const pager = usePager();
  const list = useQuery({
    queryKey: ['source-requests', sourceId, pager.iterator],
    queryFn: () => api.get<ListResponse<SourceRequest>>(requestsPath(sourceId), { limit: 50, iterator: pager.iterator }),
    placeholderData: (previous) => previous,
    refetchInterval: pager.page === 1 ? LIVE_MS : false,
    staleTime: 0,
  });
  return (
    <section class="card" aria-label="Received requests">
      <h2>Received requests</h2>
      {list.isPending ? <Loading /> : list.isError ? <ErrorNote error={list.error} /> : list.data.data.length === 0 && pager.page === 1 ? (
        <p class="muted">Nothing received yet. Requests sent to the ingest URL show up here as they arrive, verified or rejected.</p>
      ) : (
        <>
          <ul class="request-list">
            {list.data.data.map((request) => (
              <li key={request.id} data-request-id={request.id}>
                <button type="button" class="request-item" aria-pressed={selected === request.id} onClick={() => onSelect(request.id)}>
                  <span class="row">
                    <VerifiedBadge verified={request.verified} />
                    <span class="mono">{request.method ?? 'POST'}</span>
                    <span class="mono">{request.eventType}</span>
                    {request.duplicateOf ? <span class="badge">duplicate</span> : null}
                    <time class="muted small" dateTime={request.receivedAt} title={dateTime(request.receivedAt)}>{ago(request.receivedAt)}</time>
                  </span>
                  {request.diagnosis ? <span class="small diagnosis">{request.diagnosis}</span> : null}
                </button>
              </li>
            ))}
          </ul>
          <Pager pager={pager} done={list.data.done} nextIterator={list.data.iterator} />
        </>
      )}
    </section>
  );
}

function VerifiedBadge({ verified }: { verified: boolean | null }) {
  if (verified === null) return <span class="badge" title="This source's type checks no signature">unverified</span>;
  return verified ? <span class="badge badge-ok">verified</span> : <span class="badge badge-bad">rejected</span>;
}

function RequestDetail({ sourceId, requestId, onClose }: { sourceId: string; requestId: string; onClose: () => void }) {
  const api = useApi();
  const [reveal, setReveal] = useState(false);
  const [view, setView] = useState<'text' | 'base64' | 'hex'>('text');
  const detail = useQuery({
    queryKey: ['source-request', sourceId, requestId, reveal],
    queryFn: () => api.get<SourceRequestDetail>(`${requestsPath(sourceId)}/${seg(requestId)}`, { reveal: reveal || undefined }),
    placeholderData: (previous) => (previous?.id === requestId ? previous : undefined),
  });
  return (
    <section class="card request-detail" aria-label="Request">
      <div class="card-head">
        <h2>Request</h2>
        <button type="button" class="btn btn-small btn-ghost" aria-label="Close the request" onClick={onClose}>×</button>
      </div>
      {detail.isPending ? <Loading /> : detail.isError ? <ErrorNote error={detail.error} /> : (
        <>
          <dl class="details">
            <dt>Received</dt><dd>{dateTime(detail.data.receivedAt)}</dd>
            <dt>Request</dt><dd class="mono url">{detail.data.method} {detail.data.url}</dd>
            <dt>Verdict</dt><dd><VerifiedBadge verified={detail.data.verified} /> {detail.data.diagnosis ?? ''}</dd>
            <dt>Event</dt><dd class="mono">{detail.data.eventType}{detail.data.eventId ? ` · ${detail.data.eventId}` : ''}</dd>
            <dt>Size</dt><dd>{bytes(detail.data.size)}</dd>
          </dl>
          <div class="row section-row">
            <h3>Headers</h3>
            <label class="check small"><input type="checkbox" checked={reveal} onChange={(event) => setReveal(event.currentTarget.checked)} /> Reveal masked headers</label>
          </div>
          <ReceivedHeaders headers={detail.data.headers} />
          <h3>Body</h3>
          <ReceivedBody text={detail.data.body} base64={detail.data.bodyBase64} view={view} onView={setView} />
        </>
      )}
    </section>
  );
}

/** Where the source's requests go: endpoints, as an application's. */
function Destinations({ sourceId }: { sourceId: string }) {
  const api = useApi();
  const queries = useQueryClient();
  const [url, setUrl] = useState('');
  const [removing, setRemoving] = useState<Endpoint | null>(null);
  const path = `${sourcePath(sourceId)}/endpoint`;
  const list = useQuery({ queryKey: ['source-endpoints', sourceId], queryFn: () => api.get<ListResponse<Endpoint>>(path, { limit: 250 }) });
  const add = useAction({
    mutationFn: () => api.post<Endpoint>(path, { url: url.trim() }),
    onSuccess: () => {
      setUrl('');
      void queries.invalidateQueries({ queryKey: ['source-endpoints', sourceId] });
    },
  });
  const remove = useAction({
    mutationFn: (endpoint: Endpoint) => api.delete(`${path}/${seg(endpoint.id)}`),
    onSuccess: () => {
      setRemoving(null);
      void queries.invalidateQueries({ queryKey: ['source-endpoints', sourceId] });
    },
  });
  return (
    <section class="card" aria-label="Destinations">
      <h2>Destinations</h2>
      <p class="muted small">Every verified request is forwarded to these URLs, signed with each one's own secret.</p>
      {list.isPending ? <Loading /> : list.isError ? <ErrorNote error={list.error} /> : list.data.data.length === 0 ? (
        <p class="muted">No destination yet: requests are kept here, and sent nowhere.</p>
      ) : (
        <ul class="plain-list">
          {list.data.data.map((endpoint) => (
            <li key={endpoint.id} class="row">
              <code class="url">{endpoint.url}</code>
              {endpoint.disabled ? <span class="badge badge-bad">disabled</span> : null}
              <button type="button" class="btn btn-small" aria-label={`Remove ${endpoint.url}`} onClick={() => setRemoving(endpoint)}>Remove</button>
            </li>
          ))}
        </ul>
      )}
      <form class="toolbar" onSubmit={(event) => { event.preventDefault(); add.mutate(); }}>
        <label class="visually-hidden" for="destination-url">Destination URL</label>
        <input id="destination-url" type="url" required placeholder="https://example.com/webhooks" value={url} onInput={(event) => setUrl(event.currentTarget.value)} />
        <button type="submit" class="btn" disabled={add.isPending}>Add destination</button>
      </form>
      {add.isError ? <ErrorNote error={add.error} /> : null}
      {removing ? (
        <Confirm title="Remove this destination?" confirm="Remove" busy={remove.isPending} error={remove.error} onConfirm={() => remove.mutate(removing)} onClose={() => setRemoving(null)}>
          <p>Requests stop going to <strong class="url">{removing.url}</strong>.</p>
        </Confirm>
      ) : null}
    </section>
  );
}
