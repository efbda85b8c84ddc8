// Builds Medic's worker and API images from docker/medic.Dockerfile (`npm run build:image`), tagged by a hash
// of everything that goes into them, so an unchanged tree is not rebuilt. With no registry reachable the
// base image is a local stand-in for the official node image: this machine's node and npm, a shell, and
// a `node` user, imported as a root filesystem (MEDIC_NODE_IMAGE names another base instead).
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type Docker from 'dockerode';
import { followProgress, imageExists, importRootfs, sharedLibraries } from './demo-image.js';
import { findEngine } from './engine.js';
import { PROJECT_ROOT, TOOLS_DIR } from './paths.js';

export const MEDIC_WORKER_REPO = 'localhost/medic-worker';
export const MEDIC_API_REPO = 'localhost/medic-api';
const run = promisify(execFile);
const BASE_REPO = 'localhost/medic-node-base';
const DOCKERFILE = 'docker/medic.Dockerfile';
/** What the Dockerfile copies: the build context and the image's content hash. */
const CONTEXT = [
  DOCKERFILE,
  'package.json',
  'package-lock.json',
  'demo-app/package.json',
  'tsconfig.json',
  'tsconfig.build.json',
  'runbook.json',
  'scripts/build.ts',
  'scripts/paths.ts',
  'src',
];
/** The host's CA bundle and npm's setting for it: npm in the build reaches the registry as the host's does. */
const CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';
/** Bump when the stand-in's recipe changes, so an old base is not reused. */
const BASE_RECIPE = 2;

async function filesUnder(entry: string): Promise<string[]> {
  const full = path.join(PROJECT_ROOT, entry);
  if (!(await fs.stat(full)).isDirectory()) return [entry];
  const entries = await fs.readdir(full, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.relative(PROJECT_ROOT, path.join(e.parentPath, e.name)))
    .sort();
}

/** A hash of every file the build context holds (names and contents) and the base image. */
export async function contextHash(baseImage: string): Promise<string> {
  const hash = createHash('sha256').update(baseImage);
  for (const entry of CONTEXT) {
    for (const file of await filesUnder(entry)) {
      hash
        .update(file)
        .update('\0')
        .update(await fs.readFile(path.join(PROJECT_ROOT, file)));
    }
  }
  return hash.digest('hex').slice(0, 12);
}

export async function copyWithLibraries(rootfs: string, from: string, to: string): Promise<void> {
  const real = await fs.realpath(from);
  for (const [src, dest] of [[real, to], ...(await sharedLibraries(real)).map((l) => [l, l])] as const) {
    const target = path.join(rootfs, dest);
    await fs.mkdir(path.dirname(target), { recursive: true });
    await fs.copyFile(src, target); // follows symlinks: the image gets the real file
    await fs.chmod(target, 0o755);
  }
}

/**
 * The C runtime the official image has whole (Debian's libc6, libgcc-s1, libstdc++6): native modules
 * such as the Temporal core bridge need more of it (librt) than node itself links.
 */
export async function copyCRuntime(rootfs: string): Promise<void> {
  const { stdout } = await run('dpkg', ['-L', 'libc6', 'libgcc-s1', 'libstdc++6']).catch(() => ({
    stdout: '',
  }));
  for (const file of stdout.split('\n').filter((f) => /\.so(\.[\d.]+)?$/.test(f))) {
    const target = path.join(rootfs, file);
    await fs.mkdir(path.dirname(target), { recursive: true });
    await fs.copyFile(file, target).catch(() => undefined); // dpkg lists a few dangling links
  }
}

/** The stand-in's files laid out as the official image has them (/usr/local, user node with uid 1000). */
async function layOutNodeBase(rootfs: string): Promise<void> {
  await copyCRuntime(rootfs);
  await copyWithLibraries(rootfs, process.execPath, '/usr/local/bin/node');
  await copyWithLibraries(rootfs, '/bin/sh', '/bin/sh'); // npm runs scripts with sh -c
  await copyWithLibraries(rootfs, '/usr/bin/env', '/usr/bin/env'); // npm's shebang
  const npmDir = path.resolve(path.dirname(await fs.realpath(process.execPath)), '../lib/node_modules/npm');
  await fs.cp(npmDir, path.join(rootfs, 'usr/local/lib/node_modules/npm'), { recursive: true });
  for (const [name, cli] of [
    ['npm', 'npm-cli.js'],
    ['npx', 'npx-cli.js'],
  ]) {
    await fs.symlink(
      `../lib/node_modules/npm/bin/${cli}`,
      path.join(rootfs, 'usr/local/bin', name as string),
    );
  }
  await fs.mkdir(path.join(rootfs, 'etc/ssl/certs'), { recursive: true });
  await fs.copyFile(CA_BUNDLE, path.join(rootfs, CA_BUNDLE));
  await fs.mkdir(path.join(rootfs, 'usr/local/etc'), { recursive: true });
  await fs.writeFile(path.join(rootfs, 'usr/local/etc/npmrc'), `cafile=${CA_BUNDLE}\n`);
  await fs.writeFile(
    path.join(rootfs, 'etc/passwd'),
    'root:x:0:0:root:/root:/bin/sh\nnode:x:1000:1000::/home/node:/bin/sh\n',
  );
  await fs.writeFile(path.join(rootfs, 'etc/group'), 'root:x:0:\nnode:x:1000:\n');
  for (const dir of ['root', 'home/node', 'tmp']) await fs.mkdir(path.join(rootfs, dir), { recursive: true });
  await fs.chmod(path.join(rootfs, 'tmp'), 0o1777);
  await fs.chown(path.join(rootfs, 'home/node'), 1000, 1000);
}

