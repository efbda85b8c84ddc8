import { describe, expect, it } from 'vitest';
import type { Thresholds } from '../../../demo-app/src/config.js';
import { evaluateSymptoms, type SymptomReadings } from '../../../demo-app/src/symptoms.js';

const thresholds: Thresholds = {
  memoryGrowthMb: 150,
  eventLoopLagMs: 200,
  dbLatencyMs: 1000,
  errorsPerInterval: 20,
};

const healthy: SymptomReadings = {
  rssMb: 80,
  rssGrowthMb: 10,
  eventLoopLagMs: 12,
  dbLatencyMs: 5,
  errors: 0,
  healthProbe: 'answered',
};

const typesOf = (readings: Partial<SymptomReadings>) =>
  evaluateSymptoms({ ...healthy, ...readings }, thresholds).map((s) => s.alertType);

describe('evaluateSymptoms', () => {
  it('finds nothing when every reading is under its threshold', () => {
    expect(evaluateSymptoms(healthy, thresholds)).toEqual([]);
  });

  it('maps each crossed threshold to its alert type and severity', () => {
    const cases = [
      [{ rssGrowthMb: 151 }, 'memory-leak', 'medium', 'memory high', 'memory usage above threshold'],
      [{ eventLoopLagMs: 800 }, 'cpu-spike', 'medium', 'event-loop lag', 'event loop blocked'],
      [{ dbLatencyMs: 2500 }, 'db-latency', 'high', 'slow database', 'database latency above threshold'],
      [{ errors: 45 }, 'error-storm', 'medium', 'error rate', 'error rate above threshold'],
      [
        { releaseProblem: 'release x-bad reads column orders.total_cents' },
        'bad-release',
        'high',
        'bad release',
        'order lookups fail since the release',
      ],
      [
        { healthProbe: 'timed-out' },
        'hang',
        'critical',
        undefined,
        'service unresponsive: health probe got no answer',
      ],
    ] as const;
    for (const [readings, alertType, severity, healthReason, message] of cases) {
      const symptoms = evaluateSymptoms({ ...healthy, ...readings }, thresholds);
      expect(symptoms).toHaveLength(1);
      expect(symptoms[0]).toMatchObject({ alertType, severity, healthReason, message });
    }
  });

  it('counts a reading exactly at its threshold as crossed', () => {
    expect(typesOf({ rssGrowthMb: 150, eventLoopLagMs: 200, dbLatencyMs: 1000, errors: 20 })).toEqual([
      'memory-leak',
      'cpu-spike',
      'db-latency',
      'error-storm',
    ]);
    expect(typesOf({ rssGrowthMb: 149.9, eventLoopLagMs: 199, dbLatencyMs: 999, errors: 19 })).toEqual([]);
  });

  it('reports a hang only when the self-probe timed out', () => {
    expect(typesOf({ healthProbe: 'timed-out' })).toEqual(['hang']);
    expect(typesOf({ healthProbe: 'failed' })).toEqual([]);
    expect(typesOf({ healthProbe: undefined })).toEqual([]);
  });

  it('reports every symptom present at once', () => {
    expect(typesOf({ rssGrowthMb: 400, errors: 100, healthProbe: 'timed-out' })).toEqual([
      'memory-leak',
      'error-storm',
      'hang',
    ]);
  });

  it('puts the measured values and the threshold in the log fields', () => {
    const [memory] = evaluateSymptoms({ ...healthy, rssMb: 312.345, rssGrowthMb: 231.26 }, thresholds);
    expect(memory?.fields).toEqual({ rssMb: 312.3, rssGrowthMb: 231.3, thresholdMb: 150 });
  });

  it('follows the configured thresholds', () => {
    const strict = { ...thresholds, errorsPerInterval: 1 };
    expect(evaluateSymptoms({ ...healthy, errors: 1 }, strict).map((s) => s.alertType)).toEqual([
      'error-storm',
    ]);
  });
});
