import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startTestHerald } from './support/herald.ts';
import { call } from './support/process.ts';
import { processPair } from './support/process-pair.ts';
import { forEachStore, postgresReachable, SKIPPED_POSTGRES } from './support/stores.ts';
import { waitFor } from './support/wait.ts';

/**
 * Revocation on one process holds at once on every other sharing the PostgreSQL schema, although
 * each remembers tokens for 5 s and sources for 10 s: every check below first has the other
 * process let the credential in (so it is cached there), then revokes it here, and asks the other
 * process again right after the answer (an expiry, which nothing announces, is given one second).
 */
const RIGHT_AWAY_MS = 1_000;
const suite = (await postgresReachable()) ? describe : describe.skip;

suite((await postgresReachable()) ? 'revocation across processes on PostgreSQL' : SKIPPED_POSTGRES, () => {
  const pair = processPair('revoke');

  const as = async (url: string, token: string, method: string, path: string) =>
    (await fetch(url + path, { method, headers: { authorization: `Bearer ${token}` } })).status;

  /** A fresh application and a portal token for it, issued on `here`. */
  async function portalToken(expiry?: number) {
    const app = await call(pair.here.url, 'POST', '/api/v1/app', { name: 'revoked' });
    const access = await call(pair.here.url, 'POST', `/api/v1/auth/app-portal-access/${app.body.id}`, expiry ? { expiry } : {});
    return { appId: app.body.id as string, token: access.body.token as string };
  }

  async function refusedRightAway(what: string, check: () => Promise<boolean>) {
    const since = Date.now();
    await waitFor(what, check, RIGHT_AWAY_MS);
    return Date.now() - since;
  }

  /**
   * The other process's very next request after the revocation's answer is refused, in each of
   * ROUNDS tries: the notification that drops its cache is heard there before the answer goes out
   * here (the revocation waits on a fence), where a race lost a few rounds in a hundred.
   */
  const ROUNDS = 50;

  it('refuses a logged-out token on the other process from the next request on', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const { appId, token } = await portalToken();
      assert.equal(await as(pair.there.url, token, 'GET', `/api/v1/app/${appId}`), 200);
      assert.equal(await as(pair.here.url, token, 'POST', '/api/v1/auth/logout'), 204);
      assert.equal(await as(pair.there.url, token, 'GET', `/api/v1/app/${appId}`), 401, `round ${round}`);
    }
  });

  it('refuses an expire-all\'ed token on the other process from the next request on', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const { appId, token } = await portalToken();
      assert.equal(await as(pair.there.url, token, 'GET', `/api/v1/app/${appId}`), 200);
      assert.equal((await call(pair.here.url, 'POST', `/api/v1/auth/app/${appId}/expire-all`, {})).status, 204);
      assert.equal(await as(pair.there.url, token, 'GET', `/api/v1/app/${appId}`), 401, `round ${round}`);
    }
  });

  it('refuses a token on the other process once its expiry passes, although that process just let it in', async () => {
    const { appId, token } = await portalToken(2);
    const expiresAt = Date.now() + 2_000;
    assert.equal(await as(pair.there.url, token, 'GET', `/api/v1/app/${appId}`), 200);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, expiresAt - Date.now())));
    await refusedRightAway('the other process to refuse the token past its expiry', async () => (await as(pair.there.url, token, 'GET', `/api/v1/app/${appId}`)) === 401);
  });

  it('stops taking requests at a rotated source URL on the other process from the next request on', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const source = await call(pair.here.url, 'POST', '/ingest/api/v1/source', { name: 'rotated', type: 'generic-webhook' });
      const path = new URL(source.body.ingestUrl).pathname;
      const post = async (url: string) => (await fetch(url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: `{"round":${round}}` })).status;
      assert.equal(await post(pair.there.url), 200);
      assert.equal((await call(pair.here.url, 'POST', `/ingest/api/v1/source/${source.body.id}/token/rotate`, {})).status, 200);
      assert.equal(await post(pair.there.url), 404, `round ${round}`);
    }
  });
});

await forEachStore((store) => describe(`revocation in one process (${store})`, () => {
  it('refuses a rotated source URL at once, although it just took a request there', async () => {
    const h = await startTestHerald({ store });
    try {
      const source = (await h.api('POST', '/ingest/api/v1/source', { name: 'rotated', type: 'generic-webhook' })).body;
      const post = async () => (await fetch(source.ingestUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status;
      assert.equal(await post(), 200);
      assert.equal((await h.api('POST', `/ingest/api/v1/source/${source.id}/token/rotate`, {})).status, 200);
      assert.equal(await post(), 404);
    } finally {
      await h.close();
    }
  });
}));
