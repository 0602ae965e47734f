import { pass, type Provider } from '../request.ts';
import { discord } from './discord.ts';
import { github } from './github.ts';
import { gitlab } from './gitlab.ts';
import { hmac } from './hmac.ts';
import { linear } from './linear.ts';
import { paddle } from './paddle.ts';
import { shopify } from './shopify.ts';
import { slack } from './slack.ts';
import { standardWebhooks } from './standard-webhooks.ts';
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
  svix: standardWebhooks,
  'standard-webhooks': standardWebhooks,
  clerk: standardWebhooks,
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
