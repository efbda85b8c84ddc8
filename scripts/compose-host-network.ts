// The compose stack on the host's network, for machines where containers must share it (CI here: only
// loopback traffic is allowed). Derived, not written by hand: `docker-compose config` resolves the given
// files with every address variable of the settings table (the "Compose: addresses" group: bind addresses,
// how services find each other, published addresses) set to 127.0.0.1; then this drops the networks and
// the published ports and puts every service on host networking. Nothing else changes, so the derived file
// cannot drift from docker-compose.yml. Debian's docker-compose 1.29 refuses `networks` next to
// `network_mode: host`, so an overlay could not do this.
//   npx tsx scripts/compose-host-network.ts [--env-file .env] [-f docker-compose.tls.yml] > host-network.yml
//   docker-compose -f host-network.yml --project-directory . up -d
// Ports still come from the variables: pick free ones. The monitoring profile's own files
// (deploy/prometheus, deploy/alertmanager) name services, not variables: point them at 127.0.0.1 too.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parse, stringify } from 'yaml';
import { SETTINGS } from '../src/domain/settings-table.js';
import { PROJECT_ROOT } from './paths.js';

const run = promisify(execFile);

/** The variables that say where a service listens or finds another: on host networking, all loopback. */
export const ADDRESS_VARIABLES: readonly string[] = SETTINGS.filter(
  (row) => row.group === 'compose-addresses',
).map((row) => row.name);

export interface ResolveOptions {
  /** Compose files, relative to the project root; docker-compose.yml first. */
  files: string[];
  envFile?: string;
  /** Variables for the interpolation, over the environment and the env file. */
  env?: Record<string, string>;
  /** Environment for docker-compose itself (DOCKER_HOST and the like). */
  clientEnv?: NodeJS.ProcessEnv;
}

/** `docker-compose config` of the files, as compose itself resolves them. */
export async function resolveCompose(options: ResolveOptions): Promise<string> {
  const args = [
    ...(options.envFile ? ['--env-file', options.envFile] : []),
    '--project-directory',
    PROJECT_ROOT,
    ...options.files.flatMap((f) => ['-f', path.resolve(PROJECT_ROOT, f)]),
    'config',
  ];
  try {
    const { stdout } = await run('docker-compose', args, {
      cwd: PROJECT_ROOT,
      env: { ...(options.clientEnv ?? process.env), ...options.env },
      maxBuffer: 16 << 20,
    });
    return stdout;
  } catch (err) {
    const e = err as Error & { stderr?: string };
    throw new Error(`docker-compose ${args.join(' ')} failed: ${e.stderr || e.message}`);
  }
}

interface ComposeService {
  networks?: unknown;
  network_mode?: string;
  ports?: unknown;
  [key: string]: unknown;
}

/** A resolved compose file put on host networking: no networks, no published ports. */
export function onHostNetwork(resolved: string): string {
  // YAML 1.1, as docker-compose (PyYAML) reads it: `off` and `yes` stay quoted strings.
  const config = parse(resolved, { version: '1.1' }) as {
    services: Record<string, ComposeService>;
    networks?: unknown;
  };
  delete config.networks;
  for (const service of Object.values(config.services)) {
    delete service.networks;
    delete service.ports;
    // A service with no network at all (network_mode: none) keeps it.
    if (service.network_mode === undefined) service.network_mode = 'host';
  }
  return stringify(config, { version: '1.1', lineWidth: 0 });
}

/** The host-networking file for `files`: resolved with loopback addresses, then on host networking. */
export async function hostNetworkCompose(options: ResolveOptions): Promise<string> {
  const loopback = Object.fromEntries(ADDRESS_VARIABLES.map((name) => [name, '127.0.0.1']));
  const resolved = await resolveCompose({ ...options, env: { ...options.env, ...loopback } });
  return `# Derived by scripts/compose-host-network.ts from ${options.files.join(', ')}: do not edit.\n${onHostNetwork(resolved)}`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const argv = process.argv.slice(2);
  const files = ['docker-compose.yml'];
  let envFile: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '-f' && argv[i + 1]) files.push(argv[++i] as string);
    else if (argv[i] === '--env-file' && argv[i + 1]) envFile = path.resolve(argv[++i] as string);
    else throw new Error(`usage: compose-host-network.ts [--env-file FILE] [-f OVERLAY]... (got ${argv[i]})`);
  }
  process.stdout.write(await hostNetworkCompose({ files, envFile }));
}
