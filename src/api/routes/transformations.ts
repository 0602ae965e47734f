import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { sharedRunner } from '../../delivery/transformation-runner.ts';
import { JSON_TYPE, transform } from '../../delivery/transformation.ts';
import { type ApiContext, APP_SCOPE, findEndpoint, type OwnerScope } from '../context.ts';
import { HttpError, invalid } from '../errors.ts';
import { EndpointPath } from '../schemas.ts';
import { iso } from '../views.ts';
import { withSecrets } from '../../store/encrypted-store.ts';

// Svix's bounds on transformation code.
const Code = Type.String({ minLength: 10, maxLength: 51200 });
const Variables = Type.Optional(Type.Union([Type.Record(Type.String(), Type.String()), Type.Null()]));
const EndpointTransformationPatch = Type.Object({
  code: Type.Optional(Type.Union([Code, Type.Null()])),
  enabled: Type.Optional(Type.Boolean()),
  variables: Variables,
});
const TransformationSimulateIn = Type.Object({
  code: Code,
  eventType: Type.String({ minLength: 1, maxLength: 256, pattern: '^[a-zA-Z0-9\\-_.]+$' }),
  channels: Type.Optional(Type.Union([Type.Array(Type.String({ maxLength: 128 })), Type.Null()])),
  payload: Type.Record(Type.String(), Type.Unknown()),
  variables: Variables,
});

/** Svix has transformation variables; Herald does not keep them yet, and says so rather than dropping them. */
function refuseVariables(variables: Record<string, string> | null | undefined): void {
  if (variables && Object.keys(variables).length > 0) {
    throw invalid(['body', 'variables'], 'transformation variables are not supported by Herald; put the values in the code');
  }
}

/**
 * Svix's endpoint transformation routes: read and change an endpoint's code and whether it runs,
 * and simulate it on a payload. Under an application (portal tokens need ManageTransformations,
 * even to read: the code may name internal URLs) and, with the same handlers, under a source.
 */
export function transformationRoutes(server: FastifyInstance, ctx: ApiContext, scope: OwnerScope = APP_SCOPE): void {
  const app = server.withTypeProvider<TypeBoxTypeProvider>();
  const base = `${scope.base}/endpoint/:endpointId/transformation`;
  const access = scope.access('ManageTransformations');
  const load = async (params: { appId: string; endpointId: string }) => {
    const application = await scope.find(ctx, params.appId);
    return { application, endpoint: await findEndpoint(ctx, application, params.endpointId) };
  };

  app.get(base, { config: { access }, schema: { params: EndpointPath } }, async (request) => {
    const { transformation } = (await load(request.params)).endpoint;
    return { code: transformation?.code ?? null, enabled: transformation?.enabled ?? false, updatedAt: transformation?.updatedAt == null ? null : iso(transformation.updatedAt) };
  });

  // Absent leaves a field as it is; `code: null` removes the code (and with it, the transformation).
  app.patch(base, { config: { access }, schema: { params: EndpointPath, body: EndpointTransformationPatch } }, async (request, reply) => {
    const { application, endpoint } = await load(request.params);
    const body = request.body;
    refuseVariables(body.variables);
    const code = body.code === undefined ? endpoint.transformation?.code ?? null : body.code;
    const enabled = body.code === null ? false : body.enabled ?? endpoint.transformation?.enabled ?? false;
    if (enabled && code === null) throw invalid(['body', 'enabled'], 'a transformation needs code before it can be enabled');
    if (body.code) {
      // Compiled now, so code that could never run is refused here rather than failing every delivery.
      const why = await sharedRunner().check(body.code);
      if (why) throw invalid(['body', 'code'], `cannot run: ${why}`);
    }
    await ctx.store.endpoints.setTransformation(application.id, endpoint.id, { code, enabled, updatedAt: ctx.clock.now() });
    return reply.code(204).send();
  });

  // Runs the code on the payload as a delivery to this endpoint would, and shows the request that
  // would go out (Svix's TransformationSimulateOut, with Herald's `headers` and `contentType`), or
  // why there would be none. Herald's signature headers are added at send time, over these bytes.
  app.post(`${base}/simulate`, { config: { access }, schema: { params: EndpointPath, body: TransformationSimulateIn } }, async (request) => {
    const { endpoint } = await load(request.params);
    const body = request.body;
    refuseVariables(body.variables);
    const outcome = await transform(sharedRunner(), null, body.code, {
      method: 'POST',
      url: endpoint.url,
      headers: withSecrets(endpoint).headers,
      eventType: body.eventType,
      contentType: JSON_TYPE,
      payload: Buffer.from(JSON.stringify(body.payload)),
      payloadIsJson: true,
    });
    if (outcome.kind === 'failed') throw new HttpError(400, 'transformation_failed', `The transformation failed: ${outcome.reason}`);
    if (outcome.kind === 'cancel') return { cancel: true, method: null, url: endpoint.url, payload: '', headers: {}, contentType: null };
    const headers = outcome.contentType === null ? outcome.headers : { ...outcome.headers, 'content-type': outcome.contentType };
    return { cancel: false, method: outcome.method, url: outcome.url, payload: Buffer.from(outcome.body).toString('utf8'), headers, contentType: outcome.contentType };
  });
}
