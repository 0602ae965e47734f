import type { Session } from '../session.ts';

export interface StreamEvent {
  id: string | null;
  event: string;
  data: string;
}

/**
 * Reads a server-sent event stream through fetch, since EventSource cannot send the bearer token.
 * Lines are parsed as the SSE spec says (`field: value`, a blank line ends an event, `:` starts a
 * comment); the last event id is kept and sent as Last-Event-ID when the stream is opened again
 * after a drop, so nothing is missed or shown twice. Returns a function that closes it.
 */
export function openStream(session: Session, path: string, handlers: {
  onEvent: (event: StreamEvent) => void;
  onState?: (state: 'open' | 'retrying' | 'closed') => void;
}): () => void {
  const controller = new AbortController();
  let lastId: string | null = null;
  let closed = false;

  async function connect(): Promise<void> {
    const headers: Record<string, string> = { accept: 'text/event-stream' };
    if (session.token) headers.authorization = `Bearer ${session.token}`;
    if (lastId) headers['last-event-id'] = lastId;
    const response = await fetch(path, { headers, signal: controller.signal });
    if (response.status === 401) {
      session.signOut('Herald refused the token. Sign in again with a valid admin token.');
      throw new Error('refused');
    }
    if (!response.ok || !response.body) throw new Error(`Herald answered ${response.status}`);
    handlers.onState?.('open');
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    let event: StreamEvent = { id: null, event: 'message', data: '' };
    let data: string[] = [];
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      const lines = buffer.split(/\r\n|\r|\n/);
      buffer = lines.pop() ?? '';
      for (const line of lines) {
        if (line === '') {
          if (data.length > 0) {
            event.data = data.join('\n');
            if (event.id !== null) lastId = event.id;
            handlers.onEvent(event);
          }
          event = { id: null, event: 'message', data: '' };
          data = [];
          continue;
        }
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon === -1 ? line : line.slice(0, colon);
        const fieldValue = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'data') data.push(fieldValue);
        else if (field === 'event') event.event = fieldValue;
        else if (field === 'id') event.id = fieldValue;
      }
    }
  }

  void (async () => {
    let delay = 500;
    while (!closed) {
      try {
        await connect();
        delay = 500;
      } catch (error) {
        if (closed || (error instanceof Error && error.message === 'refused')) break;
      }
      if (closed) break;
      handlers.onState?.('retrying');
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, 10_000);
    }
    handlers.onState?.('closed');
  })();

  return () => {
    closed = true;
    controller.abort();
  };
}
