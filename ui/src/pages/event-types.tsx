import { useQuery, useQueryClient } from '@tanstack/preact-query';
import { useAction } from '../api/action.ts';
import { useState } from 'preact/hooks';
import { seg } from '../api/client.ts';
import type { Duration, EventType, ListResponse } from '../api/types.ts';
import { Field, fieldError, Pager, usePager } from '../components/controls.tsx';
import { Dialog } from '../components/dialog.tsx';
import { formatDurations, parseDurations } from '../components/durations.ts';
import { Empty, ErrorNote, Loading } from '../components/feedback.tsx';
import { Page } from '../components/page.tsx';
import { useApi } from '../context.tsx';

const PAGE_SIZE = 50;
const typePath = (name: string) => `/api/v1/event-type/${seg(name)}`;

/** The dashboard's catalogue: every event type, archived ones too, made and changed here. */
export function EventTypesPage() {
  const [creating, setCreating] = useState(false);
  return (
    <Page title="Event types" actions={<button type="button" class="btn btn-primary" onClick={() => setCreating(true)}>Create event type</button>}>
      <EventTypeList editable />
      {creating ? <EventTypeDialog onClose={() => setCreating(false)} /> : null}
    </Page>
  );
}

/**
 * The catalogue as cards: name, description, badges, schema and example. `editable` (the
 * dashboard) adds archived types, the retry schedule and the controls; the portal reads the rest.
 */
export function EventTypeList({ editable = false }: { editable?: boolean }) {
  const api = useApi();
  const pager = usePager();
  const list = useQuery({
    queryKey: ['event-types', 'full', editable, pager.iterator],
    queryFn: () => api.get<ListResponse<EventType>>('/api/v1/event-type', { include_archived: editable, with_content: true, limit: PAGE_SIZE, iterator: pager.iterator }),
    placeholderData: (previous) => previous,
  });
  if (list.isPending) return <Loading />;
  if (list.isError) return <ErrorNote error={list.error} />;
  if (list.data.data.length === 0 && pager.page === 1) {
    return (
      <Empty title="No event types yet">
        <p class="muted">An event type names a kind of message (<code>invoice.paid</code>): endpoints subscribe to them, and a schema documents the payload.{editable ? ' Create the first with the button above.' : ''}</p>
      </Empty>
    );
  }
  return (
    <>
      <div class="type-list">
        {list.data.data.map((type) => <EventTypeCard key={type.name} type={type} editable={editable} />)}
      </div>
      <Pager pager={pager} done={list.data.done} nextIterator={list.data.iterator} />
    </>
  );
}

/** The newest schema version's example: the catalogue's (its own, or one Herald made from it). */
export function exampleOf(type: EventType): unknown {
  const versions = Object.keys(type.schemas ?? {}).sort((a, b) => Number(b) - Number(a) || b.localeCompare(a));
  if (versions[0] && type.examples && versions[0] in type.examples) return type.examples[versions[0]];
  const newest = versions[0] ? (type.schemas![versions[0]] as { examples?: unknown[] }) : null;
  return Array.isArray(newest?.examples) && newest.examples.length > 0 ? newest.examples[0] : undefined;
}

