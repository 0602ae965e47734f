import { useQuery, useQueryClient } from '@tanstack/preact-query';
import { useAction } from '../api/action.ts';
import { useEffect, useState } from 'preact/hooks';
import { seg } from '../api/client.ts';
import { prettyExact } from '../api/exact-json.ts';
import { type Attempt, type AttemptHeaders, type ListResponse, type Message, type MessageDestination, TRIGGER } from '../api/types.ts';
import { CopyButton } from '../components/controls.tsx';
import { StatusBadge } from '../components/status-badge.tsx';
import { ErrorNote, Loading } from '../components/feedback.tsx';
import { dateTime } from '../components/format.ts';
import { AppScopeContext, type AppScope, useAbilities, useApi, useAppScope } from '../context.tsx';
import { DASHBOARD } from '../session.ts';
import { useApplication } from './app-view.tsx';
import { messagePath } from './messages.tsx';

/** While anything is pending or being sent, the page asks again this often. */
const FOLLOW_MS = 1_000;
const unsettled = (status: number) => status === 1 || status === 3;

/** The dashboard's route: /dashboard/apps/{app}/messages/{msg}. */
export function MessagePage({ appId, msgId }: { appId: string; msgId: string }) {
  const scope: AppScope = { appId, base: `${DASHBOARD}/apps/${seg(appId)}`, portal: false };
  return (
    <AppScopeContext.Provider value={scope}>
      <MessageView msgId={msgId} />
    </AppScopeContext.Provider>
  );
}

