import { useQuery } from '@tanstack/preact-query';
import type { EventType, ListResponse } from '../api/types.ts';
import { useApi } from '../context.tsx';
import { EventTypeList } from './event-types.tsx';

/** Every event type (name, description), paged 250 at a time; for pickers and the portal. */
export const useEventTypes = () => {
  const api = useApi();
  return useQuery({
    queryKey: ['event-types', 'catalogue'],
    queryFn: () => api.get<ListResponse<EventType>>('/api/v1/event-type', { limit: 250, with_content: false }),
    staleTime: 60_000,
  });
};

/** The read-only catalogue the portal shows: what an endpoint can subscribe to, and what it gets. */
export const EventTypeCatalogue = () => <EventTypeList />;
