// The allowlist's judgement on what the engine reports about a target.
import { describe, expect, it } from 'vitest';
import { judgeTarget } from '../../src/activities/allowlist.js';
import type { ContainerInfo } from '../../src/activities/containers.js';

const info = (overrides: Partial<ContainerInfo> = {}): ContainerInfo => ({
  id: 'c0ffee0123456789abcdef',
  name: 'shop-api',
  labels: { 'medic.managed': 'true' },
  managed: true,
  image: 'localhost/shop-api:1.4',
  state: 'running',
  running: true,
  startedAt: '2026-11-25T10:00:00Z',
  restartCount: 0,
  exitCode: 0,
  oomKilled: false,
  ...overrides,
});

const options = { managedLabel: { key: 'medic.managed', value: 'true' }, selfHostname: 'medic-host' };

describe('judgeTarget', () => {
  it('allows an existing container with the managed label', () => {
    expect(judgeTarget('shop-api', info(), options)).toEqual({ allowed: true });
  });

  it('refuses what does not exist, lacks the label, runs Temporal, or is Medic itself', () => {
    const refusals: Array<[string, ContainerInfo | undefined, RegExp, typeof options]> = [
      ['ghost', undefined, /does not exist/, options],
      ['shop-api', info({ managed: false }), /lacks the label medic\.managed=true/, options],
      [
        'tmprl',
        info({ name: 'tmprl', image: 'temporalio/auto-setup:1.22.4' }),
        /runs the Temporal server/,
        options,
      ],
      [
        't2',
        info({ name: 't2', image: 'docker.io/library/temporal:latest' }),
        /runs the Temporal server/,
        options,
      ],
      ['temporal', info({ name: 'temporal' }), /protected/, options],
      ['medic-api', info({ name: 'medic-api' }), /protected/, options],
      ['api-7', info({ name: 'api-7' }), /is Medic itself/, { ...options, selfHostname: 'c0ffee012345' }],
      ['mine', info({ name: 'mine' }), /is Medic itself/, { ...options, selfHostname: 'mine' }],
    ];
    for (const [name, seen, reason, opts] of refusals) {
      const verdict = judgeTarget(name, seen, opts);
      expect(verdict.allowed, name).toBe(false);
      if (!verdict.allowed) expect(verdict.reason, name).toMatch(reason);
    }
  });

  it('does not mistake an app whose image merely mentions temporal for the server', () => {
    expect(judgeTarget('shop-api', info({ image: 'localhost/temporal-report-app:2' }), options)).toEqual({
      allowed: true,
    });
  });
});
