import { Route, Router } from 'preact-iso';
import { Page } from './components/page.tsx';
import { ApplicationsPage } from './pages/applications.tsx';
import { ApplicationPage } from './pages/application.tsx';
import { EndpointPage } from './pages/endpoint.tsx';
import { MessagePage } from './pages/message.tsx';
import { EventTypesPage } from './pages/event-types.tsx';
import { SourcePage, SourcesPage } from './pages/sources.tsx';
import { BinPage, BinsPage } from './pages/bins.tsx';
import { DASHBOARD } from './session.ts';

/**
 * Every dashboard page, by URL. An application's pages (endpoints, messages, activity) are shared
 * with the portal, which mounts them under /app-portal/{app}; see portal/portal.tsx.
 */
export function DashboardRoutes() {
  return (
    <Router>
      <Route path={`${DASHBOARD}/`} component={ApplicationsPage} />
      <Route path={`${DASHBOARD}/apps/:appId/endpoints/:endpointId`} component={EndpointPage} />
      <Route path={`${DASHBOARD}/apps/:appId/messages/:msgId`} component={MessagePage} />
      <Route path={`${DASHBOARD}/apps/:appId/:tab?`} component={ApplicationPage} />
      <Route path={`${DASHBOARD}/event-types`} component={EventTypesPage} />
      <Route path={`${DASHBOARD}/sources`} component={SourcesPage} />
      <Route path={`${DASHBOARD}/sources/:sourceId`} component={SourcePage} />
      <Route path={`${DASHBOARD}/bins`} component={BinsPage} />
      <Route path={`${DASHBOARD}/bins/:binId`} component={BinPage} />
      <Route default component={NotFound} />
    </Router>
  );
}

function NotFound() {
  return (
    <Page title="Not found">
      <p>There is no page at this address. <a href={`${DASHBOARD}/`}>Go to the applications</a>.</p>
    </Page>
  );
}
