import { useQuery } from '@tanstack/preact-query';
import type { EventType, ListResponse } from '../api/types.ts';
import { useApi } from '../context.tsx';
import { EventTypeList } from './event-types.tsx';

const PAGE = 250;
/** A bound on the pages read (50,000 event types), should a server never say it is done. */
const MAX_PAGES = 200;

/**
 * Every event type (name, description), for pickers: read 250 at a time, following the list's
 * iterator until the API says it is done, and given as one list.
 */
export const useEventTypes = () => {
  const api = useApi();
  return useQuery({
    queryKey: ['event-types', 'catalogue'],
    queryFn: async (): Promise<ListResponse<EventType>> => {
      const data: EventType[] = [];
      let iterator: string | null = null;
      for (let page = 0; page < MAX_PAGES; page++) {
        const got: ListResponse<EventType> = await api.get<ListResponse<EventType>>('/api/v1/event-type', { limit: PAGE, with_content: false, iterator });
        data.push(...got.data);
        if (got.done || !got.iterator || got.iterator === iterator) break;
        iterator = got.iterator;
      }
      return { data, iterator: null, prevIterator: null, done: true };
    },
    staleTime: 60_000,
  });
};

/** The read-only catalogue the portal shows: what an endpoint can subscribe to, and what it gets. */
export const EventTypeCatalogue = () => <EventTypeList />;
