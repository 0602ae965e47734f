import { Route, Router } from 'preact-iso';
import { Todo } from './components/feedback.tsx';
import { Page } from './components/page.tsx';
import { ApplicationsPage } from './pages/applications.tsx';
import { ApplicationPage } from './pages/application.tsx';
import { EndpointPage } from './pages/endpoint.tsx';
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
      <Route path={`${DASHBOARD}/apps/:appId/:tab?`} component={ApplicationPage} />
      <Route path={`${DASHBOARD}/event-types`} component={EventTypesPage} />
      <Route path={`${DASHBOARD}/sources`} component={SourcesPage} />
      <Route path={`${DASHBOARD}/bins`} component={BinsPage} />
      <Route default component={NotFound} />
    </Router>
  );
}

// Placeholders until their pages are built.
const EventTypesPage = () => <Page title="Event types"><Todo what="Event types" /></Page>;
const SourcesPage = () => <Page title="Sources"><Todo what="Sources" /></Page>;
const BinsPage = () => <Page title="Bins"><Todo what="Bins" /></Page>;

function NotFound() {
  return (
    <Page title="Not found">
      <p>There is no page at this address. <a href={`${DASHBOARD}/`}>Go to the applications</a>.</p>
    </Page>
  );
}
