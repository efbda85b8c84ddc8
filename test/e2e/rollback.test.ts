// A bad deploy, end to end on the engine: the sweep records the image the demo container runs healthy; the
// container is recreated from the demo's bad release (`npm run demo:deploy -- bad`), which alerts
// bad-release seconds after start; Medic proposes a ROLLBACK naming the image change and waits for a person;
// approved, the container runs the image it last ran healthy again, under its name with its configuration,
// healthy, and the bad container it kept during the swap is gone.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployDemo } from '../../scripts/demo-deploy.js';
import { guardWorkflowId } from '../../src/domain/naming.js';
import { guardStateQuery } from '../../src/workflows/messages.js';
import { waitFor } from '../support/ports.js';
import { type E2eStack, engineOrSkip, incidentReader, startWatchingStack } from './support.js';

const { engine, skipReason } = engineOrSkip();
const DEMO = `medic-e2e-rollback-${process.pid}`;
const LABEL = { key: 'medic.managed', value: `r${process.pid}` };
let stack: E2eStack;

describe.skipIf(Boolean(skipReason))('a bad deploy', () => {
  beforeAll(async () => {
    stack = await startWatchingStack({
      engine: engine!,
      label: LABEL,
      demo: { name: DEMO, env: { MONITOR_INTERVAL_MS: '1000' } },
      env: { MEDIC_SWEEP_INTERVAL: '3s', MEDIC_RECURRENCE_WINDOW: '0s' },
    });
  }, 240_000);

  afterAll(async () => {
    await stack?.stop();
    const kept = await engine!.docker.listContainers({
      all: true,
      filters: { name: [`${DEMO}-medic-rollback`] },
    });
    for (const c of kept)
      await engine!.docker
        .getContainer(c.Id)
        .remove({ force: true })
        .catch(() => undefined);
  });

  const { awaitIncident, incident } = incidentReader(() => stack.apiUrl);
  const inspect = () => engine!.docker.getContainer(DEMO).inspect();
  /** The container's own settings; its labels without those its image carries (a Buildah image has one). */
  const configurationOf = async (info: Awaited<ReturnType<typeof inspect>>) => {
    const imageLabels = (await engine!.docker.getImage(info.Image).inspect()).Config.Labels ?? {};
    const labels = Object.entries(info.Config.Labels ?? {}).filter(([k, v]) => imageLabels[k] !== v);
    return { ...settingsOf(info), labels: Object.fromEntries(labels) };
  };
  const settingsOf = (info: Awaited<ReturnType<typeof inspect>>) => ({
    name: info.Name.replace(/^\//, ''),
    env: [...(info.Config.Env ?? [])].sort(),
    network: info.HostConfig.NetworkMode,
    memory: info.HostConfig.Memory,
    binds: info.HostConfig.Binds,
  });

  it('is rolled back to the image it last ran healthy, once a person approves', {
    timeout: 300_000,
  }, async () => {
    const good = await inspect();
    // The sweep saw it healthy and told its guard the image.
    const guard = stack.client.workflow.getHandle(guardWorkflowId(DEMO, 'local'));
    await waitFor(
      'the guard to know the healthy image',
      async () =>
        (await guard.query(guardStateQuery).catch(() => undefined))?.healthyImage?.id === good.Image,
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    const deployed = await deployDemo(engine!.docker, { name: DEMO, release: 'bad' });
    expect(deployed.changed).toBe(true);
    const bad = await inspect();
    expect(bad.Image).not.toBe(good.Image);

    const workflowId = `incident:local:${DEMO}:bad-release`;
    const waiting = await awaitIncident(workflowId, 'AWAITING_APPROVAL');
    expect(waiting.plan?.steps.map((s) => s.name)[0]).toBe('ROLLBACK');
    expect(waiting.plan?.from[0]).toMatch(/the image changed \d+ min before the fault/);
    expect(waiting.approval?.reason).toMatch(/rollback \(high risk\)/);
    const res = await fetch(`${stack.apiUrl}/incidents/${workflowId}/approve`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${stack.approverTokens[0]!.token}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ comment: 'roll it back' }),
    });
    expect(res.status).toBe(200);
    const ended = await awaitIncident(workflowId, 'RESOLVED');
    expect(ended.steps?.map((s) => [s.remedy, s.outcome])).toEqual([['ROLLBACK', 'healed']]);
    expect(ended.steps?.[0]?.approval).toMatchObject({ decision: 'approved' });
    expect(ended.actions.filter((a) => a.action === 'ROLLBACK').map((a) => a.outcome)).toEqual(['acted']);

    // Printed, never asserted: from the approval to healthy on the old image, and the phases.
    const approvedAt = Date.parse(ended.approval?.decidedAt ?? '');
    const toHealthyMs = Date.parse(ended.verification?.checkedAt ?? '') - approvedAt;
    console.log(`[rollback] approval to healthy ${toHealthyMs} ms, phases ${JSON.stringify(ended.phases)}`);
    const after = await inspect();
    expect(after.Image).toBe(good.Image);
    expect(after.Id).not.toBe(bad.Id);
    expect(await configurationOf(after)).toEqual(await configurationOf(bad));
    expect(after.State.Running).toBe(true);
    expect((await fetch(`${stack.demo.url}/health`)).status).toBe(200);
    const kept = await engine!.docker.listContainers({
      all: true,
      filters: { name: [`${DEMO}-medic-rollback`] },
    });
    expect(kept, 'the bad container it kept is gone').toEqual([]);
    // The bad release's container is gone too (it was the kept one).
    await expect(engine!.docker.getContainer(bad.Id).inspect()).rejects.toMatchObject({ statusCode: 404 });
    // No other incident acted on the target meanwhile.
    const crash = await incident(`incident:local:${DEMO}:crash`);
    expect(crash?.actions ?? []).toEqual([]);
  });
});
