import { useQuery } from '@tanstack/preact-query';
import { useAction } from '../api/action.ts';
import type { ComponentType } from 'preact';
import { seg } from '../api/client.ts';
import type { Application } from '../api/types.ts';
import { ErrorNote, Loading } from '../components/feedback.tsx';
import { StatsPanel } from '../components/stats-panel.tsx';
import { AppScopeContext, type AppScope, useApi } from '../context.tsx';
import { EndpointsTab } from './endpoints.tsx';
import { EventTypeCatalogue } from './event-catalogue.tsx';
import { MessagesTab } from './messages.tsx';

/** The whole application's deliveries over time. */
function ActivityTab() {
  return <StatsPanel />;
}

export interface AppTab {
  id: string;
  label: string;
  component: ComponentType;
  /** Shown where: the dashboard, the portal, or both. */
  where: 'both' | 'dashboard' | 'portal';
}

/**
 * An application's tabs, shared by the dashboard (/dashboard/apps/{app}/{tab}) and the portal
 * (/app-portal/{app}/{tab}); the first is the default. Add a tab here to have it in both.
 */
export const APP_TABS: AppTab[] = [
  { id: 'endpoints', label: 'Endpoints', component: EndpointsTab, where: 'both' },
  { id: 'messages', label: 'Messages', component: MessagesTab, where: 'both' },
  { id: 'activity', label: 'Activity', component: ActivityTab, where: 'both' },
  { id: 'event-types', label: 'Event types', component: EventTypeCatalogue, where: 'portal' },
];

export const useApplication = (appId: string) => {
  const api = useApi();
  return useQuery({ queryKey: ['app', appId], queryFn: () => api.get<Application>(`/api/v1/app/${seg(appId)}`) });
};

/** The head of an application's pages (name, ids, tabs) and the chosen tab. */
export function AppView({ scope, tab, title }: { scope: AppScope; tab: string | undefined; title?: string }) {
  const app = useApplication(scope.appId);
  const tabs = APP_TABS.filter((item) => item.where === 'both' || item.where === (scope.portal ? 'portal' : 'dashboard'));
  const current = tabs.find((item) => item.id === tab) ?? tabs[0]!;
  const Current = current.component;
  if (app.isPending) return <Loading />;
  if (app.isError) return <ErrorNote error={app.error} />;
  return (
    <AppScopeContext.Provider value={scope}>
      <section class="page">
        <div class="page-head">
          <div>
            <h1>{title ?? app.data.name}</h1>
            {scope.portal ? null : <div class="sub">{app.data.uid ? `${app.data.uid} · ` : ''}{app.data.id}</div>}
          </div>
        </div>
        <nav class="tabs" aria-label="Application">
          {tabs.map((item, index) => (
            <a key={item.id} href={index === 0 ? scope.base : `${scope.base}/${item.id}`} aria-current={item.id === current.id ? 'page' : undefined}>{item.label}</a>
          ))}
          {scope.portal ? null : <span class="tabs-end"><OpenPortal appId={app.data.id} /></span>}
        </nav>
        <Current />
      </section>
    </AppScopeContext.Provider>
  );
}

/** Mints a portal link for the application (a token in its fragment) and opens it in a new tab. */
function OpenPortal({ appId }: { appId: string }) {
  const api = useApi();
  const open = useAction({
    mutationFn: () => api.post<{ url: string; token: string }>(`/api/v1/auth/app-portal-access/${seg(appId)}`, {}),
    onSuccess: ({ url }) => {
      // Not through window.open's return value: noopener keeps the portal from reaching back here.
      const link = Object.assign(document.createElement('a'), { href: url, target: '_blank', rel: 'noopener noreferrer' });
      link.click();
    },
  });
  return (
    <span class="row">
      {open.isError ? <ErrorNote error={open.error} /> : null}
      <button type="button" class="btn btn-small" disabled={open.isPending} onClick={() => open.mutate()}>Open portal</button>
    </span>
  );
}
