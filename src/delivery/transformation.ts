import { type Json, toFormData, toXml, withQuery, XmlShapeError } from '../core/body-formats.ts';
import { refusedHeaderName, refusedHeaderValue } from './custom-headers.ts';
import type { SandboxOutcome } from './transformation-sandbox.ts';

/**
 * What a transformation sees and what it may make of a delivery, as Svix defines it
 * (`function handler(webhook)` returning the webhook) with Herald's additions: `headers`,
 * `contentType` (JSON, form data or XML, which Herald serialises), GET (the payload goes in the
 * query) and a string payload sent as it is. This module turns a delivery into the webhook's JSON
 * and the handler's answer back into a request, refusing anything Herald would not send; the
 * sandbox (transformation-sandbox.ts) runs the code in between.
 */

export const TRANSFORMATION_METHODS = ['POST', 'PUT', 'PATCH', 'GET'] as const;
export const JSON_TYPE = 'application/json';
export const FORM_TYPE = 'application/x-www-form-urlencoded';
export const XML_TYPE = 'application/xml';

/** The request as Herald would send it untransformed, less its signature. */
export interface WebhookIn {
  method: string;
  url: string;
  /** The endpoint's custom headers (and for a source's request, the provider's forwarded ones). */
  headers: Record<string, string>;
  eventType: string;
  contentType: string;
  /** The payload's bytes: parsed as JSON for the handler when `contentType` is JSON, else given as a string. */
  payload: Uint8Array;
  /** Set when the payload is known to be JSON (a published message's, checked at publish), so it is not parsed again. */
  payloadIsJson?: boolean;
}

/** What a transformation made of a delivery. */
export type Transformed =
  | { kind: 'send'; method: string; url: string; headers: Record<string, string>; contentType: string | null; body: Uint8Array }
  | { kind: 'cancel' }
  | { kind: 'failed'; reason: string };

