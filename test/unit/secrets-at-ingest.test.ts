// Secrets from outside are redacted where they come in: what the parsers make of a payload, the signal
// the gateway sends for every source, the evidence's signature, and the runbook file Medic writes.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import type { ContainerRuntime } from '../../src/activities/containers.js';
import { gatherCoreEvidence } from '../../src/activities/diagnose/evidence.js';
import { RunbookStore } from '../../src/activities/runbook.js';
import { alertFromWebhook, webhookAlertSchema } from '../../src/domain/alert.js';
import { alertmanagerPayloadSchema, mapAlertmanagerAlert } from '../../src/domain/alertmanager.js';
import { errorSignature } from '../../src/domain/log-signature.js';
import { IncidentGateway } from '../../src/temporal/incident-gateway.js';
import { alertFor, testSettings } from '../support/medic.js';

const CONNECTION = 'postgres://app:S3cretPassw0rd@db:5432/app';
const TOKEN_LETTERS = 'KqWmZrTxVbNpLsHdJfGcYeUaQoXiRwEtBnMz';
const TOKEN = `ghp_${TOKEN_LETTERS}`;
const LINE = `{"level":"error","msg":"cannot reach ${CONNECTION} with ${TOKEN}"}`;

/** No case-insensitive trace of either secret, in any form Medic might have turned it into. */
function expectNoTrace(value: unknown): void {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  expect(text).not.toMatch(/cretpassw/i);
  expect(text.toLowerCase()).not.toContain(TOKEN_LETTERS.toLowerCase());
}

describe('secrets never stored', () => {
  it('a webhook alert as parsed holds neither secret, in its logs or anywhere else', () => {
    expect(TOKEN_LETTERS).toMatch(/^[A-Za-z]{36}$/);
    const parsed = webhookAlertSchema.parse({
      incident_id: `deploy ${TOKEN}`,
      container_name: CONNECTION,
      alert_type: 'db-down',
      severity: 'high',
      logs: ['starting', LINE, `${CONNECTION} ${TOKEN}`],
      timestamp: '2026-11-25T10:00:00.000Z',
    });
    const alert = alertFromWebhook(parsed, new Date());
    expectNoTrace(alert);
    expect(alert.logs.join('\n')).toContain('[REDACTED]');
    expectNoTrace(errorSignature(alert.logs));
  });

  it('an Alertmanager alert as parsed holds neither secret', () => {
    const payload = alertmanagerPayloadSchema.parse({
      version: '4',
      groupKey: '{}:{alertname="DbDown"}',
      status: 'firing',
      receiver: 'medic',
      externalURL: 'http://alertmanager:9093',
      alerts: [
        {
          status: 'firing',
          labels: { alertname: 'DbDown', container: CONNECTION, severity: 'critical' },
          annotations: { summary: `db down: ${CONNECTION}`, description: `token ${TOKEN}` },
          startsAt: '2026-11-25T10:00:00Z',
          fingerprint: TOKEN,
        },
      ],
    });
    const am = payload.alerts[0];
    if (!am) throw new Error('no alert parsed');
    const mapped = mapAlertmanagerAlert(am, { targetLabels: ['container'], receivedAt: new Date() });
    expect(mapped.kind).toBe('firing');
    expectNoTrace(mapped);
  });

  it('the signature of the raw lines holds neither secret', () => {
    expectNoTrace(errorSignature(['ok', LINE]));
  });

  it("the gateway signals every source's alert redacted and bounded (an engine alert with a 1 MB line)", async () => {
    const sent: unknown[] = [];
    const client = {
      withDeadline: (_deadline: number, fn: () => Promise<unknown>) => fn(),
      workflow: {
        signalWithStart: async (_type: string, options: { signalArgs: unknown[] }) => {
          sent.push(options);
          return { signaledRunId: 'run-1' };
        },
      },
    } as unknown as Client;
    const gateway = new IncidentGateway(client, 'medic', testSettings({ searchAttributes: false }));
    const alert = alertFor('svc', {
      source: 'engine',
      logs: [LINE, `${'x'.repeat(1024 * 1024)} ${CONNECTION}`, `Error: ${TOKEN}`],
      evidence: { via: 'event', check: 'die', containerId: 'abc', detail: `exited: ${CONNECTION}` },
    });
    await gateway.openOrJoin(alert);
    expect(sent).toHaveLength(1);
    expectNoTrace(sent);
    expect(JSON.stringify(sent).length).toBeLessThan(64 * 1024);
  });

  it('the engine logs read for evidence give a signature without the secret', async () => {
    const runtime = {
      kind: 'process-supervisor',
      inspect: async (name: string) => ({
        id: 'abc',
        name,
        labels: {},
        managed: true,
        state: 'running',
        running: true,
        startedAt: '2026-11-25T10:00:00.000Z',
        restartCount: 0,
        exitCode: 0,
        oomKilled: false,
      }),
      logs: async () => ['ok', LINE],
    } as unknown as ContainerRuntime;
    const { evidence } = await gatherCoreEvidence(
      { target: 'svc', alertType: 'crash', severity: 'high', logs: [] },
      runtime,
    );
    expect(evidence.logSource).toBe('engine');
    expectNoTrace(evidence);
  });

  const record = (errorSignatureText: string, incidentId: string) => ({
    incidentId,
    workflowId: `incident-svc-db-down`,
    target: 'svc',
    alertType: 'db-down',
    errorSignature: errorSignatureText,
    action: 'RESTART' as const,
    rootCause: 'the database connection pool broke',
    outcome: 'resolved' as const,
    at: '2026-11-25T10:00:00.000Z',
  });

  it('the runbook file written holds neither secret', async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'medic-secrets-')), 'runbook.json');
    const store = new RunbookStore(file);
    await store.recordOutcome(record(errorSignature([LINE]), 'run-1'));
    expectNoTrace(readFileSync(file, 'utf8'));
  });

  it('an entry learned before redaction still matches, and leaves the file when its fix is next written', async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'medic-secrets-')), 'runbook.json');
    // What Medic wrote before: the signature normalised from the raw line, secret and all.
    const oldSignature = `cannot reach postgres://app:s<n>cretpassw<n>rd@db:<n>/app with ${TOKEN.toLowerCase()}`;
    const at = '2026-11-24T10:00:00.000Z';
    const oldFix = {
      id: 'fix-svc-db-down-0a1b2c3d',
      match: { target: 'svc', alertType: 'db-down', errorSignature: oldSignature },
      action: 'RESTART',
      rootCause: 'the database connection pool broke',
      enabled: true,
      learnedFrom: 'run-old',
      createdAt: at,
      updatedAt: at,
      stats: { resolved: 1, failed: 0, rejected: 0, didNotStick: 0 },
      history: [{ incidentId: 'run-old', workflowId: 'incident-svc-db-down', outcome: 'resolved', at }],
    };
    writeFileSync(file, JSON.stringify({ version: 1, fixes: [oldFix] }, null, 2));

    const store = new RunbookStore(file);
    const signatureNow = errorSignature([LINE]);
    const found = await store.find('svc', 'db-down', signatureNow);
    expect(found?.id).toBe(oldFix.id);

    const result = await store.recordOutcome(record(signatureNow, 'run-new'));
    expect(result).toMatchObject({ fixId: oldFix.id, created: false });
    const after = await store.read();
    expect(after.fixes).toHaveLength(1);
    expect(after.fixes[0]?.stats.resolved).toBe(2);
    expectNoTrace(readFileSync(file, 'utf8'));
  });
});
