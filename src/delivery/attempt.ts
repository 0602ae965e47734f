import type { Clock, Random } from '../core/clock.ts';
import type { IdGenerator } from '../core/ids.ts';
import { type Attempt, Status, type TransformedRequest, Trigger } from '../core/model.ts';
import { attemptNotices } from '../core/operational-events.ts';
import { isSuccess, nextStep, type NextStep, parseRetryAfter, type RetryPolicy } from '../core/retry-policy.ts';
import { type FlowSignal, MAX_PAUSE_MS, signalKind } from '../core/flow-control.ts';
import type { ClaimedDelivery, DeliveryNext, DeliveryResult } from '../store/store.ts';
import type { HttpSender, SendResult } from './http-sender.ts';
import { refusedHeaderName, refusedHeaderValue } from './custom-headers.ts';
import { deliveryHeaders, forwardedRequestHeaders } from './request-headers.ts';
import type { RetrySchedules } from './retry-schedules.ts';
import { JSON_TYPE, transform, type WebhookIn } from './transformation.ts';
import { sharedRunner, type TransformationRunner } from './transformation-runner.ts';

export interface AttemptDependencies {
  sender: HttpSender;
  clock: Clock;
  random: Random;
  ids: IdGenerator;
  /** The default policy; `schedules` may give a failed delivery its endpoint's or event type's delays instead. */
  retry: RetryPolicy;
  schedules?: RetrySchedules;
  /** Where endpoints' transformations run; the process's shared runner (a worker thread) unless given. */
  transformations?: TransformationRunner;
}

const DISABLED: SendResult = { statusCode: 0, body: 'The endpoint is disabled.', retryAfter: null, durationMs: 0, failure: 'endpoint_disabled' };
const unavailable = (why: string): SendResult => ({ statusCode: 0, body: why, retryAfter: null, durationMs: 0, failure: 'secret_unavailable' });
const CANCELED: SendResult = { statusCode: 0, body: 'The endpoint\'s transformation canceled this delivery.', retryAfter: null, durationMs: 0, failure: 'transformation_canceled' };
const transformationFailed = (why: string, durationMs: number): SendResult =>
  ({ statusCode: 0, body: `The endpoint's transformation failed: ${why}`, retryAfter: null, durationMs, failure: 'transformation_failed' });

/**
 * Makes one attempt at a claimed delivery and decides, by the retry policy, what follows it. A
 * disabled endpoint, or a secret this process cannot open, fails the delivery without sending:
 * no later try would do better, and an unsigned request must never go out.
 */
export async function attemptDelivery(deps: AttemptDependencies, delivery: ClaimedDelivery): Promise<DeliveryResult> {
  const { clock, sender } = deps;
  const startedAt = clock.now();
  let url = delivery.endpoint.url;
  let made: TransformedRequest | undefined;
  let result: SendResult;
  if (delivery.endpoint.disabled) result = DISABLED;
  else if (delivery.unavailable) result = unavailable(delivery.unavailable);
  else if (delivery.endpoint.transformation) {
    const started = performance.now();
    const transformed = await transform(deps.transformations ?? sharedRunner(), delivery.endpoint.id, delivery.endpoint.transformation, webhookOf(delivery));
    if (transformed.kind === 'failed') result = transformationFailed(transformed.reason, Math.round(performance.now() - started));
    else if (transformed.kind === 'cancel') result = CANCELED;
    else {
      url = transformed.url;
      made = { method: transformed.method, headers: transformed.headers, contentType: transformed.contentType, body: transformed.body };
      result = await sender.send({ method: transformed.method, url, headers: deliveryHeaders(delivery, startedAt, transformed), body: transformed.body });
    }
  } else {
    result = await sender.send({
      method: delivery.message.inbound?.method,
      url,
      headers: deliveryHeaders(delivery, startedAt),
      body: delivery.message.payload,
    });
  }
  const finishedAt = clock.now();
  const failedToDeliver = result.failure !== null || !isSuccess(result.statusCode);
  // A store that cannot answer now costs the delivery its own schedule, never its result.
  const delays = failedToDeliver && result !== CANCELED && deps.schedules ? await deps.schedules(delivery).catch(() => null) : null;
  const retry = delays ? { ...deps.retry, delaysMs: delays } : deps.retry;
  // The attempt records the URL the request went to, which a transformation may have changed.
  const attempted = url === delivery.endpoint.url ? delivery : { ...delivery, endpoint: { ...delivery.endpoint, url } };
  const outcome = decide({ ...deps, retry }, attempted, result, startedAt, finishedAt);
  // And the request the transformation made, which the attempt's view cannot rebuild later.
  if (made) outcome.attempt.transformed = made;
  return outcome;
}

/**
 * The webhook a transformation is handed: the request Herald would send without it, less its
 * signature. A received request (a source's) comes with its method, forwarded headers and content
 * type; a published message is a POST of JSON with the endpoint's custom headers.
 */
function webhookOf(delivery: ClaimedDelivery): WebhookIn {
  const { message, endpoint } = delivery;
  if (!message.inbound) {
    return { method: 'POST', url: endpoint.url, headers: endpoint.headers, eventType: message.eventType, contentType: JSON_TYPE, payload: message.payload, payloadIsJson: true };
  }
  // The content type becomes webhook.contentType. Headers a transformation could not send back
  // (a Svix provider's svix-* signature, which Herald's own names clash with; a value outside
  // ASCII) are left out: the code changes the body, so a provider's signature would not hold anyway.
  const { 'content-type': contentType, 'user-agent': _agent, ...forwarded } = forwardedRequestHeaders(delivery);
  const headers = Object.fromEntries(Object.entries(forwarded).filter(([name, value]) => refusedHeaderName(name) === null && refusedHeaderValue(value) === null));
  return { method: message.inbound.method, url: endpoint.url, headers, eventType: message.eventType, contentType: contentType ?? 'application/octet-stream', payload: message.payload };
}

