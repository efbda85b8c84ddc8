// `npm run demo:deploy` for real: the demo container is recreated from its image's bad release and back on
// the engine, under its name, with its own configuration (environment, labels, network, limits, mounts)
// and another image id; both images stand side by side; the bad release breaks the app a few seconds after
// start, the good one does not; and a new container that cannot start leaves the old one running as it was.
import { promises as fs, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { deployDemo, recreateWithImage, releaseRefs } from '../../scripts/demo-deploy.js';
import { followProgress, removeContainer, runDemoContainer } from '../../scripts/demo-image.js';
import { waitForDemoApp } from '../support/medic.js';
import { portForAnotherProcess, waitFor } from '../support/ports.js';
import { engineOrSkip, NO_WEBHOOK } from './support.js';

const { engine, skipReason } = engineOrSkip();
const NAME = `medic-e2e-deploy-${process.pid}`;
const MEMORY_LIMIT = 384 * 1024 * 1024;
let url = '';

/** What a deploy must keep: the container's own settings, as the engine reports them. */
function configurationOf(info: Docker.ContainerInspectInfo) {
  return {
    name: info.Name.replace(/^\//, ''),
    env: [...(info.Config.Env ?? [])].sort(),
    labels: info.Config.Labels,
    network: info.HostConfig.NetworkMode,
    memory: info.HostConfig.Memory,
    memorySwap: info.HostConfig.MemorySwap,
    binds: info.HostConfig.Binds,
    ports: info.HostConfig.PortBindings,
    restart: info.HostConfig.RestartPolicy,
    mounts: info.Mounts.map((m) => `${m.Source}:${m.Destination}`),
  };
}

/** The labels a container has beyond its image's (an image built by Buildah carries one of its own). */
async function ownLabels(docker: Docker, info: Docker.ContainerInspectInfo) {
  const image = (await docker.getImage(info.Image).inspect()).Config.Labels ?? {};
  return Object.fromEntries(Object.entries(info.Config.Labels ?? {}).filter(([k, v]) => image[k] !== v));
}

const index = async () =>
  (await (await fetch(`${url}/`)).json()) as { container_name: string; release: { name: string } };

describe.skipIf(Boolean(skipReason))('demo:deploy', () => {
  beforeAll(async () => {
    const port = await portForAnotherProcess();
    const settingsDir = mkdtempSync(path.join(tmpdir(), 'medic-e2e-deploy-'));
    await runDemoContainer(engine!.docker, {
      name: NAME,
      image: inject('demoImage')!,
      port,
      env: { ...NO_WEBHOOK, MONITOR_INTERVAL_MS: '500' },
      labels: { 'medic.managed': `d${process.pid}` },
      memoryLimitBytes: MEMORY_LIMIT,
      settingsDir,
    });
    url = `http://127.0.0.1:${port}`;
    await waitForDemoApp(url, NAME);
  });

  afterAll(async () => {
    await removeContainer(engine!.docker, NAME);
  });

  it('recreates it from the bad release and back, keeping its configuration, with another image id', async () => {
    const docker = engine!.docker;
    const first = await docker.getContainer(NAME).inspect();
    const kept = configurationOf(first);
    const good = await docker.getImage(inject('demoImage')!).inspect();
    expect(first.Image).toBe(good.Id);

    const bad = await deployDemo(docker, { name: NAME, release: 'bad' });
    expect(bad.changed).toBe(true);
    expect(bad.to.image).toBe(releaseRefs(inject('demoImage')!).bad);
    const second = await docker.getContainer(NAME).inspect();
    expect(second.Id).not.toBe(first.Id);
    expect(second.Image).toBe(bad.to.imageId);
    expect(second.Image).not.toBe(good.Id);
    // Both images stand side by side on the engine.
    expect((await docker.getImage(bad.to.image).inspect()).Id).toBe(second.Image);
    expect((await docker.getImage(inject('demoImage')!).inspect()).Id).toBe(good.Id);
    // Its configuration is the one it had; only the image changed.
    expect({ ...configurationOf(second), labels: await ownLabels(docker, second) }).toEqual({
      ...kept,
      labels: await ownLabels(docker, first),
    });
    expect(second.Config.Labels).toMatchObject(first.Config.Labels ?? {});
    expect(second.State.Running).toBe(true);
    // The old container is gone, not kept aside.
    await expect(docker.getContainer(first.Id).inspect()).rejects.toMatchObject({ statusCode: 404 });

    await waitFor('the bad release to answer', async () => (await index().catch(() => undefined))?.release);
    expect((await index()).release.name).toBe('bad');
    await waitFor('the bad release to fail', async () => {
      const health = await fetch(`${url}/health`);
      const body = (await health.json()) as { reasons?: string[] };
      return health.status === 503 && body.reasons?.includes('bad release');
    });

    const back = await deployDemo(docker, { name: NAME, release: 'good' });
    expect(back.changed).toBe(true);
    const third = await docker.getContainer(NAME).inspect();
    expect(third.Image).toBe(good.Id);
    expect(configurationOf(third)).toEqual(kept);
    await waitForDemoApp(url, NAME);
    expect((await index()).release.name).toBe('good');

    // Deploying what it runs changes nothing.
    const again = await deployDemo(docker, { name: NAME, release: 'good' });
    expect(again.changed).toBe(false);
    expect((await docker.getContainer(NAME).inspect()).Id).toBe(third.Id);
  });

  it('leaves the old container running as it was when the new one cannot start', async () => {
    const docker = engine!.docker;
    const before = await docker.getContainer(NAME).inspect();
    // An image whose command does not exist: it is created, and fails to start.
    const context = mkdtempSync(path.join(tmpdir(), 'medic-e2e-broken-'));
    await fs.writeFile(
      path.join(context, 'Dockerfile'),
      `FROM ${inject('demoImage')}\nCMD ["/no/such/binary"]\n`,
    );
    const broken = `${releaseRefs(inject('demoImage')!).good}-broken-${process.pid}`;
    await followProgress(docker, await docker.buildImage({ context, src: ['Dockerfile'] }, { t: broken }));
    try {
      await expect(recreateWithImage(docker, NAME, broken)).rejects.toThrow(/runs as it was/);
      const after = await docker.getContainer(NAME).inspect();
      expect(after.Id).toBe(before.Id);
      expect(after.State.Running).toBe(true);
      expect(configurationOf(after)).toEqual(configurationOf(before));
      const all = await docker.listContainers({ all: true, filters: { name: [NAME] } });
      expect(all.map((c) => c.Names[0]?.replace(/^\//, ''))).toEqual([NAME]);
      await waitForDemoApp(url, NAME);
    } finally {
      await docker
        .getImage(broken)
        .remove({ force: true })
        .catch(() => undefined);
    }
  });
});
