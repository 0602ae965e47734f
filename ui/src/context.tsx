import { createContext } from 'preact';
import { useContext, useEffect, useState } from 'preact/hooks';
import type { Api } from './api/client.ts';
import type { Session } from './session.ts';

/** What the current token may do, in Svix's AppPortalCapability names. */
export interface Abilities {
  /** False until whoami answered; controls stay hidden meanwhile. */
  known: boolean;
  can(capability: Capability): boolean;
}

export type Capability = 'ViewBase' | 'ViewEndpointSecret' | 'ManageEndpointSecret' | 'ManageTransformations' | 'CreateAttempts' | 'ManageEndpoint';

export const ADMIN_ABILITIES: Abilities = { known: true, can: () => true };

/** Where an application's pages live: /dashboard/apps/{id} or /app-portal/{id}. */
export interface AppScope {
  appId: string;
  base: string;
  portal: boolean;
}

export interface Ui {
  api: Api;
  session: Session;
  abilities: Abilities;
}

export const UiContext = createContext<Ui | null>(null);
export const AppScopeContext = createContext<AppScope | null>(null);

export function useUi(): Ui {
  const ui = useContext(UiContext);
  if (!ui) throw new Error('useUi outside UiContext');
  return ui;
}

export const useApi = () => useUi().api;
export const useAbilities = () => useUi().abilities;

export function useAppScope(): AppScope {
  const scope = useContext(AppScopeContext);
  if (!scope) throw new Error('useAppScope outside an application page');
  return scope;
}

/** Re-renders when the session signs in or out. */
export function useSessionToken(session: Session): string | null {
  const [token, setToken] = useState(session.token);
  useEffect(() => session.subscribe(() => setToken(session.token)), [session]);
  return token;
}
