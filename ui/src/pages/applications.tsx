import { useQuery, useQueryClient } from '@tanstack/preact-query';
import { useAction } from '../api/action.ts';
import { useEffect, useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { seg } from '../api/client.ts';
import type { Application, ListResponse } from '../api/types.ts';
import { Field, fieldError, Pager, usePager } from '../components/controls.tsx';
import { Confirm, Dialog } from '../components/dialog.tsx';
import { Empty, ErrorNote, Loading } from '../components/feedback.tsx';
import { ago, dateTime } from '../components/format.ts';
import { Page } from '../components/page.tsx';
import { useApi } from '../context.tsx';
import { DASHBOARD } from '../session.ts';

const PAGE_SIZE = 50;

/** The list of applications: searched by name or uid on the server, paged by its iterator. */
export function ApplicationsPage() {
  const api = useApi();
  const { route } = useLocation();
  const [typed, setTyped] = useState('');
  const [search, setSearch] = useState('');
  const pager = usePager();
  const [dialog, setDialog] = useState<{ kind: 'create' } | { kind: 'edit' | 'delete'; app: Application } | null>(null);

  // Asks once typing pauses, not at every key.
  useEffect(() => {
    const timer = setTimeout(() => {
      setSearch(typed.trim());
      pager.reset();
    }, 250);
    return () => clearTimeout(timer);
  }, [typed]);

  const list = useQuery({
    queryKey: ['apps', search, pager.iterator],
    queryFn: () => api.get<ListResponse<Application>>('/api/v1/app', { search, with_stats: true, limit: PAGE_SIZE, iterator: pager.iterator }),
    placeholderData: (previous) => previous,
  });

  const apps = list.data?.data ?? [];
  const nothingYet = list.isSuccess && apps.length === 0 && search === '' && pager.page === 1;
  return (
    <Page title="Applications" actions={<button type="button" class="btn btn-primary" onClick={() => setDialog({ kind: 'create' })}>Create application</button>}>
      {nothingYet ? (
        <FirstSteps />
      ) : (
        <>
          <div class="toolbar" role="search">
            <label class="visually-hidden" for="app-search">Search applications</label>
            <input id="app-search" type="search" placeholder="Search by name or uid" value={typed} onInput={(event) => setTyped(event.currentTarget.value)} />
            {list.isFetching ? <span class="muted small" aria-live="polite">Loading…</span> : null}
          </div>
          {list.isError ? <ErrorNote error={list.error} /> : null}
          {list.isPending ? <Loading /> : (
            <div class="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col" class="minor">UID</th>
                    <th scope="col" class="minor">ID</th>
                    <th scope="col">Endpoints</th>
                    <th scope="col" class="minor">Last message</th>
                    <th scope="col"><span class="visually-hidden">Actions</span></th>
                  </tr>
                </thead>
                <tbody>
                  {apps.length === 0 ? (
                    <tr><td colSpan={6} class="muted">No application matches “{search}”.</td></tr>
                  ) : apps.map((app) => (
                    <tr key={app.id}>
                      <td class="cell-main"><a href={`${DASHBOARD}/apps/${seg(app.id)}`}>{app.name}</a></td>
                      <td class="mono minor">{app.uid ?? <span class="muted">—</span>}</td>
                      <td class="mono minor">{app.id}</td>
                      <td>{app.endpointCount ?? <span class="muted" title="This server does not count endpoints">—</span>}</td>
                      <td class="minor">{app.lastMessageAt ? <time dateTime={app.lastMessageAt} title={dateTime(app.lastMessageAt)}>{ago(app.lastMessageAt)}</time> : <span class="muted">—</span>}</td>
                      <td class="actions">
                        <button type="button" class="btn btn-small btn-ghost" aria-label={`Edit ${app.name}`} onClick={() => setDialog({ kind: 'edit', app })}>Edit</button>
                        <button type="button" class="btn btn-small btn-ghost" aria-label={`Delete ${app.name}`} onClick={() => setDialog({ kind: 'delete', app })}>Delete</button>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          {list.data ? <Pager pager={pager} done={list.data.done} nextIterator={list.data.iterator} /> : null}
        </>
      )}
      {dialog?.kind === 'create' ? (
        <ApplicationDialog onClose={() => setDialog(null)} onSaved={(app) => route(`${DASHBOARD}/apps/${seg(app.id)}`)} />
      ) : dialog?.kind === 'edit' ? (
        <ApplicationDialog app={dialog.app} onClose={() => setDialog(null)} onSaved={() => setDialog(null)} />
      ) : dialog?.kind === 'delete' ? (
        <DeleteApplication app={dialog.app} onClose={() => setDialog(null)} />
      ) : null}
    </Page>
  );
}

/** Create (no `app`) or edit an application's name and uid. */
export function ApplicationDialog({ app, onClose, onSaved }: { app?: Application; onClose: () => void; onSaved: (app: Application) => void }) {
  const api = useApi();
  const queries = useQueryClient();
  const [name, setName] = useState(app?.name ?? '');
  const [uid, setUid] = useState(app?.uid ?? '');
  const save = useAction({
    mutationFn: () => {
      const body = { name, uid: uid.trim() || null };
      return app ? api.patch<Application>(`/api/v1/app/${seg(app.id)}`, body) : api.post<Application>('/api/v1/app', body);
    },
    onSuccess: (saved) => {
      queries.invalidateQueries({ queryKey: ['apps'] });
      queries.setQueryData(['app', saved.id], saved);
      onSaved(saved);
    },
  });
  return (
    <Dialog title={app ? `Edit ${app.name}` : 'Create an application'} onClose={onClose}>
      <form onSubmit={(event) => { event.preventDefault(); save.mutate(); }}>
        {save.isError && !fieldError(save.error, 'name') && !fieldError(save.error, 'uid') ? <ErrorNote error={save.error} /> : null}
        <Field label="Name" error={fieldError(save.error, 'name')}>
          <input name="name" required value={name} onInput={(event) => setName(event.currentTarget.value)} />
        </Field>
        <Field label="UID" hint="Optional: your own id for it, usable wherever its id is (letters, digits, - _ .)." error={fieldError(save.error, 'uid')}>
          <input name="uid" value={uid} onInput={(event) => setUid(event.currentTarget.value)} />
        </Field>
        <footer class="dialog-foot">
          <button type="button" class="btn" onClick={onClose}>Cancel</button>
          <button type="submit" class="btn btn-primary" disabled={save.isPending}>{app ? 'Save' : 'Create'}</button>
        </footer>
      </form>
    </Dialog>
  );
}

export function DeleteApplication({ app, onClose, onDeleted }: { app: Application; onClose: () => void; onDeleted?: () => void }) {
  const api = useApi();
  const queries = useQueryClient();
  const remove = useAction({
    mutationFn: () => api.delete(`/api/v1/app/${seg(app.id)}`),
    onSuccess: () => {
      queries.invalidateQueries({ queryKey: ['apps'] });
      onClose();
      onDeleted?.();
    },
  });
  return (
    <Confirm title={`Delete ${app.name}?`} confirm="Delete application" busy={remove.isPending} error={remove.error} onConfirm={() => remove.mutate()} onClose={onClose}>
      <p>This deletes the application <strong>{app.name}</strong> ({app.uid ?? app.id}), its endpoints and its message log. It cannot be undone.</p>
    </Confirm>
  );
}

/** What a new user does next: the two API calls that make an application and send to it. */
function FirstSteps() {
  const origin = location.origin;
  return (
    <Empty title="No applications yet">
      <p class="muted">An application is one of your customers: it holds their endpoints and the messages sent to them. Create one with the button above, or from a terminal:</p>
      <pre class="code">{`TOKEN=<your admin token>
curl -s -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json" \\
  ${origin}/api/v1/app -d '{"name":"Acme","uid":"acme"}'
curl -s -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json" \\
  ${origin}/api/v1/app/acme/msg -d '{"eventType":"invoice.paid","payload":{"id":"inv_1"}}'`}</pre>
    </Empty>
  );
}
