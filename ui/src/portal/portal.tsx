import type { Api } from '../api/client.ts';
import type { Session } from '../session.ts';
import { Todo } from '../components/feedback.tsx';

export function PortalApp(_: { session: Session; api: Api; appId: string }) {
  return <main id="main"><Todo what="Portal" /></main>;
}
