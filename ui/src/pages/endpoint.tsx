import { Page } from '../components/page.tsx';
import { Todo } from '../components/feedback.tsx';

export function EndpointPage({ endpointId }: { endpointId: string }) {
  return <Page title={endpointId}><Todo what="Endpoint" /></Page>;
}
