// Local stand-ins for the official images docker-compose.yml names, for machines that reach no registry
// (CI here). Each is a root filesystem imported into the engine, holding the same program the official
// image runs, at the same paths, started by the same entrypoint and configured by the same environment:
//   - Temporal server and admin tools: the server, SQL tool and CLI built from the Go module proxy, with
//     the server module's own entrypoint and schema files;
//   - Temporal Web UI: the UI server built from its module, with the module's start script;
//   - PostgreSQL: Debian's PostgreSQL 15 and an entrypoint that initialises the data directory from
//     POSTGRES_USER / POSTGRES_PASSWORD as the official image's does, with openssl (the TLS overlay's
//     certificates are made in this image);
//   - HAProxy (the Docker socket proxy): Debian's HAProxy 2.6 and the official image's entrypoint.
// A shell (bash as /bin/sh) and the few tools the entrypoints and the set-up scripts call come along.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type Docker from 'dockerode';
import { imageExists, importRootfs } from './demo-image.js';
import { copyCRuntime, copyWithLibraries } from './medic-image.js';
import { TOOLS_DIR } from './paths.js';
import {
  ensureClusterTools,
  ensureTemporalUiServer,
  TEMPORAL_SERVER_VERSION,
  TEMPORAL_UI_VERSION,
} from './temporal-cluster.js';
import { ensureElfTool, TEMPORAL_CLI } from './tools.js';

const execFileAsync = promisify(execFile);

/** Bump when a recipe below changes, so an old stand-in is not reused. */
const RECIPE = 3;
const PG_VERSION = '15';

export interface StandinImages {
  postgres: string;
  haproxy: string;
  temporalServer: string;
  adminTools: string;
  ui: string;
}

type Log = (line: string) => void;

interface User {
  name: string;
  uid: number;
}

/** The C runtime, bash as /bin/sh, the named tools, /etc/passwd with root and `user`, and a /tmp. */
async function layOutBase(rootfs: string, user: User, tools: string[]): Promise<void> {
  await copyCRuntime(rootfs);
  await copyWithLibraries(rootfs, '/bin/bash', '/bin/sh');
  await copyWithLibraries(rootfs, '/bin/bash', '/bin/bash');
  for (const tool of tools) await copyWithLibraries(rootfs, tool, tool);
  await fs.mkdir(path.join(rootfs, 'etc'), { recursive: true });
  await fs.copyFile('/etc/nsswitch.conf', path.join(rootfs, 'etc/nsswitch.conf')).catch(() => undefined);
  await fs.writeFile(
    path.join(rootfs, 'etc/passwd'),
    `root:x:0:0:root:/root:/bin/sh\n${user.name}:x:${user.uid}:${user.uid}::/home/${user.name}:/bin/sh\n`,
  );
  await fs.writeFile(path.join(rootfs, 'etc/group'), `root:x:0:\n${user.name}:x:${user.uid}:\n`);
  for (const dir of ['root', `home/${user.name}`, 'tmp'])
    await fs.mkdir(path.join(rootfs, dir), { recursive: true });
  await fs.chmod(path.join(rootfs, 'tmp'), 0o1777);
  await fs.chown(path.join(rootfs, `home/${user.name}`), user.uid, user.uid);
}

async function copyFile(rootfs: string, from: string, to: string, mode = 0o755): Promise<void> {
  const target = path.join(rootfs, to);
  await fs.mkdir(path.dirname(target), { recursive: true });
  await fs.copyFile(from, target);
  await fs.chmod(target, mode);
}

