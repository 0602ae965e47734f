import { PagedTable } from '../components/paged-table.tsx';
import { useAction } from '../api/action.ts';
import { type QueryClient, useQuery, useQueryClient } from '@tanstack/preact-query';
import { useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { type ApiError, seg } from '../api/client.ts';
import type { Endpoint } from '../api/types.ts';
import { Field, fieldError, KeyValueEditor, pairsOf, recordOf, type Pair } from '../components/controls.tsx';
import { Dialog } from '../components/dialog.tsx';
import { ErrorNote, Loading } from '../components/feedback.tsx';
import { percent } from '../components/format.ts';
import { useAbilities, useApi, useAppScope } from '../context.tsx';
import { useEventTypes } from './event-catalogue.tsx';

const PAGE_SIZE = 50;

export const endpointsPath = (appId: string) => `/api/v1/app/${seg(appId)}/endpoint`;
export const endpointPath = (appId: string, endpointId: string) => `${endpointsPath(appId)}/${seg(endpointId)}`;

/**
 * An endpoint as the API answered a change: its page is read under the id or the uid its address
 * names (['endpoint', app, idOrUid]), so it is set under both, and every other read of the
 * application's endpoints (the list, a key this one does not know) is asked again.
 */
export function endpointSaved(queries: QueryClient, appId: string, saved: Endpoint): void {
  for (const key of [saved.id, saved.uid]) if (key) queries.setQueryData(['endpoint', appId, key], saved);
  void queries.invalidateQueries({ queryKey: ['endpoint', appId] });
  void queries.invalidateQueries({ queryKey: ['endpoints', appId] });
  // Its delivery card shows the rate limit and state the edit may have changed.
  void queries.invalidateQueries({ queryKey: ['endpoint-health', appId, saved.id] });
}

/** An application's endpoints: where they point, whether they are on, what they take, how they do. */
export function EndpointsTab() {
  const scope = useAppScope();
  const abilities = useAbilities();
  const { route } = useLocation();
  const [creating, setCreating] = useState(false);
  const canManage = abilities.can('ManageEndpoint');
  const create = canManage ? <button type="button" class="btn btn-primary" onClick={() => setCreating(true)}>Add endpoint</button> : null;
  const body = (
    <PagedTable<Endpoint>
      queryKey={['endpoints', scope.appId]}
      path={endpointsPath(scope.appId)}
      params={{ with_stats: true, limit: PAGE_SIZE }}
      empty={{ title: 'No endpoints yet', children: <><p class="muted">An endpoint is a URL that receives this application's webhooks, signed.</p>{create}</> }}
      toolbar={<div class="toolbar"><span class="muted">Success rate over the last 24 hours.</span><span class="page-actions">{create}</span></div>}
      head={<>
        <th scope="col">URL</th>
        <th scope="col">State</th>
        <th scope="col" class="minor">Filters</th>
        <th scope="col">Success (24 h)</th>
      </>}
      row={(endpoint) => (
        <tr key={endpoint.id}>
          <td class="cell-main url">
            <a href={`${scope.base}/endpoints/${seg(endpoint.id)}`}>{endpoint.url}</a>
            {endpoint.description ? <div class="muted small">{endpoint.description}</div> : null}
          </td>
          <td><EndpointState endpoint={endpoint} /></td>
          <td class="minor"><Filters endpoint={endpoint} /></td>
          <td><SuccessRate endpoint={endpoint} /></td>
        </tr>
      )}
    />
  );
  return (
    <>
      {body}
      {creating ? <EndpointDialog onClose={() => setCreating(false)} onSaved={(saved) => route(`${scope.base}/endpoints/${seg(saved.id)}`)} /> : null}
    </>
  );
}

export function EndpointState({ endpoint }: { endpoint: Endpoint }) {
  if (!endpoint.disabled) return <span class="badge badge-ok">Enabled</span>;
  return (
    <span>
      <span class="badge badge-bad">Disabled</span>
      {endpoint.disabledReason ? <div class="muted small">{endpoint.disabledReason}</div> : null}
    </span>
  );
}

export function Filters({ endpoint }: { endpoint: Endpoint }) {
  const types = endpoint.eventTypes ?? [];
  const channels = endpoint.channels ?? [];
  if (types.length === 0 && channels.length === 0 && !endpoint.filter) return <span class="muted">All events</span>;
  return (
    <div class="chips">
      {types.map((name) => <span class="chip" key={`t-${name}`}>{name}</span>)}
      {channels.map((name) => <span class="chip" key={`c-${name}`} title="channel">#{name}</span>)}
      {endpoint.filter ? <span class="chip" title={JSON.stringify(endpoint.filter)}>payload filter</span> : null}
    </div>
  );
}

function SuccessRate({ endpoint }: { endpoint: Endpoint }) {
  const stats = endpoint.stats;
  if (!stats) return <span class="muted" title="No statistics from this server">—</span>;
  const total = stats.success + stats.failure;
  if (total === 0) return <span class="muted" title="No attempts in the last 24 hours">—</span>;
  const rate = stats.success / total;
  return <span class={`badge ${rate >= 0.99 ? 'badge-ok' : rate >= 0.9 ? 'badge-warn' : 'badge-bad'}`} title={`${stats.success} succeeded, ${stats.failure} failed`}>{percent(stats.success, total)}</span>;
}

/** The payload filter as typed: empty is none; otherwise a JSON object, or why not. */
function parseFilter(text: string): { value: Record<string, unknown> | null } | { error: string } {
  if (!text.trim()) return { value: null };
  try {
    const value: unknown = JSON.parse(text);
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return { error: 'Must be a JSON object, such as {"payload.amount": {"$gt": 100}}.' };
    return { value: value as Record<string, unknown> };
  } catch (error) {
    return { error: `Not JSON: ${(error as Error).message}` };
  }
}

/** The server's word on a filter, with the part it names (`payload.amount → $gt: takes a number or a string`). */
function filterError(error: unknown): string | null {
  const item = ((error as ApiError | null)?.fields ?? []).find((field) => field.loc[0] === 'body' && field.loc[1] === 'filter');
  if (!item) return null;
  const part = item.loc.slice(2);
  return part.length > 0 ? `${part.join(' → ')}: ${item.msg}` : item.msg;
}

const listOf = (text: string) => text.split(/[\s,]+/).map((item) => item.trim()).filter(Boolean);

/**
 * Create or edit an endpoint: URL, description, event types from the catalogue, channels, rate
 * limit, custom headers and metadata. Headers go through the /headers routes when editing, as a
 * patch, so sensitive ones (which the API never shows) are kept.
 */
export function EndpointDialog({ endpoint, onClose, onSaved }: { endpoint?: Endpoint; onClose: () => void; onSaved: (endpoint: Endpoint) => void }) {
  const api = useApi();
  const scope = useAppScope();
  const queries = useQueryClient();
  const catalogue = useEventTypes();
  const [url, setUrl] = useState(endpoint?.url ?? '');
  const [description, setDescription] = useState(endpoint?.description ?? '');
  const [eventTypes, setEventTypes] = useState<string[]>(endpoint?.eventTypes ?? []);
  const [channels, setChannels] = useState((endpoint?.channels ?? []).join(', '));
  const [throttleRate, setThrottleRate] = useState(endpoint?.throttleRate ? String(endpoint.throttleRate) : '');
  const [metadata, setMetadata] = useState<Pair[]>(pairsOf(endpoint?.metadata));
  const [filterText, setFilterText] = useState(endpoint?.filter ? JSON.stringify(endpoint.filter, null, 2) : '');
  const filter = parseFilter(filterText);
  const headers = useQuery({
    queryKey: ['endpoint-headers', scope.appId, endpoint?.id],
    queryFn: () => api.get<{ headers: Record<string, string>; sensitive: string[] }>(`${endpointPath(scope.appId, endpoint!.id)}/headers`),
    enabled: Boolean(endpoint),
  });
  const [headerPairs, setHeaderPairs] = useState<Pair[] | null>(endpoint ? null : []);
  const shownHeaders = headerPairs ?? pairsOf(headers.data?.headers);

  const save = useAction({
    mutationFn: async () => {
      const fields = {
        url: url.trim(),
        description,
        eventTypes: eventTypes.length > 0 ? eventTypes : null,
        channels: listOf(channels).length > 0 ? listOf(channels) : null,
        throttleRate: throttleRate.trim() ? Number(throttleRate) : null,
        metadata: recordOf(metadata),
        filter: 'value' in filter ? filter.value : null,
      };
      if (!endpoint) {
        return api.post<Endpoint>(endpointsPath(scope.appId), { ...fields, headers: recordOf(shownHeaders) });
      }
      const saved = await api.patch<Endpoint>(endpointPath(scope.appId, endpoint.id), fields);
      if (headerPairs) {
        const wanted = recordOf(headerPairs);
        const removed = Object.keys(headers.data?.headers ?? {}).filter((name) => !(name in wanted));
        await api.patch<void>(`${endpointPath(scope.appId, endpoint.id)}/headers`, { headers: { ...wanted, ...Object.fromEntries(removed.map((name) => [name, null])) } });
      }
      return saved;
    },
    onSuccess: (saved) => {
      queries.invalidateQueries({ queryKey: ['endpoint-headers', scope.appId, saved.id] });
      endpointSaved(queries, scope.appId, saved);
      onSaved(saved);
    },
  });

  const known = catalogue.data?.data.filter((type) => !type.archived).map((type) => type.name) ?? [];
  const choices = [...new Set([...known, ...eventTypes])];
  return (
    <Dialog title={endpoint ? 'Edit endpoint' : 'Add an endpoint'} onClose={onClose} wide>
      <form onSubmit={(event) => { event.preventDefault(); if (!('error' in filter)) save.mutate(); }}>
        {save.isError && !filterError(save.error) ? <ErrorNote error={save.error} /> : null}
        <Field label="URL" error={fieldError(save.error, 'url')}>
          <input name="url" type="url" required placeholder="https://example.com/webhooks" value={url} onInput={(event) => setUrl(event.currentTarget.value)} />
        </Field>
        <Field label="Description" error={fieldError(save.error, 'description')}>
          <input name="description" value={description} onInput={(event) => setDescription(event.currentTarget.value)} />
        </Field>
        <fieldset class="field">
          <legend>Event types</legend>
          {catalogue.isPending ? <Loading what="Loading event types" /> : choices.length === 0 ? (
            <p class="muted small">No event types in the catalogue: this endpoint gets every event.</p>
          ) : (
            <>
              <div class="checks">
                {choices.map((name) => (
                  <label key={name}>
                    <input
                      type="checkbox"
                      checked={eventTypes.includes(name)}
                      onChange={(event) => setEventTypes(event.currentTarget.checked ? [...eventTypes, name] : eventTypes.filter((item) => item !== name))}
                    />
                    {name}
                  </label>
                ))}
              </div>
              <small class="hint">None ticked: every event type.</small>
            </>
          )}
          {fieldError(save.error, 'eventTypes') ? <small class="field-error">{fieldError(save.error, 'eventTypes')}</small> : null}
        </fieldset>
        <div class="grid-2">
          <Field label="Channels" hint="Comma-separated; empty: every channel." error={fieldError(save.error, 'channels')}>
            <input name="channels" value={channels} onInput={(event) => setChannels(event.currentTarget.value)} />
          </Field>
          <Field label="Rate limit" hint="Messages a second; empty: no limit." error={fieldError(save.error, 'throttleRate')}>
            <input name="throttleRate" type="number" min={1} inputMode="numeric" value={throttleRate} onInput={(event) => setThrottleRate(event.currentTarget.value)} />
          </Field>
        </div>
        <Field
          label="Payload filter"
          hint={'JSON, MongoDB-style, over eventType, channels and payload: {"payload.amount": {"$gt": 100}}. Only messages it matches are sent. Empty: every message.'}
          error={'error' in filter ? filter.error : filterError(save.error)}
        >
          <textarea name="filter" rows={4} spellcheck={false} aria-invalid={'error' in filter} value={filterText} onInput={(event) => setFilterText(event.currentTarget.value)} />
        </Field>
        <KeyValueEditor legend="Headers" keyLabel="Name" pairs={shownHeaders} onChange={setHeaderPairs} />
        {headers.data?.sensitive.length ? <p class="muted small">Also set, and never shown: {headers.data.sensitive.join(', ')}.</p> : null}
        {fieldError(save.error, 'headers') ? <p class="field-error small">{fieldError(save.error, 'headers')}</p> : null}
        <KeyValueEditor legend="Metadata" pairs={metadata} onChange={setMetadata} />
        <footer class="dialog-foot">
          <button type="button" class="btn" onClick={onClose}>Cancel</button>
          <button type="submit" class="btn btn-primary" disabled={save.isPending || 'error' in filter}>{endpoint ? 'Save' : 'Add endpoint'}</button>
        </footer>
      </form>
    </Dialog>
  );
}