function EventTypeCard({ type, editable }: { type: EventType; editable: boolean }) {
  const api = useApi();
  const queries = useQueryClient();
  const [dialog, setDialog] = useState<'edit' | 'retries' | null>(null);
  const archive = useAction({
    mutationFn: async () => {
      if (type.archived) await api.patch<EventType>(typePath(type.name), { archived: false });
      else await api.delete(typePath(type.name));
    },
    onSuccess: () => queries.invalidateQueries({ queryKey: ['event-types'] }),
  });
  const example = exampleOf(type);
  const hasSchema = type.schemas && Object.keys(type.schemas).length > 0;
  return (
    <article class={`card type-card${type.archived ? ' archived' : ''}`} aria-label={type.name} data-event-type={type.name}>
      <div class="card-head">
        <div>
          <h2 class="mono">{type.name}</h2>
          <div class="row">
            {type.archived ? <span class="badge">archived</span> : null}
            {type.deprecated ? <span class="badge badge-warn">deprecated</span> : null}
            {type.schemaValidation ? <span class="badge" title="Schema validation">schema: {type.schemaValidation}</span> : null}
          </div>
        </div>
        {editable ? (
          <div class="page-actions">
            <button type="button" class="btn btn-small" aria-label={`Edit ${type.name}`} onClick={() => setDialog('edit')}>Edit</button>
            <button type="button" class="btn btn-small" aria-label={`Retry schedule of ${type.name}`} onClick={() => setDialog('retries')}>Retry schedule</button>
            <button type="button" class="btn btn-small" aria-label={`${type.archived ? 'Unarchive' : 'Archive'} ${type.name}`} disabled={archive.isPending} onClick={() => archive.mutate()}>{type.archived ? 'Unarchive' : 'Archive'}</button>
          </div>
        ) : null}
      </div>
      {archive.isError ? <ErrorNote error={archive.error} /> : null}
      <p>{type.description || <span class="muted">No description.</span>}</p>
      {editable ? <RetrySummary name={type.name} /> : null}
      {hasSchema ? (
        <details>
          <summary>Schema</summary>
          <pre class="code small">{JSON.stringify(type.schemas, null, 2)}</pre>
        </details>
      ) : null}
      {example !== undefined ? (
        <details open={!editable}>
          <summary>Example payload</summary>
          <pre class="code small" data-testid="example">{JSON.stringify(example, null, 2)}</pre>
        </details>
      ) : null}
      {dialog === 'edit' ? <EventTypeDialog type={type} onClose={() => setDialog(null)} /> : null}
      {dialog === 'retries' ? <RetryScheduleDialog name={type.name} onClose={() => setDialog(null)} /> : null}
    </article>
  );
}

const useRetrySchedule = (name: string) => {
  const api = useApi();
  return useQuery({
    queryKey: ['retry-schedule', name],
    queryFn: () => api.get<{ retrySchedule: Duration[] | null }>(`${typePath(name)}/retry-schedule`),
  });
};

function RetrySummary({ name }: { name: string }) {
  const schedule = useRetrySchedule(name);
  const value = schedule.data?.retrySchedule;
  return (
    <p class="small" data-testid="retry-schedule">
      <span class="muted">Retries: </span>
      {schedule.isPending ? '…' : value === null || value === undefined ? <span class="muted">Herald's default</span> : value.length === 0 ? 'none' : <span class="mono">{formatDurations(value)}</span>}
    </p>
  );
}

/** The delays between attempts of this type's messages, for endpoints without their own. */
function RetryScheduleDialog({ name, onClose }: { name: string; onClose: () => void }) {
  const api = useApi();
  const queries = useQueryClient();
  const schedule = useRetrySchedule(name);
  const [text, setText] = useState<string | null>(null);
  const [useDefault, setUseDefault] = useState<boolean | null>(null);
  const current = schedule.data?.retrySchedule;
  const shownText = text ?? (current ? formatDurations(current) : '');
  const shownDefault = useDefault ?? (schedule.isSuccess && current === null);
  const parsed = parseDurations(shownText);
  const save = useAction({
    mutationFn: () => api.put<{ retrySchedule: Duration[] | null }>(`${typePath(name)}/retry-schedule`, { retrySchedule: shownDefault ? null : 'value' in parsed ? parsed.value : [] }),
    onSuccess: (saved) => {
      queries.setQueryData(['retry-schedule', name], saved);
      onClose();
    },
  });
  const invalid = !shownDefault && 'error' in parsed;
  return (
    <Dialog title={`Retry schedule of ${name}`} onClose={onClose}>
      <form onSubmit={(event) => { event.preventDefault(); if (!invalid) save.mutate(); }}>
        {schedule.isPending ? <Loading /> : null}
        {save.isError ? <ErrorNote error={save.error} /> : null}
        <label class="check">
          <input type="checkbox" name="default" checked={shownDefault} onChange={(event) => setUseDefault(event.currentTarget.checked)} />
          Use Herald's default schedule
        </label>
        <Field label="Delays" hint="After a failed attempt, wait the first delay, then the next… Comma-separated: 5s, 5m, 2h. Empty: no retries." error={invalid && 'error' in parsed ? parsed.error : fieldError(save.error, 'retrySchedule')}>
          <input name="retrySchedule" value={shownText} disabled={shownDefault} aria-invalid={invalid} onInput={(event) => setText(event.currentTarget.value)} placeholder="5s, 5m, 30m, 2h" />
        </Field>
        <footer class="dialog-foot">
          <button type="button" class="btn" onClick={onClose}>Cancel</button>
          <button type="submit" class="btn btn-primary" disabled={save.isPending || invalid}>Save</button>
        </footer>
      </form>
    </Dialog>
  );
}

/** Reads the schemas box: a JSON object of versions ("1", "2", …) to JSON Schemas. */
function parseSchemas(text: string): { value: Record<string, unknown> | null } | { error: string } {
  if (!text.trim()) return { value: null };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { error: `Not JSON: ${(error as Error).message}` };
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) return { error: 'Must be an object of versions, like {"1": {"type": "object", …}}' };
  for (const [version, schema] of Object.entries(value)) {
    if (!schema || typeof schema !== 'object' || Array.isArray(schema)) return { error: `Version "${version}" must be a JSON Schema object` };
  }
  return { value: value as Record<string, unknown> };
}

