import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Trigger } from './model.ts';
import { attemptEvent, attemptNotices, endpointEvent, isOperationalApp, OPERATIONAL_APP_ID } from './operational-events.ts';

const failed = { trigger: Trigger.scheduled, succeeded: false, final: false, failureReason: null, alerted: false };

describe('attemptNotices', () => {
  it('calls a scheduled delivery failing on its fourth failure only', () => {
    assert.deepEqual([1, 2, 3, 4, 5].map((attemptNumber) => attemptNotices({ ...failed, attemptNumber }).notices), [null, null, null, ['failing'], null]);
    assert.equal(attemptNotices({ ...failed, attemptNumber: 4 }).alerted, true);
  });

  it('calls it exhausted on its last failure, and both when the fourth is the last', () => {
    assert.deepEqual(attemptNotices({ ...failed, attemptNumber: 2, final: true }).notices, ['exhausted']);
    assert.deepEqual(attemptNotices({ ...failed, attemptNumber: 4, final: true }).notices, ['failing', 'exhausted']);
  });

  it('calls a success recovered only after an alert, and clears the alert', () => {
    const success = { ...failed, succeeded: true, attemptNumber: 5 };
    assert.deepEqual(attemptNotices({ ...success, alerted: true }), { notices: ['recovered'], alerted: false });
    assert.deepEqual(attemptNotices({ ...success, trigger: Trigger.manual, attemptNumber: 1, alerted: true }).notices, ['recovered']);
    assert.deepEqual(attemptNotices(success), { notices: null, alerted: false });
  });

  it('says nothing of deliveries failed without a request, nor of failed manual attempts', () => {
    assert.equal(attemptNotices({ ...failed, attemptNumber: 4, final: true, failureReason: 'endpoint_disabled' }).notices, null);
    assert.equal(attemptNotices({ ...failed, attemptNumber: 1, final: true, failureReason: 'secret_unavailable' }).notices, null);
    assert.deepEqual(attemptNotices({ ...failed, trigger: Trigger.manual, attemptNumber: 4, final: true, alerted: true }), { notices: null, alerted: true });
  });
});

describe('operational event payloads', () => {
  it('gives a source\'s endpoint the ingest. events, and none where Svix has none', () => {
    const ref = { appId: 'src_x', appUid: 'u', endpointId: 'ep_1', endpointUid: null };
    assert.equal(endpointEvent('created', ref), null);
    assert.deepEqual(endpointEvent('disabled', ref, { trigger: 'automatic', failSince: 0 }), {
      type: 'ingest.endpoint.disabled', data: { sourceId: 'src_x', endpointId: 'ep_1', endpointUid: null, failSince: '1970-01-01T00:00:00.000Z', trigger: 'automatic' },
    });
    const attempt = { appId: 'src_x', appUid: null, msgId: 'msg_1', msgEventId: null, endpointId: 'ep_1', attempt: { id: 'atmpt_1', responseStatusCode: 500, createdAt: 0 } };
    assert.equal(attemptEvent('exhausted', attempt).type, 'ingest.message.attempt.exhausted');
    assert.equal(attemptEvent('exhausted', { ...attempt, appId: 'app_1' }).type, 'message.attempt.exhausted');
  });

  it('keeps the operational application apart by its prefix', () => {
    assert.ok(isOperationalApp(OPERATIONAL_APP_ID));
    assert.ok(!isOperationalApp('app_1'));
  });
});