const EMPTY = new Uint8Array(0);
const MEDIA_TYPE = /^[A-Za-z0-9!#$&^_.+-]+\/[A-Za-z0-9!#$&^_.+-]+(\s*;[\t\x20-\x7e]*)?$/;
const essence = (contentType: string) => contentType.split(';', 1)[0]!.trim().toLowerCase();
const isJsonType = (contentType: string) => /^application\/([a-z0-9.+-]*\+)?json$/.test(essence(contentType));

/**
 * The webhook's JSON as the handler receives it. A JSON payload goes in as its own text (it is
 * valid JSON already: a published message's payload is checked at publish), so the host never
 * parses and re-serialises it on the way in.
 */
export function webhookJson(webhook: WebhookIn): string {
  return webhookInput(webhook).json;
}

/** The webhook's JSON, and the payload's text when it went in as JSON (null when as a string). */
function webhookInput(webhook: WebhookIn): { json: string; payloadJson: string | null } {
  const text = Buffer.from(webhook.payload.buffer, webhook.payload.byteOffset, webhook.payload.byteLength).toString('utf8');
  let payloadJson: string | null = null;
  if (webhook.payloadIsJson) {
    payloadJson = text;
  } else if (isJsonType(webhook.contentType) && text.length > 0) {
    try {
      JSON.parse(text); // a source may have received anything; published messages always pass
      payloadJson = text;
    } catch {
      // Not JSON after all: the handler gets the text.
    }
  }
  const json = `{"method":${JSON.stringify(webhook.method)},"url":${JSON.stringify(webhook.url)},"headers":${JSON.stringify(webhook.headers)},`
    + `"eventType":${JSON.stringify(webhook.eventType)},"contentType":${JSON.stringify(webhook.contentType)},"payload":${payloadJson ?? JSON.stringify(text)}}`;
  return { json, payloadJson };
}

type SourceReviver = (this: unknown, key: string, value: unknown, context: { source?: string }) => unknown;

/** Whether a JSON number's text names a value a JavaScript number cannot hold: past 2^53 and not exact, out of range, or too small but not zero. */
function inexact(source: string): boolean {
  const value = Number(source);
  if (!Number.isFinite(value)) return true;
  if (/^-?\d+$/.test(source)) return BigInt(source) !== BigInt(value);
  return value === 0 && /[1-9]/.test(source.split(/[eE]/)[0]!);
}

/**
 * What becomes of the payload the handler saw as JSON (`original`) and returned (`returned`):
 * unchanged, it goes out as the published bytes, so a number JavaScript cannot hold exactly
 * arrives as sent; changed, such a number would go out changed, so the attempt fails naming it.
 */
function payloadFate(original: string, returned: unknown): { unchanged: boolean; inexact: string | null } {
  let first: string | null = null;
  // JSON.parse hands a reviver each primitive's source text (Node 21+): the one way to see a
  // number as written once parsed.
  const parsed = (JSON.parse as (text: string, reviver: SourceReviver) => unknown)(original, function (_key, value, context) {
    if (first === null && typeof value === 'number' && context.source !== undefined && inexact(context.source)) first = context.source;
    return value;
  });
  return { unchanged: JSON.stringify(parsed) === JSON.stringify(returned), inexact: first };
}

const failed = (reason: string): Transformed => ({ kind: 'failed', reason });
const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

/**
 * Turns the handler's answer (the JSON of the webhook it returned) into the request to send;
 * `payloadJson` is the payload's text when the handler got it as JSON.
 */
export function requestOf(output: string, payloadJson: string | null = null): Transformed {
  let webhook: unknown;
  try {
    webhook = JSON.parse(output);
  } catch {
    return failed('handler must return the webhook object');
  }
  if (!isObject(webhook)) return failed(`handler must return the webhook object, not ${Array.isArray(webhook) ? 'an array' : webhook === null ? 'null' : typeof webhook}`);
  const { cancel, method, url, headers, contentType, payload } = webhook;
  if (cancel !== undefined && typeof cancel !== 'boolean') return failed('webhook.cancel must be true or false');
  if (cancel === true) return { kind: 'cancel' };

  if (typeof method !== 'string' || !(TRANSFORMATION_METHODS as readonly string[]).includes(method.toUpperCase())) {
    return failed(`webhook.method must be one of ${TRANSFORMATION_METHODS.join(', ')}`);
  }
  const verb = method.toUpperCase();
  if (typeof url !== 'string') return failed('webhook.url must be a string');
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return failed(`webhook.url is not a valid URL: ${url.slice(0, 200)}`);
  }
  if (target.protocol !== 'http:' && target.protocol !== 'https:') return failed('webhook.url must be an http or https URL');

  if (!isObject(headers)) return failed('webhook.headers must be an object of header names to string values');
  const sent: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (typeof value !== 'string') return failed(`webhook.headers["${name}"] must be a string`);
    const why = refusedHeaderName(name) ?? refusedHeaderValue(value);
    if (why) return failed(`webhook.headers["${name}"] ${why}`);
    sent[name] = value;
  }

  if (contentType !== undefined && contentType !== null && (typeof contentType !== 'string' || !MEDIA_TYPE.test(contentType))) {
    return failed('webhook.contentType must be a media type such as application/json');
  }
  const type = (contentType as string | null | undefined) ?? JSON_TYPE;
  if (payload === undefined) return failed('webhook.payload is missing');
  const fate = payloadJson === null || typeof payload === 'string' ? null : payloadFate(payloadJson, payload);
  if (fate?.unchanged && verb !== 'GET' && isJsonType(type)) {
    return { kind: 'send', method: verb, url: target.toString(), headers: sent, contentType: type, body: Buffer.from(payloadJson!) };
  }
  if (fate?.inexact) {
    return failed(`the payload holds the number ${fate.inexact.slice(0, 40)}, which JavaScript cannot hold exactly: sent from webhook.payload it would arrive changed. `
      + 'Leave webhook.payload as it came as JSON (its bytes are then sent as published), or have such numbers published as strings');
  }

  if (verb === 'GET') {
    if (payload !== null && !isObject(payload)) return failed('a GET sends its payload as query parameters: webhook.payload must be an object');
    return { kind: 'send', method: verb, url: payload === null ? target.toString() : withQuery(target.toString(), payload as { [key: string]: Json }), headers: sent, contentType: null, body: EMPTY };
  }
  const send = (body: string, as: string): Transformed => ({ kind: 'send', method: verb, url: target.toString(), headers: sent, contentType: as, body: Buffer.from(body) });
  // A string is the body itself, whatever the content type says it is.
  if (typeof payload === 'string') return send(payload, type);
  switch (essence(type)) {
    case FORM_TYPE:
      if (!isObject(payload)) return failed('form data is made of an object: webhook.payload must be an object');
      return send(toFormData(payload as { [key: string]: Json }), type);
    case XML_TYPE:
    case 'text/xml':
      if (!isObject(payload)) return failed('XML is made of an object: webhook.payload must be an object');
      try {
        return send(toXml(payload as { [key: string]: Json }), type);
      } catch (error) {
        if (error instanceof XmlShapeError) return failed(`webhook.payload cannot be sent as XML: ${error.message}`);
        throw error;
      }
    default:
      if (!isJsonType(type)) return failed(`an object payload is sent as JSON, form data or XML, not ${essence(type)}: make it a string to send it as it is`);
      return send(JSON.stringify(payload), type);
  }
}

/** Runs an endpoint's code on a delivery, in the worker's runner or a sandbox at hand: what its outcome comes to. */
export async function transform(
  sandbox: { run(key: string | null, code: string, input: string): SandboxOutcome | Promise<SandboxOutcome> }, key: string | null, code: string, webhook: WebhookIn,
): Promise<Transformed> {
  const input = webhookInput(webhook);
  const outcome = await sandbox.run(key, code, input.json);
  if (!outcome.ok) return failed(outcome.detail);
  return requestOf(outcome.output, input.payloadJson);
}