/** One message: its payload, and for each endpoint it went to, the delivery and every attempt. */
export function MessageView({ msgId }: { msgId: string }) {
  const api = useApi();
  const scope = useAppScope();
  const app = useApplication(scope.appId);
  const message = useQuery({
    queryKey: ['message', scope.appId, msgId],
    queryFn: () => api.get<Message>(messagePath(scope.appId, msgId)),
  });
  const breadcrumb = (
    <div class="breadcrumb">
      {scope.portal ? null : <><a href={`${DASHBOARD}/`}>Applications</a> / </>}
      <a href={scope.base}>{app.data?.name ?? scope.appId}</a> / <a href={`${scope.base}/messages`}>Messages</a>
    </div>
  );
  if (message.isPending) return <section class="page">{breadcrumb}<Loading /></section>;
  if (message.isError) return <section class="page">{breadcrumb}<ErrorNote error={message.error} /></section>;
  const msg = message.data;
  // As published: numbers a parse would round or rewrite are written as they came.
  const payload = prettyExact(msg.payload);
  return (
    <section class="page">
      {breadcrumb}
      <div class="page-head">
        <div>
          <h1 class="mono">{msg.eventType}</h1>
          <div class="sub">{msg.id}</div>
        </div>
      </div>
      <div class="grid-2">
        <div class="card">
          <h2>Message</h2>
          <dl class="details">
            <dt>Event type</dt><dd class="mono">{msg.eventType}</dd>
            <dt>ID</dt><dd class="mono">{msg.id}</dd>
            <dt>eventId</dt><dd class="mono">{msg.eventId ?? <span class="muted">—</span>}</dd>
            <dt>Channels</dt><dd>{msg.channels?.length ? <div class="chips">{msg.channels.map((name) => <span class="chip" key={name}>#{name}</span>)}</div> : <span class="muted">—</span>}</dd>
            <dt>Sent</dt><dd><time dateTime={msg.timestamp}>{dateTime(msg.timestamp)}</time></dd>
          </dl>
        </div>
        <div class="card">
          <div class="card-head"><h2>Payload</h2><CopyButton text={payload} label="Copy payload" /></div>
          <pre class="code" data-testid="payload">{payload}</pre>
          {msg.schemaViolations?.length ? (
            <div class="note note-warn small" role="note" data-testid="schema-violations">
              <strong>Does not match schema version {msg.schemaVersion}</strong> (accepted: schema validation is <code>warn</code>)
              <ul>{msg.schemaViolations.map((v) => <li key={`${v.loc.join('.')} ${v.type}`}><code>{v.loc.slice(1).join('.') || '(the payload)'}</code>: {v.msg}</li>)}</ul>
            </div>
          ) : null}
        </div>
      </div>
      <Destinations message={msg} />
    </section>
  );
}

/** Where the message went: one card per endpoint, its attempts newest first. */
function Destinations({ message }: { message: Message }) {
  const api = useApi();
  const scope = useAppScope();
  // After a Resend: followed until the new attempt is there and has an outcome (a minute at most).
  const [resent, setResent] = useState<{ endpointId: string; before: number; at: number } | null>(null);
  const attempts = useQuery({
    queryKey: ['message-attempts', scope.appId, message.id],
    queryFn: () => api.get<ListResponse<Attempt>>(`/api/v1/app/${seg(scope.appId)}/attempt/msg/${seg(message.id)}`, { limit: 250, expanded_statuses: true }),
  });
  const attemptsOf = (endpointId: string) => (attempts.data?.data ?? []).filter((attempt) => attempt.endpointId === endpointId);
  const following = resent !== null && Date.now() - resent.at < 60_000 && (() => {
    const now = attemptsOf(resent.endpointId);
    return now.length <= resent.before || now.some((attempt) => unsettled(attempt.status));
  })();
  const destinations = useQuery({
    queryKey: ['message-destinations', scope.appId, message.id],
    queryFn: () => api.get<ListResponse<MessageDestination>>(`${messagePath(scope.appId, message.id)}/endpoint`, { limit: 250, expanded_statuses: true }),
    refetchInterval: (query) => (following || query.state.data?.data.some((item) => unsettled(item.status)) ? FOLLOW_MS : false),
  });
  const anyUnsettled = destinations.data?.data.some((item) => unsettled(item.status)) ?? false;
  // The attempts list follows whenever the destinations do; set here, once both are known.
  useRefetchWhile(attempts.refetch, following || anyUnsettled);
  if (destinations.isPending) return <Loading what="Loading destinations" />;
  if (destinations.isError) return <ErrorNote error={destinations.error} />;
  if (destinations.data.data.length === 0) {
    return <div class="empty"><h3>No destinations</h3><p class="muted">No endpoint of this application takes this message's event type and channels, so it was not sent anywhere.</p></div>;
  }
  return (
    <section aria-label="Destinations">
      <h2 class="section-title">Destinations</h2>
      {destinations.data.data.map((destination) => (
        <DestinationCard
          key={destination.id}
          message={message}
          destination={destination}
          attempts={attemptsOf(destination.id)}
          onResent={(before) => setResent({ endpointId: destination.id, before, at: Date.now() })}
        />
      ))}
    </section>
  );
}

function DestinationCard({ message, destination, attempts, onResent }: {
  message: Message;
  destination: MessageDestination;
  attempts: Attempt[];
  onResent: (attemptsBefore: number) => void;
}) {
  const api = useApi();
  const scope = useAppScope();
  const abilities = useAbilities();
  const queries = useQueryClient();
  const resend = useAction({
    mutationFn: () => api.post<unknown>(`${messagePath(scope.appId, message.id)}/endpoint/${seg(destination.id)}/resend`, {}),
    onSuccess: () => {
      onResent(attempts.length);
      void queries.invalidateQueries({ queryKey: ['message-destinations', scope.appId, message.id] });
      void queries.invalidateQueries({ queryKey: ['message-attempts', scope.appId, message.id] });
    },
  });
  return (
    <article class="card destination" aria-label={`Destination ${destination.url}`}>
      <div class="card-head">
        <div>
          <a class="url" href={`${scope.base}/endpoints/${seg(destination.id)}`}>{destination.url}</a>
          <div class="row small">
            <StatusBadge status={destination.status} />
            {destination.nextAttempt ? <span class="muted">next attempt {dateTime(destination.nextAttempt)}</span> : null}
            <span class="muted">{attempts.length} attempt{attempts.length === 1 ? '' : 's'}</span>
          </div>
        </div>
        {abilities.can('CreateAttempts') ? (
          <button type="button" class="btn" disabled={resend.isPending} onClick={() => resend.mutate()} aria-label={`Resend to ${destination.url}`}>Resend</button>
        ) : null}
      </div>
      {resend.isError ? <ErrorNote error={resend.error} /> : null}
      {attempts.length === 0 ? <p class="muted small">No attempt yet.</p> : (
        <ol class="attempts">
          {attempts.map((attempt) => <AttemptItem key={attempt.id} attempt={attempt} message={message} />)}
        </ol>
      )}
    </article>
  );
}

/** Calls `refetch` every FOLLOW_MS while `active`. */
function useRefetchWhile(refetch: () => unknown, active: boolean) {
  useEffect(() => {
    if (!active) return;
    const timer = setInterval(() => void refetch(), FOLLOW_MS);
    return () => clearInterval(timer);
  }, [active, refetch]);
}


/** One attempt in a line; opened, the request as sent and the response. */
function AttemptItem({ attempt, message }: { attempt: Attempt; message: Message }) {
  const [open, setOpen] = useState(false);
  return (
    <li class="attempt" data-attempt-id={attempt.id}>
      <details onToggle={(event) => setOpen((event.currentTarget as HTMLDetailsElement).open)}>
        <summary>
          <StatusBadge status={attempt.status} />
          <span class="mono">{attempt.responseStatusCode ? `HTTP ${attempt.responseStatusCode}` : 'no response'}</span>
          <span class="muted">{attempt.responseDurationMs} ms</span>
          <span class="muted">{TRIGGER[attempt.triggerType] ?? 'Scheduled'}</span>
          {attempt.failureReason ? <span class={`badge ${attempt.status === 4 ? '' : 'badge-bad'}`}>{attempt.failureReason}</span> : null}
          <time class="muted attempt-time" dateTime={attempt.timestamp}>{dateTime(attempt.timestamp)}</time>
        </summary>
        {open ? <AttemptDetail attempt={attempt} message={message} /> : null}
      </details>
    </li>
  );
}

function AttemptDetail({ attempt, message }: { attempt: Attempt; message: Message }) {
  const api = useApi();
  const scope = useAppScope();
  const headers = useQuery({
    queryKey: ['attempt-headers', scope.appId, message.id, attempt.id],
    queryFn: () => api.get<AttemptHeaders>(`${messagePath(scope.appId, message.id)}/attempt/${seg(attempt.id)}/headers`),
    staleTime: Infinity,
  });
  // What was sent: the payload, unless the endpoint's transformation made another body.
  const transformedBody = headers.data?.transformedBody;
  // The bytes sent, as the server keeps them: a parse written again would change numbers and spacing.
  const sent = headers.data?.body;
  const body = sent === undefined ? JSON.stringify(message.payload) : sent ?? (Object.keys(headers.data?.sentHeaders ?? {}).length === 0 ? 'Nothing was sent.' : 'Erased with the payload.');
  return (
    <div class="attempt-detail grid-2">
      <div>
        <h3>Request</h3>
        <p class="mono small url">{headers.data?.method ?? 'POST'} {attempt.url}</p>
        {transformedBody !== undefined ? <p class="muted small">As the endpoint's transformation made it.</p> : null}
        {headers.data?.endpointChanged ? <p class="muted small" data-testid="endpoint-changed">The endpoint changed after this attempt: these headers are rebuilt from it as it is now, and may differ from those sent.</p> : null}
        {headers.isPending ? <Loading what="Loading headers" /> : headers.isError ? <ErrorNote error={headers.error} /> : (
          <HeaderTable rows={Object.entries(headers.data.sentHeaders).map(([name, value]) => ({ name, value, sensitive: headers.data.sensitive.includes(name) }))} label="Request headers" />
        )}
        <h4>Body</h4>
        <pre class="code small" data-testid="attempt-body">{body}</pre>
      </div>
      <div>
        <h3>Response</h3>
        <dl class="details">
          <dt>Status</dt><dd class="mono">{attempt.responseStatusCode || <span class="muted">none</span>}</dd>
          <dt>Duration</dt><dd>{attempt.responseDurationMs} ms</dd>
          <dt>Trigger</dt><dd>{TRIGGER[attempt.triggerType] ?? attempt.triggerType}</dd>
          {attempt.attemptNumber ? <><dt>Attempt</dt><dd>#{attempt.attemptNumber}</dd></> : null}
          {attempt.failureReason ? <><dt>Failure</dt><dd>{attempt.failureReason}</dd></> : null}
        </dl>
        {headers.data?.responseHeaders ? <HeaderTable rows={headers.data.responseHeaders.map(([name, value]) => ({ name, value, sensitive: false }))} label="Response headers" /> : null}
        <h4>Body</h4>
        <pre class="code small" data-testid="response-body">{attempt.response || '(empty)'}</pre>
      </div>
    </div>
  );
}

/** Headers in the order given; sensitive ones marked, and said to be masked when they are. */
export function HeaderTable({ rows, label }: { rows: Array<{ name: string; value: string | null; sensitive: boolean; masked?: boolean }>; label: string }) {
  if (rows.length === 0) return <p class="muted small">No headers.</p>;
  return (
    <div class="scroll-x">
      <table class="headers" aria-label={label}>
        <tbody>
          {rows.map((row, index) => {
            const masked = row.masked ?? (row.value === null || /\*{4}/.test(row.value));
            return (
              <tr key={`${row.name}-${index}`} data-header={row.name}>
                <th scope="row" class="mono">{row.name}</th>
                <td class="mono">
                  {row.value ?? <span class="muted">hidden</span>}
                  {row.sensitive || row.masked ? <span class={`badge ${masked ? '' : 'badge-warn'}`}>{masked ? 'masked' : 'sensitive'}</span> : null}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
