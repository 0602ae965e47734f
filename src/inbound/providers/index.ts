import { fail, type InboundRequest, pass, type Provider, type Verification } from '../request.ts';
import { discord } from './discord.ts';
import { github } from './github.ts';
import { gitlab } from './gitlab.ts';
import { hmac } from './hmac.ts';
import { linear } from './linear.ts';
import { paddle } from './paddle.ts';
import { shopify } from './shopify.ts';
import { slack } from './slack.ts';
import { standardWebhooks, svix } from './standard-webhooks.ts';
import { stripe } from './stripe.ts';
import { twilio } from './twilio.ts';
import { zoom } from './zoom.ts';

/** A source that verifies nothing: every request is accepted as it comes. */
const genericWebhook: Provider = { verify: () => pass, eventType: () => 'webhook' };

/** Every source type Herald knows, by the name the API uses. */
export const PROVIDERS: Record<string, Provider> = {
  stripe,
  github,
  shopify,
  slack,
  svix,
  'standard-webhooks': standardWebhooks,
  clerk: svix,
  twilio,
  gitlab,
  discord,
  paddle,
  linear,
  zoom,
  hmac,
  'generic-webhook': genericWebhook,
};

export const SOURCE_TYPES = Object.keys(PROVIDERS);
/** Types that check nothing, so their requests are marked unverified (null) rather than verified. */
export const UNVERIFIED_TYPES = new Set(['generic-webhook']);
/** The types whose requests Herald can also sign (`herald sign`, `herald trigger`), in the order they are listed. */
export const SIGNING_TYPES = SOURCE_TYPES.filter((type) => PROVIDERS[type]!.sign);

/**
 * A provider's verdict, which is never an exception: whatever a body or its headers hold, a
 * request that could not be checked is refused like one that failed the check. The gateway and
 * `herald verify` both judge with it, so both give the same diagnosis.
 */
export function verify(provider: Provider, request: InboundRequest, config: Record<string, unknown>): Verification {
  try {
    return provider.verify(request, config);
  } catch (error) {
    return fail(`Herald could not check the request: ${(error as Error).message}`);
  }
}
