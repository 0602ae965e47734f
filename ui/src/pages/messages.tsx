import { useQuery } from '@tanstack/preact-query';
import { useAction } from '../api/action.ts';
import { useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { ApiError, seg } from '../api/client.ts';
import type { ListResponse, Message } from '../api/types.ts';
import { Field, Pager, usePager } from '../components/controls.tsx';
import { Empty, ErrorNote, Loading } from '../components/feedback.tsx';
import { ago, dateTime } from '../components/format.ts';
import { useApi, useAppScope } from '../context.tsx';
import { useEventTypes } from './event-catalogue.tsx';

const PAGE_SIZE = 50;
/** How often the newest page asks for new messages. */
const LIVE_MS = 2_000;

export const messagesPath = (appId: string) => `/api/v1/app/${seg(appId)}/msg`;
export const messagePath = (appId: string, msgId: string) => `${messagesPath(appId)}/${seg(msgId)}`;

interface Filters {
  eventType: string;
  channel: string;
  /** Svix's MessageStatus (0 success, 1 pending, 2 fail, 3 sending), or '' for any. */
  status: string;
  after: string;
  before: string;
}

const NO_FILTERS: Filters = { eventType: '', channel: '', status: '', after: '', before: '' };

/**
 * An application's messages, newest first. The first page is live: it asks again every two
 * seconds, so new messages show up without a reload; older pages stay put while being read.
 */
export function MessagesTab() {
  const api = useApi();
  const scope = useAppScope();
  const pager = usePager();
  const [filters, setFilters] = useState<Filters>(NO_FILTERS);
  const filtering = JSON.stringify(filters) !== JSON.stringify(NO_FILTERS);
  const set = (change: Partial<Filters>) => {
    setFilters({ ...filters, ...change });
    pager.reset();
  };
  const list = useQuery({
    queryKey: ['messages', scope.appId, filters, pager.iterator],
    queryFn: () => api.get<ListResponse<Message>>(messagesPath(scope.appId), {
      limit: PAGE_SIZE,
      iterator: pager.iterator,
      with_content: false,
      event_types: filters.eventType || undefined,
      channel: filters.channel.trim() || undefined,
      status: filters.status || undefined,
      after: filters.after ? new Date(filters.after).toISOString() : undefined,
      before: filters.before ? new Date(filters.before).toISOString() : undefined,
    }),
    placeholderData: (previous) => previous,
    refetchInterval: pager.page === 1 ? LIVE_MS : false,
    refetchIntervalInBackground: false,
    staleTime: 0,
  });

  const messages = list.data?.data ?? [];
  const nothingYet = list.isSuccess && messages.length === 0 && !filtering && pager.page === 1;
  return (
    <>
      <FindMessage />
      {nothingYet ? <FirstMessage /> : (
        <>
          <MessageFilters filters={filters} onChange={set} onClear={() => set(NO_FILTERS)} filtering={filtering} />
          {list.isError ? <ErrorNote error={list.error} /> : null}
          {list.isPending ? <Loading /> : (
            <div class="table-wrap">
              <table aria-label="Messages">
                <thead>
                  <tr>
                    <th scope="col">Event type</th>
                    <th scope="col">Message</th>
                    <th scope="col" class="minor">Channels</th>
                    <th scope="col">Sent</th>
                  </tr>
                </thead>
                <tbody>
                  {messages.length === 0 ? (
                    <tr><td colSpan={4} class="muted">No message matches these filters.</td></tr>
                  ) : messages.map((message) => (
                    <tr key={message.id} data-msg-id={message.id}>
                      <td class="cell-main mono"><a href={`${scope.base}/messages/${seg(message.id)}`}>{message.eventType}</a></td>
                      <td class="mono small msg-id">
                        <div>{message.id}</div>
                        {message.eventId ? <div class="muted">{message.eventId}</div> : null}
                      </td>
                      <td class="minor">{message.channels?.length ? <div class="chips">{message.channels.map((name) => <span class="chip" key={name}>#{name}</span>)}</div> : <span class="muted">—</span>}</td>
                      <td><time dateTime={message.timestamp} title={dateTime(message.timestamp)}>{ago(message.timestamp)}</time></td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          <div class="row pager-row">
            {pager.page === 1 ? <span class="muted small live" aria-live="off"><span class="live-dot" aria-hidden="true" />Live: new messages appear as they are sent.</span> : null}
            {list.data ? <Pager pager={pager} done={list.data.done} nextIterator={list.data.iterator} /> : null}
          </div>
        </>
      )}
    </>
  );
}

const STATUSES: Array<[string, string]> = [['', 'Any status'], ['0', 'Succeeded'], ['1', 'Pending'], ['2', 'Failed'], ['3', 'Sending']];

function MessageFilters({ filters, onChange, onClear, filtering }: { filters: Filters; onChange: (change: Partial<Filters>) => void; onClear: () => void; filtering: boolean }) {
  const catalogue = useEventTypes();
  const names = [...new Set([...(catalogue.data?.data.map((type) => type.name) ?? []), ...(filters.eventType ? [filters.eventType] : [])])];
  // The channel is typed: ask once typing pauses, not at every key.
  const [channel, setChannel] = useState(filters.channel);
  return (
    <form class="filters" role="search" aria-label="Filter messages" onSubmit={(event) => { event.preventDefault(); onChange({ channel }); }}>
      <Field label="Event type">
        <select name="eventType" value={filters.eventType} onChange={(event) => onChange({ eventType: event.currentTarget.value })}>
          <option value="">Any event type</option>
          {names.map((name) => <option key={name} value={name}>{name}</option>)}
        </select>
      </Field>
      <Field label="Status">
        <select name="status" value={filters.status} onChange={(event) => onChange({ status: event.currentTarget.value })}>
          {STATUSES.map(([value, label]) => <option key={value} value={value}>{label}</option>)}
        </select>
      </Field>
      <Field label="Channel">
        <input name="channel" value={channel} placeholder="any" onInput={(event) => setChannel(event.currentTarget.value)} onBlur={() => channel !== filters.channel && onChange({ channel })} />
      </Field>
      <Field label="After">
        <input name="after" type="datetime-local" value={filters.after} onChange={(event) => onChange({ after: event.currentTarget.value })} />
      </Field>
      <Field label="Before">
        <input name="before" type="datetime-local" value={filters.before} onChange={(event) => onChange({ before: event.currentTarget.value })} />
      </Field>
      <div class="filters-end">
        {filtering ? <button type="button" class="btn btn-small" onClick={() => { setChannel(''); onClear(); }}>Clear filters</button> : null}
      </div>
    </form>
  );
}

/** Opens a message by its id or by the eventId the sender gave it. */
function FindMessage() {
  const api = useApi();
  const scope = useAppScope();
  const { route } = useLocation();
  const [text, setText] = useState('');
  const find = useAction({
    mutationFn: (idOrEventId: string) => api.get<Message>(messagePath(scope.appId, idOrEventId), { with_content: false }),
    onSuccess: (message) => route(`${scope.base}/messages/${seg(message.id)}`),
  });
  const missing = find.error instanceof ApiError && find.error.status === 404;
  return (
    <form class="toolbar" role="search" aria-label="Find a message" onSubmit={(event) => { event.preventDefault(); if (text.trim()) find.mutate(text.trim()); }}>
      <label class="visually-hidden" for="find-message">Message id or eventId</label>
      <input id="find-message" type="search" placeholder="Find by message id or eventId" value={text} onInput={(event) => setText(event.currentTarget.value)} />
      <button type="submit" class="btn" disabled={find.isPending}>Find</button>
      {missing ? <span class="note note-error small" role="alert">No message has the id or eventId “{find.variables}”.</span> : find.isError ? <ErrorNote error={find.error} /> : null}
    </form>
  );
}

/** The next step for an application without messages: send one, with this Herald's address and the app's id. */
function FirstMessage() {
  const scope = useAppScope();
  const url = `${location.origin}${messagesPath(scope.appId)}`;
  if (scope.portal) {
    return (
      <Empty title="No messages yet">
        <p class="muted">Every webhook sent to you appears here as it is sent, with each attempt to deliver it to your endpoints.</p>
      </Empty>
    );
  }
  return (
    <Empty title="No messages yet">
      <p class="muted">Messages sent to this application appear here as they are sent. Send the first one from a terminal:</p>
      <pre class="code" data-testid="first-message">{`curl -s -X POST ${url} \\
  -H "Authorization: Bearer $HERALD_TOKEN" -H "Content-Type: application/json" \\
  -d '{"eventType":"invoice.paid","payload":{"id":"inv_1","amount":4200}}'`}</pre>
      <p class="muted">or with a Svix SDK (Herald speaks Svix's API):</p>
      <pre class="code">{`const svix = new Svix(process.env.HERALD_TOKEN, { serverUrl: '${location.origin}' });
await svix.message.create('${scope.appId}', { eventType: 'invoice.paid', payload: { id: 'inv_1' } });`}</pre>
    </Empty>
  );
}
