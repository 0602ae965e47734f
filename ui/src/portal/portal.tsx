import { useQuery } from '@tanstack/preact-query';
import { useEffect, useMemo } from 'preact/hooks';
import { Route, Router } from 'preact-iso';
import { type Api, seg } from '../api/client.ts';
import type { Whoami } from '../api/types.ts';
import { ErrorNote, Loading } from '../components/feedback.tsx';
import { type Abilities, AppScopeContext, type AppScope, type Capability, UiContext, useAppScope, useSessionToken } from '../context.tsx';
import { AppView, useApplication } from '../pages/app-view.tsx';
import { EndpointView } from '../pages/endpoint.tsx';
import { MessageView } from '../pages/message.tsx';
import { PORTAL, type Session } from '../session.ts';
import { applyTheme } from '../theme.ts';
import { applyAccent, brandingFrom } from './branding.ts';

const UNKNOWN: Abilities = { known: false, can: () => false };

/**
 * One application's portal, for its owner: its endpoints, messages, activity and the event-type
 * catalogue, under a token limited to that application. The API enforces the token's scope; the
 * portal also hides what the token's capabilities (from whoami) would refuse.
 */
export function PortalApp({ session, api, appId }: { session: Session; api: Api; appId: string }) {
  const token = useSessionToken(session);
  const whoami = useQuery({
    queryKey: ['whoami'],
    queryFn: () => api.get<Whoami>('/api/v1/auth/whoami'),
    enabled: Boolean(token),
    staleTime: Infinity,
  });
  const abilities = useMemo<Abilities>(() => {
    if (!whoami.data) return UNKNOWN;
    if (whoami.data.kind === 'admin') return { known: true, can: () => true };
    const held = new Set(whoami.data.capabilities ?? []);
    return { known: true, can: (capability: Capability) => held.has(capability) };
  }, [whoami.data]);

  if (!token) {
    return (
      <main id="main" class="sign-in">
        <div class="card sign-in-card">
          <h1>Portal link needed</h1>
          <p role="alert">{session.notice ?? 'This page opens from a portal link, which carries its access in the address. Open the link you were given again, or ask for a new one.'}</p>
        </div>
      </main>
    );
  }
  return (
    <UiContext.Provider value={{ api, session, abilities }}>
      <PortalFrame appId={appId} abilities={abilities} error={whoami.error} />
    </UiContext.Provider>
  );
}

function PortalFrame({ appId, abilities, error }: { appId: string; abilities: Abilities; error: unknown }) {
  const app = useApplication(appId);
  const branding = useMemo(() => brandingFrom(location.search, appId, app.data?.metadata), [appId, app.data?.metadata]);
  useEffect(() => {
    if (branding.theme) applyTheme(branding.theme, false);
    if (branding.color) applyAccent(branding.color);
  }, [branding]);
  const scope: AppScope = { appId, base: `${PORTAL}/${seg(appId)}`, portal: true };
  const name = branding.name ?? app.data?.name ?? '';
  return (
    <>
      <header class="topbar">
        <a class="brand" href={scope.base}>
          {branding.logo ? <img src={branding.logo} alt="" /> : null}
          <span>{name}</span>
        </a>
        <span class="muted small topbar-end">Webhooks</span>
      </header>
      <main id="main" tabIndex={-1} data-abilities={abilities.known ? 'known' : 'pending'}>
        {error ? <ErrorNote error={error} /> : !abilities.known ? <Loading /> : (
          <AppScopeContext.Provider value={scope}>
            <Router>
              <Route path={`${PORTAL}/:appId/endpoints/:endpointId`} component={PortalEndpoint} />
              <Route path={`${PORTAL}/:appId/messages/:msgId`} component={PortalMessage} />
              <Route path={`${PORTAL}/:appId/:tab?`} component={PortalTab} />
            </Router>
          </AppScopeContext.Provider>
        )}
      </main>
    </>
  );
}

// Route components live at module level: one made inline would be new at each render, and remount.
const PortalEndpoint = ({ endpointId }: { endpointId: string }) => <EndpointView endpointId={endpointId} />;
const PortalMessage = ({ msgId }: { msgId: string }) => <MessageView msgId={msgId} />;

function PortalTab({ tab }: { tab?: string }) {
  return <AppView scope={useAppScope()} tab={tab} />;
}
