// The fault a restart cannot fix, with the demo app in a real container and no model reachable
// (no Gemini key, nothing at OLLAMA_HOST): the rules diagnose, the restart fails verification and
// the incident is FAILED; the next identical incident is not restarted automatically, and says why.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IncidentState } from '../../src/domain/types.js';
import { waitFor } from '../support/ports.js';
import { type E2eStack, engineOrSkip, startE2eStack } from './support.js';

const { engine, skipReason } = engineOrSkip();
const DEMO = `medic-e2e-badcfg-${process.pid}`;
const WORKFLOW_ID = `incident:local:${DEMO}:bad-config`;
let stack: E2eStack;
let settingsDir: string;

describe.skipIf(Boolean(skipReason))('bad-config end to end', () => {
  beforeAll(async () => {
    settingsDir = mkdtempSync(path.join(tmpdir(), 'medic-e2e-badcfg-'));
    stack = await startE2eStack({
      engine: engine!,
      env: {
        // Verification outlasts one monitor interval, so the restarted app's alert joins this incident.
        MEDIC_HEALTH_INITIAL_INTERVAL: '1s',
        MEDIC_HEALTH_BACKOFF: '2',
        MEDIC_HEALTH_MAX_ATTEMPTS: '4',
      },
      demo: { name: DEMO, env: { MONITOR_INTERVAL_MS: '1000' }, settingsDir },
    });
  });

  afterAll(async () => {
    await stack?.stop();
  });

  const container = () => engine!.docker.getContainer(DEMO);
  const startedAt = async () => (await container().inspect()).State.StartedAt;
  const incident = async (): Promise<IncidentState | undefined> => {
    const res = await fetch(`${stack.apiUrl}/incidents/${WORKFLOW_ID}`);
    return res.status === 200 ? ((await res.json()) as IncidentState) : undefined;
  };
  const awaitIncident = (status: IncidentState['status'], notId?: string) =>
    waitFor(
      `${WORKFLOW_ID} to be ${status}`,
      async () => {
        const state = await incident();
        return state?.status === status && state.id !== notId ? state : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 500 },
    );

  it('fails once, learns it, and does not restart the next identical incident alone', {
    timeout: 200_000,
  }, async () => {
    const before = await startedAt();
    expect((await fetch(`${stack.demo.url}/trigger/bad-config`, { method: 'POST' })).status).toBe(202);
    expect(existsSync(path.join(settingsDir, 'settings.json'))).toBe(true);

    // 1. The rules say restart; the restart does not heal it; FAILED, and learned.
    const first = await awaitIncident('FAILED');
    expect(first.diagnosis).toMatchObject({ source: 'rules', action: 'RESTART' });
    expect(first.diagnosis?.trail.map((t) => `${t.provider}:${t.outcome}`)).toEqual([
      'runbook:skipped',
      'gemini:skipped',
      'ollama:failed',
      'rules:answered',
    ]);
    expect(first.diagnosis?.trail.find((t) => t.provider === 'gemini')?.detail).toContain('no API key');
    expect(first.diagnosis?.trail.find((t) => t.provider === 'ollama')?.detail).toMatch(/connection refused/);
    expect(first.actions).toEqual([
      expect.objectContaining({ outcome: 'restarted', previousStartedAt: before }),
    ]);
    expect(first.verification).toMatchObject({ healthy: false });
    expect(first.verification?.detail).toContain('invalid configuration');
    const runbook = JSON.parse(readFileSync(stack.runbookPath, 'utf8'));
    expect(runbook.fixes).toEqual([
      expect.objectContaining({
        match: expect.objectContaining({ target: DEMO, alertType: 'bad-config' }),
        stats: expect.objectContaining({ failed: 1, resolved: 0 }),
      }),
    ]);

    // The fault survived Medic's restart.
    expect((await fetch(`${stack.demo.url}/health`)).status).toBe(503);

    // 2. Restarted again (by hand, through the engine): still broken, and it alerts again.
    await container().restart({ t: 5 });
    const restartedAt = await startedAt();
    const second = await awaitIncident('AWAITING_APPROVAL', first.id);
    expect(second.diagnosis?.errorSignature).toBe(first.diagnosis?.errorSignature);
    expect(second.diagnosis?.knownFix).toMatchObject({ lastOutcome: 'failed', lastIncidentId: first.id });
    expect(second.approval).toMatchObject({ required: true });
    expect(second.approval?.reason).toContain('not restarting automatically');
    expect(second.approval?.reason).toContain(first.id);
    expect(second.actions).toEqual([]);
    expect(await startedAt()).toBe(restartedAt);

    const report = await (await fetch(`${stack.apiUrl}/incidents/${WORKFLOW_ID}/report`)).text();
    expect(report).toContain('Source: **rules**');
    expect(report).toContain('not restarting automatically');
    expect(report).toMatch(/ollama: failed, connection refused after \d+ ms/);

    // 3. A person fixes the settings file, then approves: healed, and the fix works again.
    expect((await fetch(`${stack.demo.url}/trigger/bad-config`, { method: 'DELETE' })).status).toBe(200);
    const approve = await fetch(`${stack.apiUrl}/incidents/${WORKFLOW_ID}/approve`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.approverTokens[0]!.token}` },
    });
    expect(approve.status).toBe(200);
    const healed = await awaitIncident('RESOLVED', first.id);
    expect(healed.id).toBe(second.id);
    expect((await fetch(`${stack.demo.url}/health`)).status).toBe(200);
  });
});
