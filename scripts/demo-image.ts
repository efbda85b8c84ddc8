// Builds the demo app's image without a registry, and runs it as a managed container.
// On Linux the image is a root filesystem of this machine's node binary, its shared libraries and
// the bundled app, imported through the Engine API (works on Docker and Podman alike). Elsewhere
// (Docker Desktop on macOS or Windows) the engine builds demo-app/Dockerfile instead.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type Docker from 'dockerode';
import { build } from 'esbuild';
import { OOM_LIMIT_FACTOR } from '../demo-app/src/oom-amount.js';
import { HEALTH_URL_LABEL } from '../src/activities/containers.js';
import { REMEDY_LABELS } from '../src/domain/remedies.js';
import { PROJECT_ROOT, TOOLS_DIR } from './paths.js';

const run = promisify(execFile);

export const DEMO_IMAGE_REPO = 'localhost/medic-demo-app';
const BUILD_DIR = path.join(TOOLS_DIR, 'demo-app');
const BUNDLE = path.join(BUILD_DIR, 'server.cjs');
const ENTRY = path.join(PROJECT_ROOT, 'demo-app', 'src', 'server.ts');

/** Bundles the demo app into one file (.tools/demo-app/server.cjs) that plain node runs. */
export async function bundleDemoApp(): Promise<{ file: string; code: string }> {
  await fs.mkdir(BUILD_DIR, { recursive: true });
  await build({
    entryPoints: [ENTRY],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    outfile: BUNDLE,
    logLevel: 'error',
    legalComments: 'none',
  });
  return { file: BUNDLE, code: await fs.readFile(BUNDLE, 'utf8') };
}

/** The shared libraries `ldd` lists for a binary (absolute paths only). */
export async function sharedLibraries(binary: string): Promise<string[]> {
  const { stdout } = await run('ldd', [binary]);
  const libs = new Set<string>();
  for (const line of stdout.split('\n')) {
    const match = /(?:=>\s*)?(\/\S+)\s+\(0x/.exec(line);
    if (match?.[1]) libs.add(match[1]);
  }
  return [...libs];
}

export async function imageExists(docker: Docker, ref: string): Promise<boolean> {
  try {
    await docker.getImage(ref).inspect();
    return true;
  } catch {
    return false;
  }
}

async function importRootfsImage(docker: Docker, repo: string, tag: string): Promise<void> {
  const rootfs = path.join(BUILD_DIR, 'rootfs');
  await fs.rm(rootfs, { recursive: true, force: true });
  const node = await fs.realpath(process.execPath);
  const files = [
    [node, '/usr/local/bin/node'] as const,
    ...(await sharedLibraries(node)).map((l) => [l, l] as const),
  ];
  for (const [from, to] of files) {
    const dest = path.join(rootfs, to);
    await fs.mkdir(path.dirname(dest), { recursive: true });
    await fs.copyFile(from, dest); // follows symlinks: the image gets the real file
  }
  await fs.mkdir(path.join(rootfs, 'app'), { recursive: true });
  await fs.copyFile(BUNDLE, path.join(rootfs, 'app', 'server.cjs'));
  await fs.mkdir(path.join(rootfs, 'tmp'), { recursive: true, mode: 0o1777 });
  await importRootfs(docker, rootfs, `${repo}:${tag}`, [
    'CMD ["/usr/local/bin/node", "/app/server.cjs"]',
    'ENV NODE_ENV=production',
    // No STOPSIGNAL: SIGTERM is the default, and Docker's import refuses that change (Podman's accepts it).
  ]);
  await fs.rm(rootfs, { recursive: true, force: true });
}

/** Imports a root filesystem directory as image `ref` through the Engine API (Docker and Podman alike). */
export async function importRootfs(
  docker: Docker,
  rootfs: string,
  ref: string,
  changes: string[],
): Promise<void> {
  const tar = execFile('tar', ['-C', rootfs, '-c', '.'], {
    encoding: 'buffer',
    maxBuffer: 1024 * 1024 * 1024,
  });
  if (!tar.stdout) throw new Error('tar produced no output stream');
  const stream = await docker.importImage(
    tar.stdout as unknown as NodeJS.ReadableStream,
    // `repo:tag` in one parameter: Podman ignores a separate `tag` on import, Docker accepts both.
    { repo: ref, changes } as unknown as Record<string, unknown>,
  );
  await followProgress(docker, stream);
}

/** Waits for an Engine API progress stream (import, build) to end; rejects on its error. */
export function followProgress(docker: Docker, stream: NodeJS.ReadableStream): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    docker.modem.followProgress(stream, (err: Error | null, output: unknown[]) =>
      err ? reject(err) : resolve(output),
    );
  });
}

async function buildFromDockerfile(docker: Docker, ref: string): Promise<void> {
  const stream = await docker.buildImage(
    {
      context: PROJECT_ROOT,
      src: [
        'demo-app/package.json',
        'demo-app/src',
        'demo-app/Dockerfile',
        'src/domain',
        'src/api/webhook-signature.ts',
      ],
    },
    { t: ref, dockerfile: 'demo-app/Dockerfile' },
  );
  await followProgress(docker, stream);
}

