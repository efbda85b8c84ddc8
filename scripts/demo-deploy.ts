// `npm run demo:deploy -- bad|good`: deploys the demo container (DEMO_CONTAINER_NAME, default medic-demo)
// again from another image, the way a deploy does: the container is recreated under its name with its own
// configuration (environment, labels, ports, limits, mounts, networks) and only the image swapped.
// `bad` is a "bad release" of the same build: the demo image with one file more (demo-app/src/release.ts),
// built locally FROM it and tagged `<tag>-bad`, so both images stand side by side with their own ids;
// `good` goes back to the image without it. Medic then sees the image change before the fault.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type Docker from 'dockerode';
import { badReleaseFile } from '../demo-app/src/release.js';
import { HEALTH_URL_LABEL } from '../src/activities/containers.js';
import { followProgress, imageExists } from './demo-image.js';
import { findEngine } from './engine.js';
import { TOOLS_DIR } from './paths.js';

export type DemoRelease = 'good' | 'bad';
export const DEFAULT_DEMO_CONTAINER = 'medic-demo';
const BAD_SUFFIX = '-bad';

/** The good and bad refs of a demo image: `repo:tag` and `repo:tag-bad`, from either. */
export function releaseRefs(ref: string): { good: string; bad: string } {
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  const [repo, tag] = colon > slash ? [ref.slice(0, colon), ref.slice(colon + 1)] : [ref, 'latest'];
  const goodTag = tag.endsWith(BAD_SUFFIX) ? tag.slice(0, -BAD_SUFFIX.length) : tag;
  return { good: `${repo}:${goodTag}`, bad: `${repo}:${goodTag}${BAD_SUFFIX}` };
}

/**
 * Builds the bad release of `goodRef` through the engine's build API: FROM it, plus the release file. The
 * engine's build cache gives the same image again for the same good image.
 */
export async function ensureBadImage(docker: Docker, goodRef: string): Promise<string> {
  const { bad } = releaseRefs(goodRef);
  const context = path.join(TOOLS_DIR, 'demo-app', 'bad-release');
  await fs.mkdir(context, { recursive: true });
  await fs.writeFile(
    path.join(context, 'Dockerfile'),
    `# The demo app's bad release: the same build, and a setting that breaks it (demo-app/src/release.ts).\nFROM ${goodRef}\nCOPY release.json /app/release.json\n`,
  );
  await fs.writeFile(path.join(context, 'release.json'), badReleaseFile(bad.slice(bad.lastIndexOf(':') + 1)));
  const stream = await docker.buildImage({ context, src: ['Dockerfile', 'release.json'] }, { t: bad });
  const output = (await followProgress(docker, stream)) as Array<{ stream?: string; error?: string }>;
  const failed = output.find((o) => o.error);
  if (failed || !(await imageExists(docker, bad)))
    throw new Error(`building ${bad} from ${goodRef} failed: ${failed?.error ?? 'no image'}`);
  return bad;
}

/** What the engines report beyond the typings. */
type ContainerConfig = Docker.ContainerInspectInfo['Config'] & { StopSignal?: string; StopTimeout?: number };
type ImageConfig = Docker.ImageInspectInfo['Config'] & { StopSignal?: string };
type Endpoint = {
  Aliases?: string[] | null;
  IPAMConfig?: Docker.EndpointSettings['IPAMConfig'] | null;
  Links?: string[] | null;
};

const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/**
 * The create request of a container as it is, with another image: its own settings, that is what it was
 * given beyond its image's defaults (environment entries and labels the old image set are left to the
 * new one, as are its command and entrypoint when they were the old image's), and the host side whole.
 */
