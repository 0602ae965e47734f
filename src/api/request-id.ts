import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

const GIVEN_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * A request's id: the caller's `x-request-id` when it is a plain token (so one id follows a request
 * from a proxy into these logs), else a new UUID. Fastify puts it on every line the request logs,
 * and the API answers with it in `x-request-id`.
 */
export function requestId(request: IncomingMessage): string {
  const given = request.headers['x-request-id'];
  return typeof given === 'string' && GIVEN_ID.test(given) ? given : randomUUID();
}
