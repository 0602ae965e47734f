import { seg } from '../api/client.ts';
import { DASHBOARD } from '../session.ts';
import { AppView } from './app-view.tsx';

export function ApplicationPage({ appId, tab }: { appId: string; tab?: string }) {
  return (
    <>
      <div class="breadcrumb"><a href={`${DASHBOARD}/`}>Applications</a></div>
      <AppView scope={{ appId, base: `${DASHBOARD}/apps/${seg(appId)}`, portal: false }} tab={tab} />
    </>
  );
}