/** Builds `ref` from a root filesystem laid out by `layOut`, unless the engine has it already. */
async function standin(
  docker: Docker,
  ref: string,
  log: Log,
  layOut: (rootfs: string) => Promise<void>,
  changes: string[],
): Promise<string> {
  if (await imageExists(docker, ref)) return ref;
  const started = Date.now();
  const rootfs = path.join(TOOLS_DIR, 'standin-rootfs');
  await fs.rm(rootfs, { recursive: true, force: true });
  await layOut(rootfs);
  await importRootfs(docker, rootfs, ref, changes);
  await fs.rm(rootfs, { recursive: true, force: true });
  log(`built stand-in ${ref} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return ref;
}

/** Every file under `entries` (links followed, folders walked in order), names and contents. */
export async function contentHash(entries: string[]): Promise<string> {
  const hash = createHash('sha256');
  const add = async (file: string): Promise<void> => {
    const real = await fs.realpath(file);
    if ((await fs.stat(real)).isDirectory()) {
      for (const name of (await fs.readdir(real)).sort()) await add(path.join(real, name));
      return;
    }
    hash.update(`${path.basename(file)}\0`);
    for await (const chunk of createReadStream(real)) hash.update(chunk as Buffer);
    hash.update('\0');
  };
  for (const entry of entries) await add(entry);
  return hash.digest('hex');
}

/**
 * The image tag: the version, and a hash of the recipe and of every file the image holds, so that an image
 * built from other binaries (another CLI, a rebuilt server) is never taken for this one.
 */
export async function standinTag(version: string, files: string[], ...inputs: string[]): Promise<string> {
  const content = await contentHash(files);
  return `${version}-${createHash('sha256')
    .update([RECIPE, process.arch, content, ...inputs].join('\0'))
    .digest('hex')
    .slice(0, 12)}`;
}

/** The official postgres image's entrypoint, in brief: first start initialises PGDATA, then runs the command. */
const POSTGRES_ENTRYPOINT = `#!/bin/sh
# Stand-in for the official postgres image's docker-entrypoint.sh: on first start it initialises PGDATA
# with the superuser POSTGRES_USER and the password POSTGRES_PASSWORD (password login from other hosts),
# then runs the command it was given.
set -eu
if [ "\${1:-}" = postgres ] && [ ! -s "$PGDATA/PG_VERSION" ]; then
  : "\${POSTGRES_PASSWORD:?is required, as by the official image}"
  pwfile="/tmp/pwfile.$$"
  printf '%s\\n' "$POSTGRES_PASSWORD" > "$pwfile"
  initdb -D "$PGDATA" -U "\${POSTGRES_USER:-postgres}" --pwfile="$pwfile" -E UTF8 --locale=C.UTF-8 \\
    --auth-local=trust --auth-host=scram-sha-256
  rm -f "$pwfile"
  echo "host all all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
fi
exec "$@"
`;

async function postgresImage(docker: Docker, log: Log): Promise<string> {
  const pgDir = `/usr/lib/postgresql/${PG_VERSION}`;
  const ref = `localhost/medic-standin-postgres:${await standinTag(
    PG_VERSION,
    [path.join(pgDir, 'bin'), '/usr/bin/openssl'],
    POSTGRES_ENTRYPOINT,
  )}`;
  return standin(
    docker,
    ref,
    log,
    async (rootfs) => {
      const user = { name: 'postgres', uid: 999 };
      await layOutBase(rootfs, user, ['/usr/bin/rm', '/usr/bin/chown', '/usr/bin/chmod', '/usr/bin/openssl']);
      await fs.cp('/usr/lib/ssl/openssl.cnf', path.join(rootfs, 'usr/lib/ssl/openssl.cnf'), {
        dereference: true,
      });
      await fs.cp(pgDir, path.join(rootfs, pgDir), { recursive: true });
      for (const bin of await fs.readdir(path.join(pgDir, 'bin'))) {
        await copyWithLibraries(rootfs, path.join(pgDir, 'bin', bin), path.join(pgDir, 'bin', bin));
      }
      for (const dir of [
        `/usr/share/postgresql/${PG_VERSION}`,
        '/usr/share/zoneinfo',
        '/usr/lib/locale/C.utf8',
      ]) {
        await fs.cp(dir, path.join(rootfs, dir), { recursive: true, dereference: true });
      }
      await fs.mkdir(path.join(rootfs, 'usr/local/bin'), { recursive: true });
      await fs.writeFile(path.join(rootfs, 'usr/local/bin/docker-entrypoint.sh'), POSTGRES_ENTRYPOINT, {
        mode: 0o755,
      });
      for (const dir of ['var/lib/postgresql/data', 'var/run/postgresql']) {
        await fs.mkdir(path.join(rootfs, dir), { recursive: true });
        await fs.chown(path.join(rootfs, dir), user.uid, user.uid);
      }
      await fs.chmod(path.join(rootfs, 'var/lib/postgresql/data'), 0o700);
      await fs.chown(path.join(rootfs, 'var/lib/postgresql'), user.uid, user.uid);
    },
    [
      `ENV PATH=/usr/local/bin:${pgDir}/bin:/usr/bin:/bin PGDATA=/var/lib/postgresql/data TZ=UTC`,
      'USER postgres',
      'ENTRYPOINT ["docker-entrypoint.sh"]',
      'CMD ["postgres"]',
    ],
  );
}

/** The official haproxy image's docker-entrypoint.sh: `haproxy` runs in master-worker mode, in the foreground. */
const HAPROXY_ENTRYPOINT = `#!/bin/sh
set -e
if [ "\${1#-}" != "$1" ]; then
  set -- haproxy "$@"
fi
if [ "$1" = 'haproxy' ]; then
  shift
  set -- haproxy -W -db "$@"
fi
exec "$@"
`;

async function haproxyImage(docker: Docker, log: Log): Promise<string> {
  const binary = '/usr/sbin/haproxy';
  await fs.access(binary).catch(() => {
    throw new Error('HAProxy is not installed (npm run setup:docker): the socket proxy stand-in needs it');
  });
  const { stdout } = await execFileAsync(binary, ['-v']);
  const version = /version (\d+\.\d+\.\d+)/.exec(stdout)?.[1] ?? 'unknown';
  const ref = `localhost/medic-standin-haproxy:${await standinTag(version, [binary], HAPROXY_ENTRYPOINT)}`;
  return standin(
    docker,
    ref,
    log,
    async (rootfs) => {
      // The official image's user: haproxy, uid 99.
      await layOutBase(rootfs, { name: 'haproxy', uid: 99 }, []);
      await copyWithLibraries(rootfs, binary, '/usr/local/sbin/haproxy');
      await fs.mkdir(path.join(rootfs, 'usr/local/etc/haproxy'), { recursive: true });
      await fs.mkdir(path.join(rootfs, 'usr/local/bin'), { recursive: true });
      await fs.writeFile(path.join(rootfs, 'usr/local/bin/docker-entrypoint.sh'), HAPROXY_ENTRYPOINT, {
        mode: 0o755,
      });
      await fs.mkdir(path.join(rootfs, 'var/lib/haproxy'), { recursive: true });
      await fs.chown(path.join(rootfs, 'var/lib/haproxy'), 99, 99);
    },
    [
      'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      'WORKDIR /var/lib/haproxy',
      'USER haproxy',
      'ENTRYPOINT ["docker-entrypoint.sh"]',
      'CMD ["haproxy", "-f", "/usr/local/etc/haproxy/haproxy.cfg"]',
    ],
  );
}

const TEMPORAL_USER = { name: 'temporal', uid: 1000 };

async function temporalImages(
  docker: Docker,
  log: Log,
): Promise<Pick<StandinImages, 'temporalServer' | 'adminTools'>> {
  const tools = await ensureClusterTools(log);
  // The CLI is copied into the image: a wrapper script on PATH would exit 127 there.
  const cli = await ensureElfTool(TEMPORAL_CLI, log);
  const entrypoint = path.join(tools.moduleDir, 'docker/scripts/sh/entrypoint.sh');
  const schema = path.join(tools.moduleDir, 'schema');
  const temporalServer = await standin(
    docker,
    `localhost/medic-standin-temporal-server:${await standinTag(TEMPORAL_SERVER_VERSION, [tools.server, entrypoint])}`,
    log,
    async (rootfs) => {
      await layOutBase(rootfs, TEMPORAL_USER, ['/usr/bin/getent', '/usr/bin/hostname', '/usr/bin/awk']);
      await copyFile(rootfs, tools.server, '/usr/local/bin/temporal-server');
      await copyFile(rootfs, entrypoint, '/etc/temporal/entrypoint.sh');
      await fs.mkdir(path.join(rootfs, 'etc/temporal/config/dynamicconfig'), { recursive: true });
    },
    [
      'ENV PATH=/usr/local/bin:/usr/bin:/bin',
      'WORKDIR /etc/temporal',
      'USER temporal',
      'CMD ["/etc/temporal/entrypoint.sh"]',
    ],
  );
  const adminTools = await standin(
    docker,
    `localhost/medic-standin-temporal-admin-tools:${await standinTag(TEMPORAL_SERVER_VERSION, [tools.sqlTool, cli, schema])}`,
    log,
    async (rootfs) => {
      await layOutBase(rootfs, TEMPORAL_USER, ['/usr/bin/sleep', '/usr/bin/grep']);
      await copyFile(rootfs, tools.sqlTool, '/usr/local/bin/temporal-sql-tool');
      await copyFile(rootfs, cli, '/usr/local/bin/temporal');
      await fs.cp(schema, path.join(rootfs, 'etc/temporal/schema'), {
        recursive: true,
      });
    },
    [
      'ENV PATH=/usr/local/bin:/usr/bin:/bin',
      'USER temporal',
      'CMD ["sh", "-c", "trap exit INT HUP TERM; sleep infinity & wait"]',
    ],
  );
  return { temporalServer, adminTools };
}

async function uiImage(docker: Docker, log: Log): Promise<string> {
  const ui = await ensureTemporalUiServer(log);
  const startScript = path.join(ui.moduleDir, 'docker/start-ui-server.sh');
  const configTemplate = path.join(ui.moduleDir, 'config/docker.yaml');
  return standin(
    docker,
    `localhost/medic-standin-temporal-ui:${await standinTag(TEMPORAL_UI_VERSION, [ui.server, startScript, configTemplate])}`,
    log,
    async (rootfs) => {
      await layOutBase(rootfs, TEMPORAL_USER, []);
      const home = '/home/ui-server';
      await copyFile(rootfs, ui.server, `${home}/ui-server`);
      await copyFile(rootfs, startScript, `${home}/start-ui-server.sh`);
      await copyFile(rootfs, configTemplate, `${home}/config/docker.yaml`, 0o644);
      await fs.chown(path.join(rootfs, home), TEMPORAL_USER.uid, TEMPORAL_USER.uid);
    },
    [
      'ENV PATH=/usr/local/bin:/usr/bin:/bin',
      'WORKDIR /home/ui-server',
      'USER temporal',
      'ENTRYPOINT ["./start-ui-server.sh"]',
    ],
  );
}

/** Builds (or finds) every stand-in; a warm run takes a second, a cold one under a minute after the Go builds. */
export async function ensureComposeStandins(docker: Docker, log: Log = console.log): Promise<StandinImages> {
  const postgres = await postgresImage(docker, log);
  const haproxy = await haproxyImage(docker, log);
  const { temporalServer, adminTools } = await temporalImages(docker, log);
  const ui = await uiImage(docker, log);
  return { postgres, haproxy, temporalServer, adminTools, ui };
}
