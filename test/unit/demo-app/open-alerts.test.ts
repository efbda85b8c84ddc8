import { describe, expect, it } from 'vitest';
import { OpenAlerts } from '../../../demo-app/src/open-alerts.js';

const options = { clearAfterMs: 3000, retryAfterFailureMs: 30_000 };

describe('OpenAlerts', () => {
  it('asks to send a new symptom once, and not again while the send is in flight', () => {
    const alerts = new OpenAlerts(options);
    expect(alerts.observe(['memory-leak'], 0)).toEqual({ toSend: ['memory-leak'], cleared: [] });
    expect(alerts.isInFlight('memory-leak')).toBe(true);
    expect(alerts.observe(['memory-leak'], 100).toSend).toEqual([]);
    expect(alerts.observe(['memory-leak'], 200).toSend).toEqual([]);
  });

  it('does not repeat an accepted alert while its symptom persists', () => {
    const alerts = new OpenAlerts(options);
    alerts.observe(['hang'], 0);
    alerts.settle('hang', true, 50);
    expect(alerts.isOpen('hang')).toBe(true);
    for (let t = 100; t <= 60_000; t += 100) expect(alerts.observe(['hang'], t).toSend).toEqual([]);
  });

  it('closes an alert once the symptom has been gone for clearAfterMs, then may fire again', () => {
    const alerts = new OpenAlerts(options);
    alerts.observe(['db-latency'], 0);
    alerts.settle('db-latency', true, 10);
    alerts.observe(['db-latency'], 1000);
    expect(alerts.observe([], 2000)).toEqual({ toSend: [], cleared: [] });
    expect(alerts.observe([], 3999)).toEqual({ toSend: [], cleared: [] });
    expect(alerts.observe([], 4000)).toEqual({ toSend: [], cleared: ['db-latency'] });
    expect(alerts.isOpen('db-latency')).toBe(false);
    expect(alerts.observe(['db-latency'], 9000).toSend).toEqual(['db-latency']);
  });

  it('does not re-fire a symptom that flickers off for less than clearAfterMs', () => {
    const alerts = new OpenAlerts(options);
    alerts.observe(['cpu-spike'], 0);
    alerts.settle('cpu-spike', true, 10);
    const sent: string[] = [];
    // Present in one check of every three, as cpu-spike's 800 ms blocks are with a short interval.
    for (let t = 100; t < 10_000; t += 100) {
      sent.push(...alerts.observe(t % 300 === 0 ? ['cpu-spike'] : [], t).toSend);
    }
    expect(sent).toEqual([]);
  });

  it('after a failed delivery, retries only once the cooldown has passed', () => {
    const alerts = new OpenAlerts(options);
    alerts.observe(['error-storm'], 0);
    alerts.settle('error-storm', false, 1000);
    expect(alerts.isOpen('error-storm')).toBe(false);
    expect(alerts.isInFlight('error-storm')).toBe(false);
    expect(alerts.observe(['error-storm'], 5000).toSend).toEqual([]);
    expect(alerts.observe(['error-storm'], 31_000).toSend).toEqual(['error-storm']);
  });

  it('keeps alert types independent', () => {
    const alerts = new OpenAlerts(options);
    expect(alerts.observe(['memory-leak'], 0).toSend).toEqual(['memory-leak']);
    alerts.settle('memory-leak', true, 10);
    expect(alerts.observe(['memory-leak', 'cpu-spike'], 100).toSend).toEqual(['cpu-spike']);
  });

  it('closes an alert accepted after its symptom had already gone', () => {
    const alerts = new OpenAlerts(options);
    alerts.observe(['hang'], 0);
    alerts.observe([], 100);
    alerts.settle('hang', true, 5000);
    expect(alerts.observe([], 5100)).toEqual({ toSend: [], cleared: ['hang'] });
  });
});
