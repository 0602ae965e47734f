import { useQuery } from '@tanstack/preact-query';
import type { EventType, ListResponse } from '../api/types.ts';
import { Empty, ErrorNote, Loading } from '../components/feedback.tsx';
import { useApi } from '../context.tsx';

/** Every event type (name, description), paged 250 at a time; for pickers and the portal. */
export const useEventTypes = () => {
  const api = useApi();
  return useQuery({
    queryKey: ['event-types', 'catalogue'],
    queryFn: () => api.get<ListResponse<EventType>>('/api/v1/event-type', { limit: 250, with_content: false }),
    staleTime: 60_000,
  });
};

/** The read-only catalogue the portal shows: what an endpoint can subscribe to. */
export function EventTypeCatalogue() {
  const types = useEventTypes();
  if (types.isPending) return <Loading />;
  if (types.isError) return <ErrorNote error={types.error} />;
  if (types.data.data.length === 0) return <Empty title="No event types yet"><p class="muted">Every event is sent to endpoints that subscribe to all of them.</p></Empty>;
  return (
    <div class="table-wrap">
      <table>
        <thead><tr><th scope="col">Event type</th><th scope="col">Description</th></tr></thead>
        <tbody>
          {types.data.data.map((type) => (
            <tr key={type.name}>
              <td class="mono">{type.name}{type.deprecated ? <span class="badge badge-warn"> deprecated</span> : null}</td>
              <td>{type.description}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
