import { describe, expect, it } from 'vitest';
import { ALERT_TYPES } from '../../demo-app/src/symptoms.js';
import { diagnoseByRules } from '../../src/activities/diagnose/rules.js';
import { errorSignature } from '../../src/domain/log-signature.js';

const running = { name: 'svc', exists: true, managed: true, running: true };

describe('rules', () => {
  it('explains each demo fault by its alert type, more confidently when the logs agree', () => {
    // Every alert the demo app can send, but a bad release's: no restart heals that, the image change
    // before it (the deploy rule's evidence) does.
    for (const alertType of ALERT_TYPES.filter((t) => t !== 'bad-release')) {
      const verdict = diagnoseByRules({ alertType, logs: [], observed: running });
      expect(verdict.rule).toBe(alertType);
      expect(verdict.action).toBe('RESTART');
    }
    const bare = diagnoseByRules({ alertType: 'memory-leak', logs: [], observed: running });
    const confirmed = diagnoseByRules({
      alertType: 'memory-leak',
      logs: ['{"level":"error","msg":"memory usage above threshold","rssMb":412}'],
      observed: running,
    });
    expect(confirmed.confidence).toBeGreaterThan(bare.confidence);
    expect(confirmed.justification).toContain('logs');
  });

  it('falls back to what the engine saw when the alert type is unknown', () => {
    expect(
      diagnoseByRules({
        alertType: 'mystery',
        logs: [],
        observed: { ...running, running: false, oomKilled: true },
      }).rule,
    ).toBe('oom-killed');
    expect(
      diagnoseByRules({
        alertType: 'mystery',
        logs: [],
        observed: { ...running, running: false, exitCode: 3 },
      }),
    ).toMatchObject({ rule: 'exited', action: 'RESTART' });
  });

  it('escalates when nothing explains the alert', () => {
    expect(diagnoseByRules({ alertType: 'mystery', logs: ['all fine'], observed: running })).toMatchObject({
      rule: 'no-match',
      action: 'ESCALATE',
    });
  });
});

describe('errorSignature', () => {
  it('is the same for the same fault whatever the numbers, times and ids', () => {
    const a = errorSignature([
      '{"level":"info","msg":"started"}',
      '{"level":"error","msg":"memory usage above threshold: rss 412 MB at 2026-11-25T10:00:00Z"}',
    ]);
    const b = errorSignature([
      '{"level":"error","msg":"memory usage above threshold: rss 977 MB at 2026-11-26T11:30:00Z"}',
    ]);
    expect(a).toBe(b);
    expect(a).toBe('memory usage above threshold: rss <n> mb at <time>');
  });

  it('reads plain text lines and ignores lines without an error', () => {
    expect(errorSignature(['GET / 200', 'Error: connect ECONNREFUSED 10.0.0.1:5432'])).toBe(
      'error: connect econnrefused <n>.<n>.<n>.<n>:<n>',
    );
    expect(errorSignature(['{"level":"info","msg":"ok"}', 'GET / 200'])).toBe('none');
  });
});