export function createRequestFor(
  info: Docker.ContainerInspectInfo,
  oldImage: Docker.ImageInspectInfo,
  image: string,
): { request: Docker.ContainerCreateOptions; moreNetworks: Array<[string, Docker.EndpointSettings]> } {
  const base: ImageConfig = oldImage.Config ?? ({} as ImageConfig);
  const config: ContainerConfig = info.Config;
  const imageEnv = new Set(base.Env ?? []);
  const imageLabels = base.Labels ?? {};
  const hostNetwork = ['host', 'none'].includes(info.HostConfig.NetworkMode ?? '');
  const endpoints = Object.entries(info.NetworkSettings?.Networks ?? {})
    .filter(([network]) => !hostNetwork && network !== 'bridge' && network !== 'podman')
    .map(([network, endpoint]: [string, Endpoint]): [string, Docker.EndpointSettings] => [
      network,
      {
        // The old container's own id is one of its aliases on Docker: the new one gets its own.
        Aliases: (endpoint.Aliases ?? []).filter((alias) => !info.Id.startsWith(alias)),
        ...(endpoint.IPAMConfig ? { IPAMConfig: endpoint.IPAMConfig } : {}),
        ...(endpoint.Links ? { Links: endpoint.Links } : {}),
      },
    ]);
  const [first, ...moreNetworks] = endpoints;
  const request: Docker.ContainerCreateOptions = {
    name: info.Name.replace(/^\//, ''),
    Image: image,
    // Docker names a container's host after its id when it was given none: the new one gets its own.
    ...(config.Hostname && !info.Id.startsWith(config.Hostname) && !hostNetwork
      ? { Hostname: config.Hostname }
      : {}),
    ...(config.Domainname ? { Domainname: config.Domainname } : {}),
    ...(config.User && config.User !== base.User ? { User: config.User } : {}),
    Env: (config.Env ?? []).filter((entry) => !imageEnv.has(entry)),
    Labels: Object.fromEntries(
      Object.entries(config.Labels ?? {}).filter(([key, value]) => imageLabels[key] !== value),
    ),
    ...(same(config.Cmd, base.Cmd) ? {} : { Cmd: config.Cmd }),
    ...(same(config.Entrypoint ?? [], base.Entrypoint ?? []) ? {} : { Entrypoint: config.Entrypoint }),
    ...(config.WorkingDir && config.WorkingDir !== (base.WorkingDir || '/')
      ? { WorkingDir: config.WorkingDir }
      : {}),
    ...(config.ExposedPorts ? { ExposedPorts: config.ExposedPorts } : {}),
    ...(config.Healthcheck && !same(config.Healthcheck, base.Healthcheck)
      ? { Healthcheck: config.Healthcheck }
      : {}),
    // Engines report the default (SIGTERM) when none was set.
    ...(config.StopSignal && !['15', 'SIGTERM', base.StopSignal].includes(config.StopSignal)
      ? { StopSignal: config.StopSignal }
      : {}),
    ...(config.Tty ? { Tty: true } : {}),
    ...(config.OpenStdin ? { OpenStdin: true } : {}),
    ...(config.StopTimeout !== undefined ? { StopTimeout: config.StopTimeout } : {}),
    HostConfig: info.HostConfig,
    ...(first ? { NetworkingConfig: { EndpointsConfig: { [first[0]]: first[1] } } } : {}),
  };
  return { request, moreNetworks };
}

export interface Recreated {
  name: string;
  from: { containerId: string; image: string; imageId: string };
  to: { containerId: string; image: string; imageId: string };
  kept: { env: number; labels: number; mounts: number; network: string; memoryBytes: number; ports: number };
}

/**
 * Recreates container `name` from `image`, keeping its configuration: stops it and keeps it aside under
 * another name until the new one runs, then removes it; if the new one cannot be created or started, the
 * old one is put back and started again.
 */
export async function recreateWithImage(docker: Docker, name: string, image: string): Promise<Recreated> {
  const info = await docker.getContainer(name).inspect();
  // By id: once renamed, the name is the new container's.
  const old = docker.getContainer(info.Id);
  const oldImage = await docker.getImage(info.Image).inspect();
  const newImage = await docker.getImage(image).inspect();
  const { request, moreNetworks } = createRequestFor(info, oldImage, image);
  const stopTimeout = (info.Config as ContainerConfig).StopTimeout ?? 10;
  if (info.State.Running) await old.stop({ t: stopTimeout });
  const aside = `${name}-replaced-${info.Id.slice(0, 12)}`;
  await old.rename({ name: aside });
  let created: Docker.Container | undefined;
  try {
    const container = await docker.createContainer(request);
    created = container;
    for (const [network, endpoint] of moreNetworks)
      await docker.getNetwork(network).connect({ Container: container.id, EndpointConfig: endpoint });
    await container.start();
  } catch (err) {
    await created?.remove({ force: true }).catch(() => undefined);
    await old.rename({ name });
    if (info.State.Running) await old.start();
    throw new Error(
      `${name} could not be recreated from ${image}, and runs as it was: ${(err as Error).message}`,
    );
  }
  await old.remove({ force: true });
  return {
    name,
    from: { containerId: info.Id, image: info.Config.Image, imageId: info.Image },
    to: { containerId: created.id, image, imageId: newImage.Id },
    kept: {
      env: request.Env?.length ?? 0,
      labels: Object.keys(request.Labels ?? {}).length,
      mounts: info.Mounts.length,
      network: info.HostConfig.NetworkMode ?? 'default',
      memoryBytes: info.HostConfig.Memory ?? 0,
      ports: Object.keys(info.HostConfig.PortBindings ?? {}).length,
    },
  };
}

export interface Deployed extends Recreated {
  release: DemoRelease;
  /** False when it already ran that image: nothing was recreated. */
  changed: boolean;
}

/** Deploys the good or the bad release of the image the demo container `name` runs now. */
export async function deployDemo(
  docker: Docker,
  options: { name: string; release: DemoRelease; log?: (line: string) => void },
): Promise<Deployed> {
  const log = options.log ?? (() => undefined);
  const info = await docker
    .getContainer(options.name)
    .inspect()
    .catch((err: { statusCode?: number }) => {
      if (err.statusCode === 404)
        throw new Error(`no container ${options.name} on this engine: start it with npm start`);
      throw err;
    });
  const refs = releaseRefs(info.Config.Image);
  if (!(await imageExists(docker, refs.good)))
    throw new Error(
      `the good image ${refs.good} is not on the engine any more: start the demo again with npm start`,
    );
  const image = options.release === 'bad' ? await ensureBadImage(docker, refs.good) : refs.good;
  const target = await docker.getImage(image).inspect();
  if (target.Id === info.Image) {
    log(`${options.name} already runs ${image} (${shortId(target.Id)}): nothing to deploy`);
    const same = { containerId: info.Id, image, imageId: target.Id };
    return {
      name: options.name,
      release: options.release,
      changed: false,
      from: same,
      to: same,
      kept: { env: 0, labels: 0, mounts: 0, network: '', memoryBytes: 0, ports: 0 },
    };
  }
  const done = await recreateWithImage(docker, options.name, image);
  log(
    `${done.name}: ${done.from.image} (${shortId(done.from.imageId)}) -> ${done.to.image} (${shortId(done.to.imageId)})`,
  );
  log(
    `  kept its configuration: ${done.kept.env} environment variables, ${done.kept.labels} labels, network ${done.kept.network}, ${done.kept.ports} published ports, ${done.kept.mounts} mounts, memory limit ${done.kept.memoryBytes ? `${Math.round(done.kept.memoryBytes / 1024 / 1024)} MiB` : 'none'}`,
  );
  log(
    `  container ${shortId(done.from.containerId)} stopped and removed; ${shortId(done.to.containerId)} started`,
  );
  return { ...done, release: options.release, changed: true };
}

const shortId = (id: string) => id.replace(/^sha256:/, '').slice(0, 12);

/** Waits until the container answers at its health URL's origin as itself; false when it does not. */
async function waitForAnswer(docker: Docker, name: string, timeoutMs: number): Promise<URL | undefined> {
  const labels = (await docker.getContainer(name).inspect()).Config.Labels ?? {};
  const health = labels[HEALTH_URL_LABEL];
  if (!health) return undefined;
  const origin = new URL('/', health);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(origin, { signal: AbortSignal.timeout(1000) });
      const body = (await res.json()) as { container_name?: string };
      if (body.container_name === name) return origin;
    } catch {
      // not up yet, or not reachable from here
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return undefined;
}

async function main(): Promise<void> {
  const release = process.argv[2];
  if (release !== 'good' && release !== 'bad') {
    console.error(
      'usage: npm run demo:deploy -- bad|good   (DEMO_CONTAINER_NAME names the container, default medic-demo)',
    );
    process.exit(2);
  }
  const name = process.env.DEMO_CONTAINER_NAME || DEFAULT_DEMO_CONTAINER;
  const log = (line: string) => console.log(`[demo:deploy] ${line}`);
  const engine = await findEngine({ startPodman: true, log });
  if (!engine)
    throw new Error('no container engine: run npm start first (or npm run setup:engine, or set DOCKER_HOST)');
  try {
    log(`deploying the ${release} release to ${name} on ${engine.product}`);
    const done = await deployDemo(engine.docker, { name, release, log });
    if (!done.changed) return;
    const answered = await waitForAnswer(engine.docker, name, 30_000);
    if (!answered) log(`  ${name} did not answer at its health URL from here yet: docker logs ${name}`);
    else if (release === 'bad')
      log(
        `  it answers at ${answered.origin}; in a few seconds its order lookups fail, /health says "bad release" and it alerts bad-release: Medic proposes a ROLLBACK to the image it last ran healthy (approve it in the console)`,
      );
    else log(`  it answers at ${answered.origin}: the good release`);
  } finally {
    await engine.stop();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  main().catch((err) => {
    console.error(`[demo:deploy] ${err instanceof Error ? err.message : err}`);
    process.exit(1);
  });
}