function EventTypeDialog({ type, onClose }: { type?: EventType; onClose: () => void }) {
  const api = useApi();
  const queries = useQueryClient();
  const [name, setName] = useState(type?.name ?? '');
  const [description, setDescription] = useState(type?.description ?? '');
  const [schemas, setSchemas] = useState(type?.schemas ? JSON.stringify(type.schemas, null, 2) : '');
  const [deprecated, setDeprecated] = useState(type?.deprecated ?? false);
  const [validation, setValidation] = useState<string>(type?.schemaValidation ?? '');
  const parsed = parseSchemas(schemas);
  const save = useAction({
    mutationFn: () => {
      const body = { description, schemas: 'value' in parsed ? parsed.value : null, deprecated, schemaValidation: validation || null };
      return type ? api.patch<EventType>(typePath(type.name), body) : api.post<EventType>('/api/v1/event-type', { name: name.trim(), ...body });
    },
    onSuccess: () => {
      void queries.invalidateQueries({ queryKey: ['event-types'] });
      onClose();
    },
  });
  const schemaError = 'error' in parsed ? parsed.error : fieldError(save.error, 'schemas');
  return (
    <Dialog title={type ? `Edit ${type.name}` : 'Create an event type'} onClose={onClose} wide>
      <form onSubmit={(event) => { event.preventDefault(); if (!('error' in parsed)) save.mutate(); }}>
        {save.isError && !fieldError(save.error, 'name') ? <ErrorNote error={save.error} /> : null}
        {type ? null : (
          <Field label="Name" hint="Letters, digits, - _ and dots, like invoice.paid." error={fieldError(save.error, 'name')}>
            <input name="name" required value={name} onInput={(event) => setName(event.currentTarget.value)} />
          </Field>
        )}
        <Field label="Description" error={fieldError(save.error, 'description')}>
          <input name="description" value={description} onInput={(event) => setDescription(event.currentTarget.value)} />
        </Field>
        <Field label="Schemas" hint={'JSON: versions to JSON Schemas, e.g. {"1": {"type": "object", "examples": [{"id": "inv_1"}]}}. Empty: none.'} error={schemaError}>
          <textarea name="schemas" rows={10} spellcheck={false} aria-invalid={'error' in parsed} value={schemas} onInput={(event) => setSchemas(event.currentTarget.value)} />
        </Field>
        <Field label="Schema validation" hint="How published payloads are checked against the newest schema, or the version a message asks for." error={fieldError(save.error, 'schemaValidation')}>
          <select name="schemaValidation" value={validation} onChange={(event) => setValidation(event.currentTarget.value)}>
            <option value="">Server default (HERALD_SCHEMA_VALIDATION)</option>
            <option value="warn">Warn: accept, and record what is wrong on the message</option>
            <option value="enforce">Enforce: refuse with 422</option>
            <option value="off">Off: check nothing</option>
          </select>
        </Field>
        <label class="check">
          <input type="checkbox" name="deprecated" checked={deprecated} onChange={(event) => setDeprecated(event.currentTarget.checked)} />
          Deprecated (still sent; marked so that receivers move off it)
        </label>
        <footer class="dialog-foot">
          <button type="button" class="btn" onClick={onClose}>Cancel</button>
          <button type="submit" class="btn btn-primary" disabled={save.isPending || 'error' in parsed}>{type ? 'Save' : 'Create'}</button>
        </footer>
      </form>
    </Dialog>
  );
}
