import { describe, expect, it } from 'vitest';
import { alertFromWebhook, describeZodError, webhookAlertSchema } from '../../src/domain/alert.js';
import { DEFAULT_LOG_LIMITS } from '../../src/domain/log-bounds.js';
import { incidentWorkflowId, normaliseAlertType } from '../../src/domain/naming.js';

const valid = {
  incident_id: 'abc-123',
  container_name: 'medic-demo',
  alert_type: 'memory-leak',
  severity: 'medium',
  logs: ['{"level":"error","msg":"memory usage above threshold"}'],
  timestamp: '2026-11-25T10:00:00.000Z',
};

describe('webhook alert payload', () => {
  it('parses the demo app payload into an alert', () => {
    const parsed = webhookAlertSchema.parse(valid);
    const alert = alertFromWebhook(parsed, new Date('2026-11-25T10:00:01Z'));
    expect(alert).toMatchObject({
      source: 'webhook',
      externalId: 'abc-123',
      target: 'medic-demo',
      alertType: 'memory-leak',
      severity: 'medium',
      status: 'firing',
      receivedAt: '2026-11-25T10:00:01.000Z',
    });
    expect(incidentWorkflowId(alert.target, alert.alertType)).toBe('incident:local:medic-demo:memory-leak');
  });

  it('names each invalid field', () => {
    const result = webhookAlertSchema.safeParse({ ...valid, container_name: undefined, severity: 'urgent' });
    expect(result.success).toBe(false);
    const details = describeZodError(result.error!);
    expect(details.map((d) => d.path).sort()).toEqual(['container_name', 'severity']);
    expect(details.find((d) => d.path === 'container_name')?.message).toContain('container_name is required');
  });

  it('keeps alerts whose container name has path, shell or control characters, under a stand-in target', () => {
    for (const name of ['../etc', 'a;rm -rf /', 'a b', 'svc\n', '$(id)', '-svc', 'x'.repeat(129)]) {
      const alert = alertFromWebhook(
        webhookAlertSchema.parse({ ...valid, container_name: name }),
        new Date(),
      );
      expect(alert.target, name).toMatch(/^rejected-target-[0-9a-f]{8}$/);
      expect(alert.targetRejected, name).toContain(JSON.stringify(name.slice(0, 80)).slice(0, -1));
    }
    expect(webhookAlertSchema.safeParse({ ...valid, container_name: '' }).success).toBe(false);
    const fine = alertFromWebhook(webhookAlertSchema.parse(valid), new Date());
    expect(fine.target).toBe('medic-demo');
    expect(fine.targetRejected).toBeUndefined();
  });

  it('accepts logs as one string and keeps only the most recent lines', () => {
    const parsed = webhookAlertSchema.parse({ ...valid, logs: 'one\n\ntwo\r\nthree' });
    expect(parsed.logs).toEqual(['one', 'two', 'three']);
    const { maxLines } = DEFAULT_LOG_LIMITS;
    const many = Array.from({ length: maxLines + 50 }, (_, i) => `line ${i}`);
    const kept = alertFromWebhook(webhookAlertSchema.parse({ ...valid, logs: many }), new Date()).logs;
    expect(kept).toHaveLength(maxLines);
    expect(kept.at(-1)).toBe(`line ${maxLines + 49}`);
  });

  it('requires an ISO timestamp', () => {
    expect(webhookAlertSchema.safeParse({ ...valid, timestamp: 'yesterday' }).success).toBe(false);
    expect(webhookAlertSchema.safeParse({ ...valid, timestamp: undefined }).success).toBe(false);
  });

  it('normalises alert names from other senders', () => {
    expect(normaliseAlertType('HighMemoryUsage')).toBe('high-memory-usage');
    expect(normaliseAlertType('memory leak!')).toBe('memory-leak-');
    expect(webhookAlertSchema.parse({ ...valid, alert_type: 'MemoryLeak' }).alert_type).toBe('memory-leak');
    expect(webhookAlertSchema.safeParse({ ...valid, alert_type: '!!!' }).success).toBe(false);
  });
});
