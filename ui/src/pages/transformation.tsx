import { useQuery, useQueryClient } from '@tanstack/preact-query';
import { useState } from 'preact/hooks';
import { useAction } from '../api/action.ts';
import type { Endpoint } from '../api/types.ts';
import { Field, fieldError } from '../components/controls.tsx';
import { ErrorNote, Loading } from '../components/feedback.tsx';
import { dateTime } from '../components/format.ts';
import { useApi, useAppScope } from '../context.tsx';
import { endpointPath } from './endpoints.tsx';
import { useEventTypes } from './event-catalogue.tsx';

interface TransformationOut {
  code: string | null;
  enabled: boolean;
  updatedAt: string | null;
}

interface SimulateOut {
  cancel: boolean;
  method: string | null;
  url: string;
  payload: string;
  headers?: Record<string, string>;
  contentType?: string | null;
}

const TEMPLATE = `function handler(webhook) {
  // webhook.method, .url, .headers, .eventType, .contentType, .payload; set webhook.cancel = true to skip.
  return webhook;
}`;

/**
 * The endpoint's transformation (Svix's): the code in an editor, whether it runs, and Simulate,
 * which shows the request a payload would make beside the payload itself. Shown only to those
 * with ManageTransformations (every admin; a portal token given it).
 */
export function TransformationCard({ endpoint }: { endpoint: Endpoint }) {
  const api = useApi();
  const scope = useAppScope();
  const queries = useQueryClient();
  const path = `${endpointPath(scope.appId, endpoint.id)}/transformation`;
  const key = ['transformation', scope.appId, endpoint.id];
  const current = useQuery({ queryKey: key, queryFn: () => api.get<TransformationOut>(path) });
  const [code, setCode] = useState<string | null>(null);
  const [enabled, setEnabled] = useState<boolean | null>(null);
  const shownCode = code ?? current.data?.code ?? TEMPLATE;
  const shownEnabled = enabled ?? current.data?.enabled ?? false;
  const save = useAction({
    mutationFn: () => api.patch<void>(path, { code: shownCode, enabled: shownEnabled }),
    onSuccess: async () => {
      setCode(null);
      setEnabled(null);
      await queries.invalidateQueries({ queryKey: key });
    },
  });
  if (current.isPending) return <div class="card"><h2>Transformation</h2><Loading /></div>;
  if (current.isError) return <div class="card"><h2>Transformation</h2><ErrorNote error={current.error} /></div>;
  const changed = shownCode !== (current.data.code ?? TEMPLATE) || shownEnabled !== current.data.enabled;
  return (
    <div class="card" data-testid="transformation">
      <h2>Transformation</h2>
      <p class="muted small">
        JavaScript run on each delivery before it is sent: it may change the method, URL, headers and payload, send form data or XML,
        or cancel the delivery. {current.data.updatedAt ? `Saved ${dateTime(current.data.updatedAt)}.` : 'None saved yet.'}
      </p>
      <form onSubmit={(event) => { event.preventDefault(); save.mutate(); }}>
        <Field label="Code" error={fieldError(save.error, 'code')}>
          <textarea name="code" rows={12} spellcheck={false} value={shownCode} onInput={(event) => setCode(event.currentTarget.value)} />
        </Field>
        <label class="check">
          <input type="checkbox" name="enabled" checked={shownEnabled} onChange={(event) => setEnabled(event.currentTarget.checked)} /> Run it on every delivery
        </label>
        {save.isError && !fieldError(save.error, 'code') ? <ErrorNote error={save.error} /> : null}
        <div class="page-actions">
          <button type="submit" class="btn btn-primary" disabled={save.isPending || !changed}>Save transformation</button>
        </div>
      </form>
      <Simulate endpoint={endpoint} code={shownCode} />
    </div>
  );
}

/** Runs the code in the editor (saved or not) on a payload, and shows what would be sent beside what was given. */
function Simulate({ endpoint, code }: { endpoint: Endpoint; code: string }) {
  const api = useApi();
  const scope = useAppScope();
  const catalogue = useEventTypes();
  const names = endpoint.eventTypes?.length ? endpoint.eventTypes : (catalogue.data?.data.filter((type) => !type.archived).map((type) => type.name) ?? []);
  const [eventType, setEventType] = useState('');
  const [payload, setPayload] = useState('{\n  "id": "example"\n}');
  const chosen = eventType || names[0] || 'example.event';
  let parsed: { value: Record<string, unknown> } | { error: string };
  try {
    const value = JSON.parse(payload) as unknown;
    parsed = value !== null && typeof value === 'object' && !Array.isArray(value) ? { value: value as Record<string, unknown> } : { error: 'The payload must be a JSON object.' };
  } catch (error) {
    parsed = { error: `Not JSON: ${(error as Error).message}` };
  }
  const simulate = useAction({
    mutationFn: () => api.post<SimulateOut>(`${endpointPath(scope.appId, endpoint.id)}/transformation/simulate`, {
      code, eventType: chosen, payload: 'value' in parsed ? parsed.value : {},
    }),
  });
  const result = simulate.data;
  return (
    <form class="simulate" onSubmit={(event) => { event.preventDefault(); simulate.mutate(); }}>
      <h3>Simulate</h3>
      <Field label="Event type">
        <select name="simulateEventType" value={chosen} onChange={(event) => setEventType(event.currentTarget.value)}>
          {[...new Set([chosen, ...names])].map((name) => <option key={name} value={name}>{name}</option>)}
        </select>
      </Field>
      <Field label="Payload" error={'error' in parsed ? parsed.error : null}>
        <textarea name="simulatePayload" rows={5} spellcheck={false} value={payload} onInput={(event) => setPayload(event.currentTarget.value)} />
      </Field>
      <div class="page-actions">
        <button type="submit" class="btn" disabled={simulate.isPending || 'error' in parsed}>Simulate</button>
      </div>
      {simulate.isError ? <ErrorNote error={simulate.error} /> : null}
      {result ? (
        <div aria-live="polite" data-testid="simulation">
          {result.cancel ? <p>The delivery would be <strong>canceled</strong>: nothing is sent.</p> : (
            <>
              <dl class="details">
                <dt>Request</dt><dd class="mono">{result.method} {result.url}</dd>
                {Object.entries(result.headers ?? {}).map(([name, value]) => <><dt class="mono">{name}</dt><dd class="mono">{value}</dd></>)}
              </dl>
              <div class="grid-2">
                <div><h4>Payload given</h4><pre class="code">{JSON.stringify('value' in parsed ? parsed.value : {}, null, 2)}</pre></div>
                <div><h4>Body sent</h4><pre class="code" data-testid="simulated-body">{result.payload || '(no body)'}</pre></div>
              </div>
            </>
          )}
        </div>
      ) : null}
    </form>
  );
}
