// Alerts name their host (the webhook's `host`, an Alertmanager label), and the host is part of
// every id, so the same container name on two hosts is two incidents and two guards.
import { MockActivityEnvironment } from '@temporalio/testing';
import { describe, expect, it } from 'vitest';
import { createEngineWatchActivities } from '../../src/activities/watch/index.js';
import { alertFromWebhook, describeZodError, webhookAlertSchema } from '../../src/domain/alert.js';
import { type AlertmanagerAlert, mapAlertmanagerAlert } from '../../src/domain/alertmanager.js';
import { checkAlertPayload } from '../../src/domain/message-checks.js';
import {
  guardWorkflowId,
  hostOfIncidentId,
  hostTaskQueue,
  incidentWorkflowId,
  runbookTaskQueue,
} from '../../src/domain/naming.js';
import type { Alert } from '../../src/domain/types.js';
import { container, death, fakeEngine, T0 } from '../support/fake-engine.js';
import { captureLogger } from '../support/medic.js';

const webhook = {
  container_name: 'medic-demo',
  alert_type: 'crash',
  severity: 'high',
  timestamp: '2026-11-25T10:00:00.000Z',
};

const am = (labels: Record<string, string>): AlertmanagerAlert => ({
  status: 'firing',
  labels: { alertname: 'ContainerDown', container: 'medic-demo', ...labels },
  annotations: {},
  startsAt: '2026-11-25T10:00:00Z',
});

describe('hosts in ids and queues', () => {
  it('gives the same container on two hosts two incidents, two guards and two queues', () => {
    expect(incidentWorkflowId('medic-demo', 'crash', 'podman')).toBe('incident:podman:medic-demo:crash');
    expect(incidentWorkflowId('medic-demo', 'crash', 'docker')).toBe('incident:docker:medic-demo:crash');
    expect(guardWorkflowId('medic-demo', 'docker')).toBe('guard:docker:medic-demo');
    expect(hostTaskQueue('medic', 'docker')).toBe('medic-host-docker');
    expect(runbookTaskQueue('medic')).toBe('medic-runbook');
  });

  it('reads the host back from either id form', () => {
    expect(hostOfIncidentId('incident:docker:medic-demo:crash')).toBe('docker');
    expect(hostOfIncidentId('incident-medic-demo-crash')).toBe('local');
    expect(hostOfIncidentId('guard:docker:medic-demo')).toBeUndefined();
  });
});

describe('the webhook field host', () => {
  it('names the host; without it the host is local', () => {
    const on = alertFromWebhook(webhookAlertSchema.parse({ ...webhook, host: 'docker' }), new Date());
    expect(on.host).toBe('docker');
    const off = alertFromWebhook(webhookAlertSchema.parse(webhook), new Date());
    expect(off.host).toBeUndefined();
  });

  it('refuses a host that cannot be a queue name, naming the field', () => {
    for (const host of ['', 'a:b', '../x', 'a b', 'x'.repeat(65), 7]) {
      const result = webhookAlertSchema.safeParse({ ...webhook, host });
      expect(result.success).toBe(false);
      expect(describeZodError(result.error!).map((d) => d.path)).toEqual(['host']);
    }
  });
});

describe('the Alertmanager host label', () => {
  const options = { targetLabels: ['container'], hostLabels: ['host', 'instance'], receivedAt: new Date() };

  it('takes the first host label present', () => {
    const mapped = mapAlertmanagerAlert(am({ instance: 'b', host: 'a' }), options);
    expect(mapped.kind === 'firing' && mapped.alert.host).toBe('a');
    const second = mapAlertmanagerAlert(am({ instance: 'b' }), options);
    expect(second.kind === 'firing' && second.alert.host).toBe('b');
    const none = mapAlertmanagerAlert(am({}), options);
    expect(none.kind === 'firing' && none.alert.host).toBeUndefined();
  });

  it('carries the host into a resolved alert', () => {
    const mapped = mapAlertmanagerAlert({ ...am({ host: 'docker' }), status: 'resolved' }, options);
    expect(mapped).toMatchObject({ kind: 'resolved', host: 'docker' });
  });

  it('keeps an alert whose host label is no host name, refused, so a person sees it', () => {
    const mapped = mapAlertmanagerAlert(am({ host: 'node-1:9100' }), options);
    expect(mapped.kind).toBe('firing');
    if (mapped.kind !== 'firing') return;
    expect(mapped.alert.host).toBeUndefined();
    expect(mapped.alert.targetRejected).toContain('host label host="node-1:9100"');
  });
});

describe('an alert signal about another host', () => {
  const alert = {
    source: 'webhook',
    target: 'medic-demo',
    alertType: 'crash',
    firedAt: '2026-11-25T10:00:00Z',
    receivedAt: '2026-11-25T10:00:00Z',
    logs: [],
  };

  it('is refused by the incident of the same name on this host', () => {
    expect(checkAlertPayload({ ...alert, host: 'docker' }, 'medic-demo', 'docker')).toBeUndefined();
    expect(checkAlertPayload(alert, 'medic-demo')).toBeUndefined();
    expect(checkAlertPayload({ ...alert, host: 'docker' }, 'medic-demo', 'podman')).toContain(
      'on docker, not on podman',
    );
    expect(checkAlertPayload(alert, 'medic-demo', 'podman')).toContain('on local, not on podman');
  });
});

describe("the engine watch's incidents", () => {
  it('carry the host the watching worker serves', async () => {
    const raised: Alert[] = [];
    const { followEngineEvents } = createEngineWatchActivities({
      runtime: fakeEngine([container('app-a')], [death('app-a', T0)]),
      incidents: {
        openOrJoin: async (alert) => {
          raised.push(alert);
          return { workflowId: incidentWorkflowId(alert.target, alert.alertType, alert.host), runId: 'run' };
        },
        findOpenIncident: async () => undefined,
      },
      logger: captureLogger().logger,
      host: 'docker',
    });
    const cursor = { timeNano: (T0 - 1000) * 1e6, keysAtTime: [] };
    await new MockActivityEnvironment().run(followEngineEvents, {
      cursor,
      runForMs: 300,
      heartbeatEveryMs: 50,
    });
    expect(raised.map((a) => [a.target, a.host])).toEqual([['app-a', 'docker']]);
  });
});
