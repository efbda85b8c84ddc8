import { describe, expect, it } from 'vitest';
import { oomKillTimes } from '../../src/activities/watch/kernel-log.js';
import {
  advanceCursor,
  type EngineEvent,
  EngineEventInterpreter,
  isAfterCursor,
  parseEngineEvent,
} from '../../src/domain/engine-events.js';

// Recorded from Podman 4.3.1's Docker-compatible /events (a kill -9 of a labelled container).
const podmanDie = {
  status: 'die',
  id: 'fd05a75fb636',
  from: 'localhost/medic-demo-app:43edcc4caa89',
  Type: 'container',
  Action: 'die',
  Actor: {
    ID: 'fd05a75fb636',
    Attributes: {
      containerExitCode: '137',
      exitCode: '137',
      'medic.managed': 'true',
      name: 'wexp-a',
      podId: '',
    },
  },
  scope: 'local',
  time: 1795653350,
  timeNano: 1795653350708570600,
};
// Docker's shapes (documented by the Engine API).
const dockerHealth = {
  Type: 'container',
  Action: 'health_status: unhealthy',
  Actor: { ID: 'abc', Attributes: { name: 'svc' } },
  time: 10,
  timeNano: 10e9,
};
const podmanHealth = {
  Type: 'container',
  Action: 'health_status',
  Actor: { ID: 'abc', Attributes: { name: 'svc', health_status: 'unhealthy' } },
  time: 10,
  timeNano: 10e9,
};

let t = 0;
const ev = (action: string, extra: Partial<EngineEvent> = {}): EngineEvent => ({
  action,
  containerId: 'c1',
  name: 'svc',
  attributes: {},
  timeNano: ++t * 1e9,
  ...extra,
});

describe('parseEngineEvent', () => {
  it("reads Podman's die with its exit code", () => {
    expect(parseEngineEvent(podmanDie)).toMatchObject({
      action: 'die',
      containerId: 'fd05a75fb636',
      name: 'wexp-a',
      exitCode: 137,
      timeNano: 1795653350708570600,
    });
  });

  it("reads Docker's and Podman's health events alike", () => {
    expect(parseEngineEvent(dockerHealth)).toMatchObject({ action: 'health_status', health: 'unhealthy' });
    expect(parseEngineEvent(podmanHealth)).toMatchObject({ action: 'health_status', health: 'unhealthy' });
  });

  it('drops events that are not about containers, and garbage', () => {
    expect(parseEngineEvent({ ...podmanDie, Type: 'image' })).toBeUndefined();
    expect(parseEngineEvent('nope')).toBeUndefined();
    expect(parseEngineEvent({ Action: 'die' })).toBeUndefined();
  });
});

describe('EngineEventInterpreter', () => {
  it('a die from outside the engine (kill -9, OOM killer, crash) is a fault with its exit code', () => {
    const i = new EngineEventInterpreter();
    expect(i.interpret(ev('start'))).toBeUndefined();
    expect(i.interpret(ev('die', { exitCode: 137 }))).toMatchObject({
      fault: { kind: 'died', target: 'svc', exitCode: 137 },
    });
  });

  it('a die after a stop, kill or restart through the engine is not (Docker and Podman orders)', () => {
    const i = new EngineEventInterpreter();
    // Podman restart: restart, die, init, start
    i.interpret(ev('restart'));
    expect(i.interpret(ev('die', { exitCode: 0 }))).toHaveProperty('ignored');
    i.interpret(ev('start'));
    // Docker restart: kill, die, stop, start, restart (the trailing restart marks nothing)
    i.interpret(ev('kill'));
    expect(i.interpret(ev('die', { exitCode: 143 }))).toHaveProperty('ignored');
    i.interpret(ev('stop'));
    i.interpret(ev('start'));
    i.interpret(ev('restart'));
    // ... so a real crash right after is still seen.
    expect(i.interpret(ev('die', { exitCode: 1 }))).toHaveProperty('fault');
  });

  it('a clean exit (code 0) is not a fault', () => {
    expect(new EngineEventInterpreter().interpret(ev('die', { exitCode: 0 }))).toHaveProperty('ignored');
  });

  it('oom and unhealthy are faults; healthy is not', () => {
    const i = new EngineEventInterpreter();
    expect(i.interpret(ev('oom'))).toMatchObject({ fault: { kind: 'oom' } });
    expect(i.interpret(ev('health_status', { health: 'unhealthy' }))).toMatchObject({
      fault: { kind: 'unhealthy' },
    });
    expect(i.interpret(ev('health_status', { health: 'healthy' }))).toBeUndefined();
  });
});

describe('event cursor', () => {
  it('skips what was handled, including events sharing the last timestamp', () => {
    const a = ev('die', { exitCode: 1 });
    const b = { ...ev('oom'), timeNano: a.timeNano };
    let cursor = { timeNano: 0, keysAtTime: [] as string[] };
    cursor = advanceCursor(cursor, a);
    expect(isAfterCursor(a, cursor)).toBe(false);
    expect(isAfterCursor(b, cursor)).toBe(true);
    cursor = advanceCursor(cursor, b);
    expect(isAfterCursor(b, cursor)).toBe(false);
    expect(isAfterCursor(ev('start'), cursor)).toBe(true);
  });
});

describe('oomKillTimes', () => {
  it("finds the kernel's OOM kills of one container, as epoch times", () => {
    const dmesg = [
      '[16101.944388] [  22943]     0 22943   273378    33838 node',
      '[16101.944392] oom-kill:constraint=CONSTRAINT_MEMCG,oom_memcg=/libpod_parent/libpod-5d15d09c17,task=node,pid=22943',
      '[16126.930485] oom-kill:constraint=CONSTRAINT_MEMCG,oom_memcg=/libpod_parent/libpod-f4b3ed440b,task=node',
    ].join('\n');
    const now = 1_000_000_000;
    expect(oomKillTimes(dmesg, '5d15d09c17', 16347, now)).toEqual([now - (16347 - 16101.944392) * 1000]);
    expect(oomKillTimes(dmesg, 'ffffffffff', 16347, now)).toEqual([]);
  });
});
