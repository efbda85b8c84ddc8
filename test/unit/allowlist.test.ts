// The allowlist's judgement on what the engine reports about a target.

import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { checkTarget, DEFAULT_PROTECTED_CONTAINERS, judgeTarget } from '../../src/activities/allowlist.js';
import type { ContainerInfo, ContainerRuntime } from '../../src/activities/containers.js';
import { buildActivities } from '../support/medic.js';

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

/** Like the Docker Engine API: a container is found by its name, its id, or any prefix of its id. */
function engineResolvingIds(containers: ContainerInfo[]) {
  const restarted: string[] = [];
  const find = (ref: string) => containers.find((c) => c.name === ref || c.id.startsWith(ref));
  const runtime: ContainerRuntime = {
    kind: 'docker-engine',
    inspect: async (ref) => find(ref),
    restart: async (ref) => {
      const found = find(ref);
      if (!found) throw new Error(`no container ${ref}`);
      restarted.push(found.id);
      found.startedAt = new Date(Date.parse(found.startedAt) + 1000).toISOString();
    },
    logs: async () => [],
  };
  return { runtime, restarted };
}

describe('a container id never bypasses the protected-name check', () => {
  const paymentsDb = () =>
    info({ id: 'abcdef0123456789abcdef0123456789', name: 'payments-db', image: 'postgres:16' });
  const protectedOptions = { ...options, protectedNames: [...DEFAULT_PROTECTED_CONTAINERS, 'payments-db'] };

  it("judgeTarget('abcdef012345', payments-db) is refused: the resolved container's name must be the target", () => {
    for (const opts of [protectedOptions, options]) {
      const verdict = judgeTarget('abcdef012345', paymentsDb(), opts);
      expect(verdict.allowed).toBe(false);
      if (!verdict.allowed) expect(verdict.reason).toMatch(/resolved it to payments-db \(abcdef012345\)/);
    }
    const protectedVerdict = judgeTarget('abcdef012345', paymentsDb(), protectedOptions);
    if (!protectedVerdict.allowed) expect(protectedVerdict.reason).toMatch(/protected/);
    expect(judgeTarget('payments-db', paymentsDb(), options)).toEqual({ allowed: true });
  });

  it('checkTarget judges the container the engine resolved an id or id prefix to', async () => {
    const { runtime } = engineResolvingIds([paymentsDb()]);
    for (const ref of ['abcdef012345', 'abcdef0123456789abcdef0123456789', 'abc']) {
      expect((await checkTarget(runtime, ref, protectedOptions)).allowed, ref).toBe(false);
    }
    expect(await checkTarget(runtime, 'payments-db', options)).toEqual({ allowed: true });
  });

  it('restartContainer refuses a target that names an id, and restarts a named one by its resolved id', async () => {
    const db = paymentsDb();
    const { runtime, restarted } = engineResolvingIds([db]);
    const { activities } = buildActivities(runtime);
    const request = { incidentId: 'i-1', expectedStartedAt: db.startedAt, stopTimeoutMs: 1000 };
    // In an activity's context, as a worker runs it (the restart heartbeats).
    const restart = (target: string): ReturnType<typeof activities.restartContainer> =>
      new MockActivityEnvironment({}, { logger: new DefaultLogger('ERROR') }).run(
        activities.restartContainer,
        {
          ...request,
          target,
        },
      );
    await expect(restart('abcdef012345')).rejects.toMatchObject({
      type: 'TargetNameMismatch',
      nonRetryable: true,
    });
    expect(restarted).toEqual([]);
    const action = await restart('payments-db');
    expect(action.outcome).toBe('restarted');
    expect(restarted).toEqual([db.id]);
  });
});
