// Which engine errors mean "the engine is away" (the incident waits for it, MEDIC_ENGINE_OUTAGE_WAIT) and
// which are the engine's own answers (they fail as before). Errors as Node and dockerode raise them.
import { describe, expect, it } from 'vitest';
import { engineUnreachable } from '../../src/activities/containers.js';

const netError = (code: string, syscall: string) =>
  Object.assign(new Error(`${syscall} ${code}`), { code, syscall });

describe('engineUnreachable', () => {
  it('is true when the socket is missing or refuses, or the connection breaks mid-request', () => {
    expect(engineUnreachable(netError('ENOENT', 'connect'))).toBe(true);
    expect(engineUnreachable(netError('ECONNREFUSED', 'connect'))).toBe(true);
    expect(engineUnreachable(netError('ECONNRESET', 'read'))).toBe(true);
    expect(engineUnreachable(new Error('socket hang up'))).toBe(true);
  });

  it('is false for the engine’s own answers and for anything else', () => {
    expect(engineUnreachable(Object.assign(new Error('no such container'), { statusCode: 404 }))).toBe(false);
    expect(engineUnreachable(Object.assign(new Error('server error'), { statusCode: 500 }))).toBe(false);
    expect(engineUnreachable(netError('ENOENT', 'open'))).toBe(false);
    expect(engineUnreachable(undefined)).toBe(false);
  });
});
