// RAISE_MEMORY end to end on Docker's own daemon (Podman 4.3 cannot update a container's limits): the demo
// container, at a 384 MiB limit, runs its oom job, which needs 1.2 x that; the kernel kills it, the engine
// watcher sees the OOM kill, and Medic proposes raising the limit to 1.5 x (under the 2 x its label allows),
// which always asks a person. Approved, the limit is raised and the container started again under it; the next
// oom job fits and ends, and no incident opens for it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DockerDaemon, startDockerDaemon } from '../../scripts/docker-daemon.js';
import { waitFor } from '../support/ports.js';
import { type E2eStack, incidentReader, startWatchingStack } from './support.js';

const DEMO = `medic-e2e-raise-${process.pid}`;
const LABEL = { key: 'medic.managed', value: `m${process.pid}` };
const MEMORY_LIMIT = 384 * 1024 * 1024;
let docker: DockerDaemon | undefined;
let dockerProblem: string | undefined;
try {
  docker = await startDockerDaemon(() => undefined);
} catch (err) {
  dockerProblem = (err as Error).message;
  if (process.env.CI) throw new Error(`the memory raise test needs Docker's daemon in CI: ${dockerProblem}`);
  console.warn(`[e2e] skipping the memory raise test: ${dockerProblem} (npm run setup:docker)`);
}
let stack: E2eStack;

describe.skipIf(Boolean(dockerProblem))('a memory raise after an OOM kill, on Docker', () => {
  beforeAll(async () => {
    stack = await startWatchingStack({
      engine: docker!,
      label: LABEL,
      demo: { name: DEMO, env: { MONITOR_INTERVAL_MS: '1000' }, memoryLimitBytes: MEMORY_LIMIT },
      env: { MEDIC_RECURRENCE_WINDOW: '0s' },
    });
  }, 300_000);

  afterAll(async () => {
    await stack?.stop();
    await docker?.stop();
  });

  const { awaitIncident, incident } = incidentReader(() => stack.apiUrl);
  const inspect = () => docker!.docker.getContainer(DEMO).inspect();
  const oomJob = async () =>
    ((await (await fetch(`${stack.demo.url}/`)).json()) as { oom_job: { runs: number; finished: number } })
      .oom_job;

  it('raises the limit once a person approves, and the next oom job fits', { timeout: 300_000 }, async () => {
    expect((await inspect()).HostConfig.Memory).toBe(MEMORY_LIMIT);
    expect((await fetch(`${stack.demo.url}/trigger/oom`, { method: 'POST' })).status).toBe(202);
    const workflowId = `incident:local:${DEMO}:oom`;
    const waiting = await awaitIncident(workflowId, 'AWAITING_APPROVAL');
    expect(waiting.plan?.steps.map((s) => s.name)).toEqual(['RAISE_MEMORY', 'RESTART']);
    expect(waiting.approval?.reason).toMatch(/memory raise \(high risk\)/);
    const res = await fetch(`${stack.apiUrl}/incidents/${workflowId}/approve`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${stack.approverTokens[0]!.token}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ comment: 'give it room' }),
    });
    expect(res.status).toBe(200);
    const ended = await awaitIncident(workflowId, 'RESOLVED');
    expect(ended.steps?.map((s) => [s.remedy, s.outcome])).toEqual([['RAISE_MEMORY', 'healed']]);
    const after = await inspect();
    expect(after.HostConfig.Memory).toBe(Math.floor(MEMORY_LIMIT * 1.5));
    expect(after.State.Running).toBe(true);

    // The next oom job fits under the raised limit: it finishes, nothing is killed, no incident opens.
    const started = after.State.StartedAt;
    const { finished } = await oomJob();
    const since = Date.now();
    expect((await fetch(`${stack.demo.url}/trigger/oom`, { method: 'POST' })).status).toBe(202);
    await waitFor('the oom job to finish', async () => (await oomJob()).finished > finished || undefined, {
      timeoutMs: 60_000,
    });
    expect((await inspect()).State.StartedAt).toBe(started);
    const again = await incident(workflowId);
    expect(again && Date.parse(again.openedAt) > since, 'no new oom incident').toBeFalsy();
  });
});
