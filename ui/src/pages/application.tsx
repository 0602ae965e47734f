import { Page } from '../components/page.tsx';
import { Todo } from '../components/feedback.tsx';

export function ApplicationPage({ appId }: { appId: string }) {
  return <Page title={appId}><Todo what="Application" /></Page>;
}
