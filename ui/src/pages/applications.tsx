import { Page } from '../components/page.tsx';
import { Todo } from '../components/feedback.tsx';

export function ApplicationsPage() {
  return <Page title="Applications"><Todo what="Applications" /></Page>;
}