/**
 * What follows an attempt whose outcome is known: the attempt to record and the delivery's next
 * state, by the retry policy. Shared by the dispatcher's sends and by the answers a listen
 * session's consumer reports for the deliveries it pulled, so both follow one policy.
 */
export function decide(
  deps: Pick<AttemptDependencies, 'random' | 'ids' | 'retry'>, delivery: Pick<ClaimedDelivery, 'id' | 'lease' | 'attemptNumber' | 'trigger' | 'resumeAt' | 'alerted' | 'orderingKey'> & {
    message: Pick<ClaimedDelivery['message'], 'id' | 'appId' | 'eventId'>; endpoint: Pick<ClaimedDelivery['endpoint'], 'id' | 'url'>;
  },
  result: SendResult, startedAt: number, finishedAt: number, { retry: retrying = true }: { retry?: boolean } = {},
): DeliveryResult {
  const { random, retry, ids } = deps;
  const step: NextStep = result.failure === 'endpoint_disabled' || result.failure === 'secret_unavailable' || result.failure === 'transformation_canceled'
    ? { kind: 'exhausted' }
    : nextStep(
        retry,
        delivery.attemptNumber,
        result.failure ? { kind: 'no-response' } : { kind: 'response', statusCode: result.statusCode, retryAfter: result.retryAfter },
        finishedAt,
        random,
      );
  // A failed manual attempt (resend, recover) is never retried, as in Svix. If the delivery was
  // still on its retry schedule when resent, it goes back to it as if the attempt had not been made.
  const failed = step.kind === 'retry' || step.kind === 'exhausted';
  const manual = delivery.trigger === Trigger.manual;
  const resumes = manual && failed && delivery.resumeAt !== null && result !== DISABLED && result.failure !== 'transformation_canceled';
  let next: DeliveryNext;
  // A transformation that cancels ends the delivery canceled, as cancel-msgs does: never retried.
  if (result.failure === 'transformation_canceled') next = { status: Status.canceled };
  else if (resumes) next = { status: Status.pending, runAt: Math.max(delivery.resumeAt!, finishedAt) };
  else if ((manual || !retrying) && failed) next = { status: Status.fail };
  else next = nextState(step, finishedAt);
  const attempt: Attempt = {
    id: ids('attempt'),
    messageId: delivery.message.id,
    endpointId: delivery.endpoint.id,
    appId: delivery.message.appId,
    url: delivery.endpoint.url,
    status: step.kind === 'delivered' ? Status.success : result.failure === 'transformation_canceled' ? Status.canceled : Status.fail,
    responseStatusCode: result.statusCode,
    response: result.body,
    responseDurationMs: result.durationMs,
    trigger: delivery.trigger,
    failureReason: result.failure,
    attemptNumber: delivery.attemptNumber,
    createdAt: startedAt,
  };
  const kind = signalKind(result.statusCode, result.failure);
  const signal: FlowSignal | undefined = kind === null ? undefined : {
    endpointId: delivery.endpoint.id,
    appId: delivery.message.appId,
    kind,
    sentAt: startedAt,
    at: finishedAt,
    retryAfterMs: kind !== 'success' && result.retryAfter ? parseRetryAfter(result.retryAfter, finishedAt) : null,
  };
  // Retry-After pauses the whole endpoint (flow control), which the claim learns once this batch is
  // recorded; the delivery that was told to wait waits that long itself, so its own retry cannot
  // slip out before the pause lands.
  if (signal?.retryAfterMs != null && next.status === Status.pending) {
    next = { status: Status.pending, runAt: Math.max(next.runAt, finishedAt + Math.min(MAX_PAUSE_MS, signal.retryAfterMs)) };
  }
  const delivered = step.kind === 'delivered';
  const wasAlerted = delivery.alerted ?? false;
  const outcome: DeliveryResult = {
    id: delivery.id,
    lease: delivery.lease,
    attempt,
    next,
    attemptCount: resumes ? delivery.attemptNumber - 1 : delivery.attemptNumber,
    disableEndpoint: step.kind === 'gone',
    ...(delivery.orderingKey ? { orderingKey: delivery.orderingKey } : {}),
    ...(signal ? { signal } : {}),
    alerted: false,
  };
  // The ordinary success (a delivery no operational event spoke of) stops here: nothing to tell.
  if (delivered && !wasAlerted) return outcome;
  const { notices, alerted } = attemptNotices({
    trigger: delivery.trigger, attemptNumber: delivery.attemptNumber, succeeded: delivered, final: next.status === Status.fail,
    failureReason: result.failure, alerted: wasAlerted,
  });
  outcome.alerted = alerted;
  if (notices) {
    outcome.notices = notices;
    outcome.msgEventId = delivery.message.eventId ?? null;
  }
  return outcome;
}

function nextState(step: NextStep, now: number): DeliveryNext {
  switch (step.kind) {
    case 'delivered':
      return { status: Status.success };
    case 'retry':
      return { status: Status.pending, runAt: now + step.delayMs };
    case 'exhausted':
    case 'gone':
      return { status: Status.fail };
  }
}