/** The local stand-in for node:20-bookworm-slim, built once per node version and recipe. */
export async function ensureNodeBaseImage(docker: Docker, log: (line: string) => void): Promise<string> {
  const ca = createHash('sha256')
    .update(await fs.readFile(CA_BUNDLE))
    .digest('hex');
  const tag = createHash('sha256')
    .update(`${process.version} ${process.arch} ${BASE_RECIPE} ${ca}`)
    .digest('hex')
    .slice(0, 12);
  const ref = `${BASE_REPO}:${tag}`;
  if (await imageExists(docker, ref)) return ref;
  log(
    `building the base image ${ref} from this machine's node ${process.version} (stands in for the official one)`,
  );
  const rootfs = path.join(TOOLS_DIR, 'medic-node-base');
  await fs.rm(rootfs, { recursive: true, force: true });
  await layOutNodeBase(rootfs);
  await importRootfs(docker, rootfs, ref, [
    'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    'CMD ["node"]',
  ]);
  await fs.rm(rootfs, { recursive: true, force: true });
  return ref;
}

async function buildTarget(docker: Docker, target: 'worker' | 'api', ref: string, baseImage: string) {
  const stream = await docker.buildImage({ context: PROJECT_ROOT, src: CONTEXT }, {
    t: ref,
    dockerfile: DOCKERFILE,
    target,
    buildargs: JSON.stringify({ NODE_IMAGE: baseImage }),
    // npm ci reaches the registry through the host's network: the bridge's addresses are off limits here.
    networkmode: 'host',
  } as unknown as Docker.ImageBuildOptions);
  const output = (await followProgress(docker, stream)) as Array<{ stream?: string; error?: string }>;
  const failed = output.find((o) => o.error);
  if (failed || !(await imageExists(docker, ref))) {
    const tail = output
      .map((o) => o.stream ?? o.error ?? '')
      .join('')
      .split('\n')
      .slice(-15)
      .join('\n');
    throw new Error(`building ${ref} (target ${target}) failed:\n${tail}`);
  }
}

export interface MedicImages {
  worker: string;
  api: string;
  base: string;
  /** False when both images were already there for this exact tree. */
  built: boolean;
}

/** Builds both targets unless images of this exact context exist; returns their refs. */
export async function ensureMedicImages(
  docker: Docker,
  log: (line: string) => void = console.log,
): Promise<MedicImages> {
  const base = process.env.MEDIC_NODE_IMAGE || (await ensureNodeBaseImage(docker, log));
  const hash = await contextHash(base);
  const worker = `${MEDIC_WORKER_REPO}:${hash}`;
  const api = `${MEDIC_API_REPO}:${hash}`;
  if ((await imageExists(docker, worker)) && (await imageExists(docker, api)))
    return { worker, api, base, built: false };
  const started = Date.now();
  log(`building ${worker} and ${api} from ${DOCKERFILE} on ${base} ...`);
  await buildTarget(docker, 'worker', worker, base);
  await buildTarget(docker, 'api', api, base);
  log(`Medic's images ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return { worker, api, base, built: true };
}

async function main(): Promise<void> {
  const engine = await findEngine({ startPodman: true });
  if (!engine) throw new Error('no container engine: run npm run setup:engine, or set DOCKER_HOST');
  try {
    const images = await ensureMedicImages(engine.docker);
    console.log(`worker image: ${images.worker}\napi image:    ${images.api}\n(base ${images.base})`);
  } finally {
    await engine.stop();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  main().catch((err) => {
    console.error(`[image] ${err instanceof Error ? err.message : err}`);
    process.exit(1);
  });
}
