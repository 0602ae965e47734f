import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FastifyError } from 'fastify';
import { StoreError } from '../store/errors.ts';
import { toHttpError } from './errors.ts';

describe('toHttpError', () => {
  it('answers a value the database refused with 400, never a server error', () => {
    const refused = new StoreError('invalid', 'PostgreSQL refused a value (SQLSTATE 22021): invalid byte sequence');
    const answer = toHttpError(refused as unknown as FastifyError);
    assert.equal(answer?.status, 400);
    assert.equal(answer?.code, 'invalid_value');
    assert.doesNotMatch(String(answer?.detail), /22021|byte sequence/, 'the database\'s words stay in the server');
  });

  it('keeps conflicts at 409 and unavailability at 503', () => {
    assert.equal(toHttpError(new StoreError('conflict', 'dup') as unknown as FastifyError)?.status, 409);
    assert.equal(toHttpError(new StoreError('unavailable', 'down') as unknown as FastifyError)?.status, 503);
  });
});
