// One event whose alert cannot be raised never blinds the engine watch. An outage keeps
// the cursor (retry later); a refusal or a bug in one event is skipped, reported, and the next event of
// another container still becomes an incident. The sweep handles each anomaly on its own.
import { MockActivityEnvironment } from '@temporalio/testing';
import { describe, expect, it } from 'vitest';
import type { WatchableRuntime } from '../../src/activities/containers.js';
import { createEngineWatchActivities } from '../../src/activities/watch/index.js';
import { DEFAULT_SWEEP_THRESHOLDS } from '../../src/domain/anomaly.js';
import type { EventCursor } from '../../src/domain/engine-events.js';
import { classifyRaiseFailure } from '../../src/domain/temporal-failure.js';
import type { Alert } from '../../src/domain/types.js';
import type { IncidentPort } from '../../src/temporal/incident-port.js';
import { container, death, fakeEngine, T0 } from '../support/fake-engine.js';
import { captureLogger } from '../support/medic.js';

/** A gRPC status error as @grpc/grpc-js makes it, wrapped the way the gateway wraps it. */
function grpcError(code: number, details: string): Error {
  const grpc = Object.assign(new Error(`${code} ${details}`), { code, details, metadata: {} });
  return new Error(`Temporal is unavailable: ${grpc.message}`, { cause: grpc });
}
const INVALID_ARGUMENT = 3;
const UNAVAILABLE = 14;

/** An incident port that opens every alert, except those `refuse` throws for. */
function fakeIncidents(refuse: (alert: Alert) => Error | undefined = () => undefined) {
  const opened: Alert[] = [];
  const attempts: Alert[] = [];
  const port: Pick<IncidentPort, 'openOrJoin' | 'findOpenIncident'> = {
    async openOrJoin(alert) {
      attempts.push(alert);
      const err = refuse(alert);
      if (err) throw err;
      opened.push(alert);
      return { workflowId: `incident-${alert.target}-${alert.alertType}`, runId: 'run' };
    },
    findOpenIncident: async () => undefined,
  };
  return { port, opened, attempts };
}

function follow(runtime: WatchableRuntime, incidents: ReturnType<typeof fakeIncidents>, runForMs = 300) {
  const captured = captureLogger();
  const { followEngineEvents } = createEngineWatchActivities({
    runtime,
    incidents: incidents.port,
    logger: captured.logger,
  });
  const env = new MockActivityEnvironment();
  const heartbeats: EventCursor[] = [];
  env.on('heartbeat', (d: EventCursor) => heartbeats.push(d));
  const cursor = { timeNano: (T0 - 1000) * 1e6, keysAtTime: [] };
  const run = env.run(followEngineEvents, { cursor, runForMs, heartbeatEveryMs: 50 });
  return { run, heartbeats, lines: captured.lines };
}

describe('which failures to raise an alert are retried later and which skip the event', () => {
  it('an outage (UNAVAILABLE, DEADLINE_EXCEEDED, a refused socket) waits; a refusal of this request skips', () => {
    expect(classifyRaiseFailure(grpcError(UNAVAILABLE, 'connect ECONNREFUSED 127.0.0.1:7233'))).toBe(
      'unavailable',
    );
    expect(classifyRaiseFailure(grpcError(4, 'Deadline exceeded'))).toBe('unavailable');
    expect(classifyRaiseFailure(grpcError(8, 'namespace rate limit exceeded'))).toBe('unavailable');
    expect(classifyRaiseFailure(grpcError(16, 'bad token'))).toBe('unavailable');
    expect(classifyRaiseFailure(Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }))).toBe(
      'unavailable',
    );
    expect(classifyRaiseFailure(grpcError(INVALID_ARGUMENT, 'Blob data size exceeds limit.'))).toBe(
      'refused',
    );
    expect(classifyRaiseFailure(grpcError(8, 'Received message larger than max (5000000 vs. 4194304)'))).toBe(
      'refused',
    );
    expect(classifyRaiseFailure(new TypeError("Cannot read properties of undefined (reading 'x')"))).toBe(
      'unknown',
    );
  });
});

