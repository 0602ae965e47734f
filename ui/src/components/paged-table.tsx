import { useQuery } from '@tanstack/preact-query';
import type { ComponentChildren, JSX } from 'preact';
import type { ListResponse } from '../api/types.ts';
import { useApi } from '../context.tsx';
import { Pager, usePager } from './controls.tsx';
import { Empty, ErrorNote, Loading } from './feedback.tsx';

export interface PagedTableProps<T> {
  /** The list's query key; the page's iterator is added to it. */
  queryKey: readonly unknown[];
  /** A Svix list route, paged with `iterator` and `limit`. */
  path: string;
  params?: Record<string, string | number | boolean | undefined>;
  /** What a first page without items shows: the next step for a new user. */
  empty: { title: string; children: ComponentChildren };
  /** Above the table once there are items (a note, the create button). */
  toolbar?: ComponentChildren;
  /** The header row's cells. */
  head: ComponentChildren;
  row: (item: T) => JSX.Element;
}

/**
 * A Svix list as a table, a page at a time (Previous / Next over the iterators), with the loading,
 * error and empty states every list page has. The previous page stays on screen while the next loads.
 */
export function PagedTable<T>({ queryKey, path, params, empty, toolbar, head, row }: PagedTableProps<T>) {
  const api = useApi();
  const pager = usePager();
  const list = useQuery({
    queryKey: [...queryKey, pager.iterator],
    queryFn: () => api.get<ListResponse<T>>(path, { limit: 50, ...params, iterator: pager.iterator }),
    placeholderData: (previous) => previous,
  });
  if (list.isPending) return <Loading />;
  if (list.isError) return <ErrorNote error={list.error} />;
  if (list.data.data.length === 0 && pager.page === 1) return <Empty title={empty.title}>{empty.children}</Empty>;
  return (
    <>
      {toolbar}
      <div class="table-wrap">
        <table>
          <thead><tr>{head}</tr></thead>
          <tbody>{list.data.data.map(row)}</tbody>
        </table>
      </div>
      <Pager pager={pager} done={list.data.done} nextIterator={list.data.iterator} />
    </>
  );
}