/** Builds the image if this exact app and node version have not been built yet; returns its ref. */
export async function ensureDemoImage(
  docker: Docker,
  log: (line: string) => void = console.log,
): Promise<string> {
  const bundle = await bundleDemoApp();
  const hash = createHash('sha256')
    .update(bundle.code)
    .update(process.version)
    .update(process.platform)
    .digest('hex')
    .slice(0, 12);
  const ref = `${DEMO_IMAGE_REPO}:${hash}`;
  if (await imageExists(docker, ref)) return ref;
  const started = Date.now();
  if (process.platform === 'linux') {
    log(
      `building the demo app image ${ref} from this machine's node ${process.version} (no registry needed) ...`,
    );
    await importRootfsImage(docker, DEMO_IMAGE_REPO, hash);
  } else {
    log(`building the demo app image ${ref} from demo-app/Dockerfile ...`);
    await buildFromDockerfile(docker, ref);
  }
  log(`demo app image ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return ref;
}

export interface DemoContainerOptions {
  name: string;
  image: string;
  port: number;
  env: Record<string, string>;
  labels?: Record<string, string>;
  memoryLimitBytes?: number;
  /** A host directory mounted at /data, holding the app's settings file: faults written there survive restarts. */
  settingsDir?: string;
  /** False: no remedy labels (demoRemedyLabels), so a restart is all Medic may do to it. */
  declaresRemedies?: boolean;
}

/** Where the settings file is inside the container when `settingsDir` is mounted. */
export const CONTAINER_SETTINGS_FILE = '/data/settings.json';

const MiB = 1024 * 1024;
/** How far Medic may raise the demo's memory limit (medic.memory.max): twice the limit it starts with. */
export const DEMO_MEMORY_CAP_FACTOR = 2;

/**
 * What the demo app declares to Medic by label: its own reset-pool action (low risk: it drops a pool's
 * connections, nothing else), the plan for each fault it has one for, cheapest first, and how far a memory
 * raise may go. docker-compose.yml declares the same.
 */
export function demoRemedyLabels(memoryLimitBytes?: number): Record<string, string> {
  return {
    [`${REMEDY_LABELS.actionPrefix}reset-pool`]: 'POST /admin/reset-pool',
    [`${REMEDY_LABELS.actionPrefix}reset-pool.risk`]: 'low',
    [`${REMEDY_LABELS.planPrefix}db-latency`]: 'reset-pool,restart',
    [`${REMEDY_LABELS.planPrefix}oom`]: 'raise-memory,restart',
    ...(memoryLimitBytes
      ? { [REMEDY_LABELS.memoryMax]: `${Math.round((DEMO_MEMORY_CAP_FACTOR * memoryLimitBytes) / MiB)}m` }
      : {}),
  };
}

/** What the oom fault's job needs under a limit: more than it (1.2 x), and less than a 1.5 x raise gives. */
export const demoOomAllocateMb = (memoryLimitBytes: number) =>
  Math.round((memoryLimitBytes / MiB) * OOM_LIMIT_FACTOR);

/**
 * (Re)creates and starts the demo container on the host network, labelled for Medic with its health URL
 * and its remedies; under a memory limit, the oom fault's job needs 1.2 x that limit (OOM_ALLOCATE_MB), a
 * fixed amount in its environment that a raised limit does not change.
 */
export async function runDemoContainer(
  docker: Docker,
  options: DemoContainerOptions,
): Promise<Docker.Container> {
  await removeContainer(docker, options.name);
  const container = await docker.createContainer({
    name: options.name,
    Image: options.image,
    Env: Object.entries({
      ...(options.memoryLimitBytes
        ? { OOM_ALLOCATE_MB: String(demoOomAllocateMb(options.memoryLimitBytes)) }
        : {}),
      ...options.env,
      PORT: String(options.port),
      CONTAINER_NAME: options.name,
      ...(options.settingsDir ? { DEMO_SETTINGS_FILE: CONTAINER_SETTINGS_FILE } : {}),
    }).map(([k, v]) => `${k}=${v}`),
    Labels: {
      'medic.managed': 'true',
      [HEALTH_URL_LABEL]: `http://127.0.0.1:${options.port}/health`,
      ...(options.declaresRemedies === false ? {} : demoRemedyLabels(options.memoryLimitBytes)),
      ...options.labels,
    },
    StopTimeout: 5,
    HostConfig: {
      NetworkMode: 'host',
      ...(options.settingsDir ? { Binds: [`${options.settingsDir}:/data`] } : {}),
      ...(options.memoryLimitBytes ? { Memory: options.memoryLimitBytes } : {}),
    },
  });
  await container.start();
  return container;
}

export async function removeContainer(docker: Docker, name: string): Promise<void> {
  try {
    await docker.getContainer(name).remove({ force: true });
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode !== 404) throw err;
  }
}