describe('one event that cannot be raised never blinds the watcher', () => {
  const a = container('app-a');
  const b = container('app-b');
  const events = [death('app-a', T0), death('app-b', T0 + 1000)];

  it('an alert refused with its logs is raised without them, saying why', async () => {
    const incidents = fakeIncidents((alert) =>
      alert.target === 'app-a' && alert.logs.length > 0
        ? grpcError(INVALID_ARGUMENT, 'Blob data size exceeds limit.')
        : undefined,
    );
    const { run } = follow(fakeEngine([a, b], events), incidents);
    await run;
    expect(incidents.opened.map((o) => o.target)).toEqual(['app-a', 'app-b']);
    const [reduced, normal] = incidents.opened;
    expect(reduced?.logs).toEqual([]);
    expect(reduced?.evidence?.detail).toMatch(
      /log lines \(\d+ bytes\) were dropped.*Blob data size exceeds limit/,
    );
    expect(normal?.logs).toEqual(['last words of app-b']);
  });

  it('an event Temporal refuses even without logs is skipped with a warning; the next container is still raised', async () => {
    const incidents = fakeIncidents((alert) =>
      alert.target === 'app-a' ? grpcError(INVALID_ARGUMENT, 'invalid alert') : undefined,
    );
    const { run, lines } = follow(fakeEngine([a, b], events), incidents);
    const cursor = (await run) as EventCursor;
    expect(incidents.opened.map((o) => o.target)).toEqual(['app-b']);
    expect(cursor.timeNano).toBe((T0 + 1000) * 1e6);
    const warning = lines.find((l) => String(l.msg).includes('app-a skipped'));
    expect(warning).toMatchObject({
      target: 'app-a',
      failure: 'refused',
      reason: expect.stringContaining('invalid alert'),
    });
  });

  it('a failure that is neither an outage nor a refusal is tried three times, then skipped', async () => {
    const incidents = fakeIncidents((alert) =>
      alert.target === 'app-a' ? new TypeError('a bug') : undefined,
    );
    const { run, lines } = follow(fakeEngine([a, b], events), incidents, 3000);
    await run;
    // With logs, then without them, on each of the three tries.
    expect(incidents.attempts.filter((x) => x.target === 'app-a')).toHaveLength(6);
    expect(incidents.opened.map((o) => o.target)).toEqual(['app-b']);
    expect(lines.find((l) => String(l.msg).includes('app-a skipped'))).toMatchObject({
      failure: 'unknown',
      attempts: 3,
    });
  });

  it('Temporal unavailable: the activity fails for its retry policy, its cursor stays before the event', async () => {
    const incidents = fakeIncidents((alert) =>
      alert.target === 'app-a' ? grpcError(UNAVAILABLE, 'connect ECONNREFUSED') : undefined,
    );
    const { run, heartbeats } = follow(fakeEngine([a, b], events), incidents);
    await expect(run).rejects.toMatchObject({ type: 'TemporalUnavailable', nonRetryable: false });
    expect(incidents.opened).toEqual([]);
    expect(heartbeats.at(-1)?.timeNano).toBe((T0 - 1000) * 1e6);
    // The outage costs no evidence: only the alert with its logs was tried.
    expect(incidents.attempts.map((x) => x.logs.length)).toEqual([1]);
  });
});

describe('the sweep handles each anomaly on its own', () => {
  it('one anomaly whose alert fails is reported and retried next sweep; the others are raised', async () => {
    const a = container('app-a');
    const b = container('app-b');
    let refuseA = true;
    const incidents = fakeIncidents((alert) =>
      refuseA && alert.target === 'app-a' ? grpcError(UNAVAILABLE, 'connect ECONNREFUSED') : undefined,
    );
    const { sweepContainers } = createEngineWatchActivities({
      runtime: fakeEngine([a, b]),
      incidents: incidents.port,
      logger: captureLogger().logger,
    });
    const input = {
      thresholds: DEFAULT_SWEEP_THRESHOLDS,
      healthProbeTimeoutMs: 100,
      searchAttributes: false,
    };
    const first = await sweepContainers(input);
    expect(first.opened.map((o) => o.workflowId)).toEqual(['incident-app-b-crash']);
    expect(first.failed).toEqual([
      { target: 'app-a', check: 'exited', reason: expect.stringContaining('ECONNREFUSED') },
    ]);
    expect(first.memory.containers['app-a']?.reported).toEqual([]);
    expect(first.memory.containers['app-b']?.reported).toEqual(['exited']);

    refuseA = false;
    const second = await sweepContainers({ ...input, memory: first.memory });
    expect(second.opened.map((o) => o.workflowId)).toEqual(['incident-app-a-crash']);
    expect(second.failed).toEqual([]);
  });
});
