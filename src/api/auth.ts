import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { HttpError, sendError } from './errors.ts';

const PUBLIC_ROUTES = new Set(['/api/v1/health', '/api/v1/health/ping']);

const digest = (token: string) => createHash('sha256').update(token).digest();

/** Bearer-token check for every API route but health. Compares digests in constant time. */
export function bearerAuth(adminToken: string) {
  const expected = digest(adminToken);
  return async (request: FastifyRequest, reply: FastifyReply) => {
    if (PUBLIC_ROUTES.has(request.routeOptions.url ?? '')) return;
    const header = request.headers.authorization ?? '';
    const token = header.startsWith('Bearer ') ? header.slice(7).trim() : '';
    if (!token || !timingSafeEqual(digest(token), expected)) {
      return sendError(reply, new HttpError(401, 'authentication_failed', 'Missing or invalid token. Send Authorization: Bearer <token>.'));
    }
  };
}
