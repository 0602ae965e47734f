import { useQuery, useQueryClient } from '@tanstack/preact-query';
import { useAction } from '../api/action.ts';
import { useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { seg } from '../api/client.ts';
import { type Attempt, type Endpoint, type ListResponse, type Message } from '../api/types.ts';
import { CopyButton, Field } from '../components/controls.tsx';
import { Confirm, Dialog } from '../components/dialog.tsx';
import { ErrorNote, Loading } from '../components/feedback.tsx';
import { dateTime } from '../components/format.ts';
import { StatsPanel } from '../components/stats-panel.tsx';
import { StatusBadge } from '../components/status-badge.tsx';
import { AppScopeContext, type AppScope, useAbilities, useApi, useAppScope } from '../context.tsx';
import { DASHBOARD } from '../session.ts';
import { useApplication } from './app-view.tsx';
import { EndpointDialog, endpointPath, endpointSaved, EndpointState, Filters } from './endpoints.tsx';
import { useEventTypes } from './event-catalogue.tsx';
import { TransformationCard } from './transformation.tsx';

/** The dashboard's route: /dashboard/apps/{app}/endpoints/{endpoint}. */
export function EndpointPage({ appId, endpointId }: { appId: string; endpointId: string }) {
  const scope: AppScope = { appId, base: `${DASHBOARD}/apps/${seg(appId)}`, portal: false };
  return (
    <AppScopeContext.Provider value={scope}>
      <EndpointView endpointId={endpointId} />
    </AppScopeContext.Provider>
  );
}

/** One endpoint: details, secret, state, send example, recover, delivery charts. */
export function EndpointView({ endpointId }: { endpointId: string }) {
  const api = useApi();
  const scope = useAppScope();
  const abilities = useAbilities();
  const app = useApplication(scope.appId);
  const [dialog, setDialog] = useState<'edit' | 'delete' | 'send' | 'recover' | null>(null);
  const endpoint = useQuery({
    queryKey: ['endpoint', scope.appId, endpointId],
    queryFn: () => api.get<Endpoint>(endpointPath(scope.appId, endpointId)),
  });
  const breadcrumb = (
    <div class="breadcrumb">
      {scope.portal ? null : <><a href={`${DASHBOARD}/`}>Applications</a> / </>}
      <a href={scope.base}>{app.data?.name ?? scope.appId}</a> / <a href={scope.base}>Endpoints</a>
    </div>
  );
  if (endpoint.isPending) return <section class="page">{breadcrumb}<Loading /></section>;
  if (endpoint.isError) return <section class="page">{breadcrumb}<ErrorNote error={endpoint.error} /></section>;
  const ep = endpoint.data;
  const canManage = abilities.can('ManageEndpoint');
  const canSend = abilities.can('CreateAttempts');
  return (
    <section class="page">
      {breadcrumb}
      <div class="page-head">
        <div>
          <h1 class="url">{ep.url}</h1>
          <div class="sub">{ep.uid ? `${ep.uid} · ` : ''}{ep.id}</div>
        </div>
        <div class="page-actions">
          {canSend ? <button type="button" class="btn btn-primary" onClick={() => setDialog('send')}>Send example</button> : null}
          {canSend ? <button type="button" class="btn" onClick={() => setDialog('recover')}>Recover</button> : null}
          {canManage ? <ToggleEnabled endpoint={ep} /> : null}
          {canManage ? <button type="button" class="btn" onClick={() => setDialog('edit')}>Edit</button> : null}
          {canManage ? <button type="button" class="btn btn-danger" onClick={() => setDialog('delete')}>Delete</button> : null}
        </div>
      </div>
      <div class="grid-2">
        <div class="card">
          <h2>Details</h2>
          <dl class="details">
            <dt>State</dt><dd><EndpointState endpoint={ep} /></dd>
            <dt>Description</dt><dd>{ep.description || <span class="muted">—</span>}</dd>
            <dt>Filters</dt><dd><Filters endpoint={ep} /></dd>
            <dt>Rate limit</dt><dd>{ep.throttleRate ? `${ep.throttleRate} a second` : <span class="muted">none</span>}</dd>
            <dt>Created</dt><dd>{dateTime(ep.createdAt)}</dd>
            <dt>Updated</dt><dd>{dateTime(ep.updatedAt)}</dd>
            {Object.entries(ep.metadata).map(([key, value]) => <><dt class="mono">{key}</dt><dd>{value}</dd></>)}
          </dl>
        </div>
        {abilities.can('ViewEndpointSecret') ? <SecretCard endpoint={ep} /> : null}
      </div>
      <DeliveryHealth endpoint={ep} />
      {abilities.can('ManageTransformations') ? <TransformationCard endpoint={ep} /> : null}
      <StatsPanel endpointId={ep.id} />
      {dialog === 'edit' ? <EndpointDialog endpoint={ep} onClose={() => setDialog(null)} onSaved={() => setDialog(null)} /> : null}
      {dialog === 'delete' ? <DeleteEndpoint endpoint={ep} onClose={() => setDialog(null)} /> : null}
      {dialog === 'send' ? <SendExample endpoint={ep} onClose={() => setDialog(null)} /> : null}
      {dialog === 'recover' ? <Recover endpoint={ep} onClose={() => setDialog(null)} /> : null}
    </section>
  );
}

/** The signing secret: hidden until asked for, then copyable; rotating keeps the old one a while. */
function SecretCard({ endpoint }: { endpoint: Endpoint }) {
  const api = useApi();
  const scope = useAppScope();
  const abilities = useAbilities();
  const queries = useQueryClient();
  const [shown, setShown] = useState(false);
  const [rotating, setRotating] = useState(false);
  const key = ['endpoint-secret', scope.appId, endpoint.id];
  const secret = useQuery({
    queryKey: key,
    queryFn: () => api.get<{ key: string }>(`${endpointPath(scope.appId, endpoint.id)}/secret`),
    enabled: shown,
    staleTime: 0,
    gcTime: 0,
  });
  const rotate = useAction({
    mutationFn: () => api.post<void>(`${endpointPath(scope.appId, endpoint.id)}/secret/rotate`, {}),
    onSuccess: async () => {
      setRotating(false);
      await queries.invalidateQueries({ queryKey: key });
    },
  });
  return (
    <div class="card">
      <h2>Signing secret</h2>
      <p class="muted small">Verify each webhook's <code>webhook-signature</code> with it (Standard Webhooks).</p>
      <div class="secret">
        {shown ? (
          secret.isPending ? <Loading /> : secret.isError ? <ErrorNote error={secret.error} /> : (
            <>
              <code data-testid="secret">{secret.data.key}</code>
              <CopyButton text={secret.data.key} />
              <button type="button" class="btn btn-small" onClick={() => setShown(false)}>Hide</button>
            </>
          )
        ) : (
          <>
            <code aria-label="Secret hidden">whsec_••••••••••••••••</code>
            <button type="button" class="btn btn-small" onClick={() => setShown(true)}>Reveal secret</button>
          </>
        )}
        {abilities.can('ManageEndpointSecret') ? <button type="button" class="btn btn-small" onClick={() => setRotating(true)}>Rotate secret</button> : null}
      </div>
      {rotating ? (
        <Confirm title="Rotate the signing secret?" confirm="Rotate" busy={rotate.isPending} error={rotate.error} onConfirm={() => { setShown(true); rotate.mutate(); }} onClose={() => setRotating(false)}>
          <p>Herald makes a new secret and signs with it from now on. The old one keeps signing beside it for 24 hours, so the receiver can switch without losing a webhook.</p>
        </Confirm>
      ) : null}
    </div>
  );
}

function ToggleEnabled({ endpoint }: { endpoint: Endpoint }) {
  const api = useApi();
  const scope = useAppScope();
  const queries = useQueryClient();
  const toggle = useAction({
    mutationFn: () => api.patch<Endpoint>(endpointPath(scope.appId, endpoint.id), { disabled: !endpoint.disabled }),
    onSuccess: (saved) => {
      endpointSaved(queries, scope.appId, saved);
    },
  });
  return (
    <>
      <button type="button" class="btn" disabled={toggle.isPending} onClick={() => toggle.mutate()}>{endpoint.disabled ? 'Enable' : 'Disable'}</button>
      {toggle.isError ? <ErrorNote error={toggle.error} /> : null}
    </>
  );
}

function DeleteEndpoint({ endpoint, onClose }: { endpoint: Endpoint; onClose: () => void }) {
  const api = useApi();
  const scope = useAppScope();
  const queries = useQueryClient();
  const { route } = useLocation();
  const remove = useAction({
    mutationFn: () => api.delete(endpointPath(scope.appId, endpoint.id)),
    onSuccess: () => {
      queries.invalidateQueries({ queryKey: ['endpoints', scope.appId] });
      route(scope.base);
    },
  });
  return (
    <Confirm title="Delete this endpoint?" confirm="Delete endpoint" busy={remove.isPending} error={remove.error} onConfirm={() => remove.mutate()} onClose={onClose}>
      <p>Herald stops sending to <strong class="url">{endpoint.url}</strong> at once, and deliveries still waiting for it are dropped. It cannot be undone.</p>
    </Confirm>
  );
}

/**
 * Sends one example event to this endpoint only, then follows the attempt until it has an
 * outcome, so the user sees what their receiver answered.
 */
function SendExample({ endpoint, onClose }: { endpoint: Endpoint; onClose: () => void }) {
  const api = useApi();
  const scope = useAppScope();
  const catalogue = useEventTypes();
  const subscribed = endpoint.eventTypes ?? [];
  const names = subscribed.length > 0 ? subscribed : (catalogue.data?.data.filter((type) => !type.archived).map((type) => type.name) ?? []);
  const [eventType, setEventType] = useState('');
  const chosen = eventType || names[0] || 'svix.ping';
  const send = useAction({
    mutationFn: () => api.post<Message>(`${endpointPath(scope.appId, endpoint.id)}/send-example`, { eventType: chosen }),
  });
  const attempts = useQuery({
    queryKey: ['attempts-of', scope.appId, send.data?.id],
    queryFn: () => api.get<ListResponse<Attempt>>(`/api/v1/app/${seg(scope.appId)}/attempt/msg/${seg(send.data!.id)}`, { endpoint_id: endpoint.id, limit: 5, expanded_statuses: true }),
    enabled: Boolean(send.data),
    // Until the first attempt has an outcome: deliveries start within a second or so.
    refetchInterval: (query) => (query.state.data?.data.some((attempt) => attempt.status === 0 || attempt.status === 2) ? false : 500),
  });
  const attempt = attempts.data?.data[0];
  return (
    <Dialog title="Send an example event" onClose={onClose}>
      <form onSubmit={(event) => { event.preventDefault(); send.mutate(); }}>
        <Field label="Event type" hint="The payload is the event type's example, or one made from its schema.">
          <select name="eventType" value={chosen} onChange={(event) => setEventType(event.currentTarget.value)}>
            {[...new Set(['svix.ping', ...names])].map((name) => <option key={name} value={name}>{name}</option>)}
          </select>
        </Field>
        {send.isError ? <ErrorNote error={send.error} /> : null}
        {send.data ? (
          <div class="card" aria-live="polite" data-testid="example-result">
            <p>Message <code>{send.data.id}</code> sent.</p>
            {attempt ? (
              <dl class="details" data-testid="attempt">
                <dt>Attempt</dt><dd><StatusBadge status={attempt.status} /></dd>
                <dt>Response</dt><dd>HTTP {attempt.responseStatusCode} in {attempt.responseDurationMs} ms</dd>
                {attempt.failureReason ? <><dt>Failure</dt><dd>{attempt.failureReason}</dd></> : null}
                <dt>Body</dt><dd><pre class="code">{attempt.response || '(empty)'}</pre></dd>
              </dl>
            ) : <Loading what="Waiting for the attempt" />}
          </div>
        ) : null}
        <footer class="dialog-foot">
          <button type="button" class="btn" onClick={onClose}>Close</button>
          <button type="submit" class="btn btn-primary" disabled={send.isPending}>{send.data ? 'Send another' : 'Send'}</button>
        </footer>
      </form>
    </Dialog>
  );
}

/** How its deliveries flow now: flow control's state, from the endpoint's stats (Herald's fields). */
function DeliveryHealth({ endpoint }: { endpoint: Endpoint }) {
  const api = useApi();
  const scope = useAppScope();
  const stats = useQuery({
    queryKey: ['endpoint-health', scope.appId, endpoint.id],
    queryFn: () => api.get<EndpointHealth>(`${endpointPath(scope.appId, endpoint.id)}/stats`),
    refetchInterval: 5_000,
  });
  if (!stats.data) return null;
  const health = stats.data;
  const circuit = health.circuit ?? 'closed';
  return (
    <div class="card" data-testid="delivery-health">
      <h2>Delivery</h2>
      <dl class="details">
        <dt>Waiting</dt><dd>{health.pending} pending, {health.sending} sending</dd>
        <dt>Circuit</dt>
        <dd>
          <span class={`badge ${circuit === 'open' ? 'badge-bad' : 'badge-ok'}`}>{circuit === 'open' ? 'Open' : 'Closed'}</span>
          {circuit === 'open' && health.nextProbeAt ? <span class="muted"> next probe {dateTime(health.nextProbeAt)}</span> : null}
        </dd>
        <dt>Rate</dt>
        <dd>
          {health.effectiveRate != null ? `${Number(health.effectiveRate.toFixed(2))} a second` : health.throttleRate ? `${health.throttleRate} a second` : 'no limit'}
          {health.rateReason ? <span class="muted"> (lowered: {RATE_REASONS[health.rateReason] ?? health.rateReason})</span> : null}
          {health.pausedUntil ? <span class="muted"> paused until {dateTime(health.pausedUntil)}</span> : null}
        </dd>
        {health.consecutiveFailures ? <><dt>Failing</dt><dd>{health.consecutiveFailures} in a row{health.failingSince ? `, since ${dateTime(health.failingSince)}` : ''}</dd></> : null}
        {endpoint.disabled && health.disabledReason ? <><dt>Disabled</dt><dd>{DISABLED_REASONS[health.disabledReason] ?? health.disabledReason}{health.disabledAt ? `, ${dateTime(health.disabledAt)}` : ''}</dd></> : null}
      </dl>
    </div>
  );
}

interface EndpointHealth {
  pending: number;
  sending: number;
  circuit?: 'open' | 'closed';
  nextProbeAt?: string | null;
  throttleRate?: number | null;
  effectiveRate?: number | null;
  rateReason?: string | null;
  pausedUntil?: string | null;
  consecutiveFailures?: number;
  failingSince?: string | null;
  disabledReason?: string | null;
  disabledAt?: string | null;
}

const RATE_REASONS: Record<string, string> = { throttled: 'it answered 429', unavailable: 'it answered 503', timeout: 'it timed out', retry_after: 'it asked to wait' };
const DISABLED_REASONS: Record<string, string> = { manual: 'by hand', gone: 'it answered 410 Gone', failing: 'it kept failing' };

interface TaskOut {
  id: string;
  status: 'running' | 'finished' | 'failed';
  data?: { examined: number; matched: number; queued: number; done: number; canceled?: boolean; error?: string };
}

/**
 * Sends again every failed delivery to this endpoint since a time: a background task on the
 * server, followed here until it ends (its progress, then how many of what it queued are done).
 */
function Recover({ endpoint, onClose }: { endpoint: Endpoint; onClose: () => void }) {
  const api = useApi();
  const scope = useAppScope();
  const [since, setSince] = useState(() => localInput(new Date(Date.now() - 24 * 3600_000)));
  const recover = useAction({
    mutationFn: () => api.post<TaskOut>(`${endpointPath(scope.appId, endpoint.id)}/recover`, { since: new Date(since).toISOString() }),
  });
  const taskId = recover.data?.id;
  const task = useQuery({
    queryKey: ['background-task', taskId],
    queryFn: () => api.get<TaskOut>(`/api/v1/background-task/${seg(taskId!)}`),
    enabled: taskId !== undefined,
    // Until the task ends and what it queued has been attempted.
    refetchInterval: (query) => {
      const data = query.state.data?.data;
      return query.state.data?.status === 'running' || (data && data.done < data.queued) ? 500 : false;
    },
  });
  const progress = task.data?.data;
  return (
    <Dialog title="Recover failed messages" onClose={onClose}>
      <form onSubmit={(event) => { event.preventDefault(); recover.mutate(); }}>
        <p class="muted">Herald sends again, once, every message that failed to reach this endpoint since the time below.</p>
        <Field label="Since">
          <input name="since" type="datetime-local" required value={since} onInput={(event) => setSince(event.currentTarget.value)} />
        </Field>
        {recover.isError ? <ErrorNote error={recover.error} /> : null}
        {task.isError ? <ErrorNote error={task.error} /> : null}
        {recover.data ? (
          <p class="note note-ok" role="status" data-testid="recover-progress">
            {!progress || task.data?.status === 'running'
              ? `Recovering: ${progress?.examined ?? 0} messages looked at, ${progress?.queued ?? 0} queued again.`
              : task.data?.status === 'failed'
                ? `Stopped${progress.error ? `: ${progress.error}` : ''} after queueing ${progress.queued}.`
                : `${progress.queued} failed ${progress.queued === 1 ? 'message' : 'messages'} queued again; ${progress.done} attempted.`}
          </p>
        ) : null}
        <footer class="dialog-foot">
          <button type="button" class="btn" onClick={onClose}>Close</button>
          <button type="submit" class="btn btn-primary" disabled={recover.isPending || task.data?.status === 'running'}>Recover</button>
        </footer>
      </form>
    </Dialog>
  );
}

/** A Date as the value of an <input type="datetime-local">, in local time. */
function localInput(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}
