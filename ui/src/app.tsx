import { QueryCache, QueryClient, QueryClientProvider } from '@tanstack/preact-query';
import { LocationProvider } from 'preact-iso';
import { useEffect, useMemo } from 'preact/hooks';
import { Api, ApiError } from './api/client.ts';
import { ADMIN_ABILITIES, UiContext, useSessionToken } from './context.tsx';
import { DashboardRoutes } from './routes.tsx';
import { PortalApp } from './portal/portal.tsx';
import { SignIn } from './pages/sign-in.tsx';
import { modeOf, Session } from './session.ts';
import { DashboardLayout } from './components/layout.tsx';

function makeQueryClient() {
  return new QueryClient({
    defaultOptions: {
      queries: {
        staleTime: 5_000,
        // A refusal (4xx) does not get better by asking again.
        retry: (count, error) => !(error instanceof ApiError && error.status >= 400 && error.status < 500) && count < 2,
        refetchOnWindowFocus: false,
      },
    },
    queryCache: new QueryCache(),
  });
}

/** The dashboard or, under /app-portal/{app}, one application's portal: the same build. */
export function App() {
  const session = useMemo(() => {
    const created = new Session(modeOf(location.pathname));
    created.adoptFragment();
    return created;
  }, []);
  useEffect(() => session.watchFragment(), [session]);
  const token = useSessionToken(session);
  // A new client per token: nothing one token read is shown to the next.
  const queries = useMemo(makeQueryClient, [token]);
  const api = useMemo(() => new Api(session), [session]);

  if (session.mode.kind === 'portal') {
    return (
      <QueryClientProvider client={queries}>
        <LocationProvider scope="/app-portal/">
          <PortalApp session={session} api={api} appId={session.mode.appId} />
        </LocationProvider>
      </QueryClientProvider>
    );
  }
  if (!token) return <SignIn session={session} />;
  return (
    <QueryClientProvider client={queries}>
      <UiContext.Provider value={{ api, session, abilities: ADMIN_ABILITIES }}>
        <LocationProvider scope="/dashboard/">
          <DashboardLayout>
            <DashboardRoutes />
          </DashboardLayout>
        </LocationProvider>
      </UiContext.Provider>
    </QueryClientProvider>
  );
}
