// docker-compose.yml passes optional settings as `${NAME:-}`: an empty string when the operator leaves
// them unset. Medic must read every such empty value as "unset", or the containers refuse to start.
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { hostNetworkCompose, resolveCompose } from '../../scripts/compose-host-network.js';
import { HAPROXY_CONFIG_FILE, readAllowlist, renderHaproxyConfig } from '../../scripts/docker-proxy.js';
import { loadConfig } from '../../src/config.js';

const compose = readFileSync(new URL('../../docker-compose.yml', import.meta.url), 'utf8');

describe('docker-compose.yml and Medic settings', () => {
  it('starts with every optional setting left empty, as compose passes it', () => {
    const empty = [...compose.matchAll(/^\s+([A-Z][A-Z0-9_]*): \$\{[A-Z0-9_]+:-\}$/gm)].map(
      (m) => m[1] as string,
    );
    const medicSettings = empty.filter((name) => /^(MEDIC_|TEMPORAL_|GEMINI_|OLLAMA_)/.test(name));
    expect(medicSettings).toEqual(
      expect.arrayContaining(['OLLAMA_HOST', 'GEMINI_API_KEY', 'MEDIC_PROVIDERS']),
    );
    const env = Object.fromEntries(medicSettings.map((name) => [name, '']));
    const config = loadConfig(env);
    expect(config.diagnosis.ollama).toBeUndefined(); // MEDIC_PROVIDERS empty: the runbook and the rules only
    expect(loadConfig({ ...env, MEDIC_PROVIDERS: 'ollama' }).diagnosis.ollama?.host).toBe(
      'http://127.0.0.1:11434',
    );
  });
});

describe("the Docker socket proxy's configuration", () => {
  it('is what deploy/docker-proxy/allowlist.json writes: npm run docker-proxy:config', () => {
    const file = readFileSync(new URL(`../../${HAPROXY_CONFIG_FILE}`, import.meta.url), 'utf8');
    expect(file).toBe(renderHaproxyConfig());
    // Everything else is refused: the last rule denies.
    expect(file).toMatch(/http-request deny deny_status 403 .*\n {4}default_backend engine/);
    expect(readAllowlist().length).toBe((file.match(/http-request allow /g) ?? []).length);
  });
});

const haveCompose = existsSync('/usr/bin/docker-compose');
if (!haveCompose && process.env.CI)
  throw new Error('docker-compose is not installed: run npm run setup:docker');

interface Volume {
  type: string;
  source?: string;
  target: string;
}
interface Service {
  networks?: Record<string, unknown>;
  network_mode?: string;
  ports?: unknown[];
  volumes?: Array<string | Volume>;
  secrets?: Array<{ source: string } | string>;
  environment?: Record<string, string>;
  labels?: Record<string, string>;
  profiles?: string[];
}
interface Resolved {
  services: Record<string, Service>;
  networks?: Record<string, { internal?: boolean } | null>;
  secrets?: Record<string, { file: string }>;
}

/** Every way the stack is started: alone, with the ports file, with the TLS overlay, and both. */
const COMBINATIONS: Array<{ files: string[]; envFile?: string }> = [
  { files: ['docker-compose.yml'] },
  { files: ['docker-compose.yml', 'docker-compose.override.yml'], envFile: '.env.example' },
  { files: ['docker-compose.yml', 'docker-compose.tls.yml'], envFile: '.env.example' },
  {
    files: ['docker-compose.yml', 'docker-compose.override.yml', 'docker-compose.tls.yml'],
    envFile: '.env.example',
  },
];
const label = (c: { files: string[] }) => c.files.join(' + ');
const envFileOf = (c: { envFile?: string }) =>
  c.envFile ? new URL(`../../${c.envFile}`, import.meta.url).pathname : undefined;
/** YAML 1.1, as docker-compose reads it. */
const read = (text: string) => parse(text, { version: '1.1' }) as Resolved;
const cache = new Map<string, Promise<Resolved>>();
/** Resolved once per combination: docker-compose takes half a second a call. */
const resolved = (c: { files: string[]; envFile?: string }) => {
  const key = `${label(c)} ${c.envFile ?? ''}`;
  if (!cache.has(key)) cache.set(key, resolveCompose({ files: c.files, envFile: envFileOf(c) }).then(read));
  return cache.get(key) as Promise<Resolved>;
};

/** Who joins which network: Medic's parts on `medic`, the healed services on `managed`. */
const NETWORKS: Record<string, string[]> = {
  postgresql: ['medic'],
  'temporal-schema': ['medic'],
  temporal: ['medic'],
  'temporal-setup': ['medic'],
  'temporal-ui': ['medic'],
  'docker-proxy': ['engine'],
  'medic-worker': ['engine', 'managed', 'medic'],
  'medic-api': ['managed', 'medic'],
  demo: ['managed'],
  prometheus: ['managed', 'medic'],
  alertmanager: ['medic'],
  grafana: ['medic'],
  ollama: ['medic'],
};
/** Services only on internal networks that publish a port join `published` (the ports file). */
const PUBLISHED_ONLY_THERE = ['temporal', 'temporal-ui', 'alertmanager', 'grafana'];
/** Each service's compose secrets: its own, and nobody else's. */
const SECRETS: Record<string, string[]> = {
  prometheus: ['alertmanager-web-password', 'prometheus-token'],
  alertmanager: ['alertmanager-token', 'alertmanager-web-config'],
  grafana: ['grafana-admin-password'],
};
/** The TLS overlay's certificate volumes: made by temporal-certs, each mounted by one service. */
const TLS_VOLUMES: Record<string, string | undefined> = {
  'temporal-tls-ca': undefined,
  'temporal-tls-server': 'temporal',
  'temporal-tls-worker': 'medic-worker',
  'temporal-tls-api': 'medic-api',
  'temporal-tls-ui': 'temporal-ui',
  'temporal-tls-setup': 'temporal-setup',
};

const volumesOf = (service: Service): Volume[] =>
  (service.volumes ?? []).map((v) => {
    if (typeof v !== 'string') return v;
    const [source, target] = v.split(':');
    return { type: source?.startsWith('/') ? 'bind' : 'volume', source, target: target ?? '' };
  });
const secretsOf = (service: Service) =>
  (service.secrets ?? []).map((s) => (typeof s === 'string' ? s : s.source)).sort();
const mountsSocket = (service: Service) =>
  volumesOf(service).some((v) => /docker\.sock$/.test(v.source ?? '') || /docker\.sock$/.test(v.target));

describe.skipIf(!haveCompose)('docker-compose files, resolved by docker-compose', () => {
  it('puts Medic on its own networks and the healed services on theirs, in every combination', async () => {
    for (const combination of COMBINATIONS) {
      const config = await resolved(combination);
      const withPorts = combination.files.includes('docker-compose.override.yml');
      const networks = config.networks ?? {};
      expect(networks.medic?.internal, label(combination)).toBe(true);
      expect(networks.engine?.internal, label(combination)).toBe(true);
      expect(networks.managed?.internal, label(combination)).toBeFalsy();
      for (const [name, service] of Object.entries(config.services)) {
        const joined = Object.keys(service.networks ?? {}).sort();
        if (name === 'temporal-certs') {
          expect(service.network_mode, label(combination)).toBe('none');
          continue;
        }
        const expected = [...(NETWORKS[name] ?? ['(not in the table)'])];
        if (withPorts && PUBLISHED_ONLY_THERE.includes(name)) expected.push('published');
        expect(joined, `${label(combination)}: ${name}`).toEqual(expected.sort());
        // An internal network publishes no port: whoever publishes one is on another too.
        if (service.ports?.length)
          expect(
            joined.some((n) => !networks[n]?.internal),
            `${label(combination)}: ${name} publishes a port`,
          ).toBe(true);
      }
      // Of Medic, only the API, the worker and Prometheus reach the healed services.
      const onManaged = Object.entries(config.services)
        .filter(([, s]) => 'managed' in (s.networks ?? {}))
        .map(([n]) => n);
      expect(onManaged.sort()).toEqual(['demo', 'medic-api', 'medic-worker', 'prometheus']);
      if (withPorts) {
        const onPublished = Object.entries(config.services)
          .filter(([, s]) => 'published' in (s.networks ?? {}))
          .map(([n]) => n);
        expect(onPublished.sort()).toEqual([...PUBLISHED_ONLY_THERE].sort());
      }
    }
  });

  it('mounts the engine socket into the socket proxy only, and points the worker at the proxy', async () => {
    for (const combination of COMBINATIONS) {
      const config = await resolved(combination);
      expect(config.services.grafana, 'the monitoring profile is in').toBeDefined();
      const withSocket = Object.entries(config.services)
        .filter(([, s]) => mountsSocket(s))
        .map(([n]) => n);
      expect(withSocket, label(combination)).toEqual(['docker-proxy']);
      expect(config.services['medic-worker']?.environment?.DOCKER_HOST).toBe('tcp://docker-proxy:2375');
      // The proxy runs the configuration the allowlist writes.
      const proxyConfig = volumesOf(config.services['docker-proxy'] as Service).find(
        (v) => v.target === '/usr/local/etc/haproxy/haproxy.cfg',
      );
      expect(proxyConfig?.source).toMatch(/deploy\/docker-proxy\/haproxy\.cfg$/);
    }
  });

  it('gives each service only its own secrets', async () => {
    const secretsDir = new URL('../../.secrets', import.meta.url).pathname;
    for (const combination of COMBINATIONS) {
      const config = await resolved(combination);
      for (const [name, service] of Object.entries(config.services)) {
        expect(secretsOf(service), `${label(combination)}: ${name}'s secrets`).toEqual(SECRETS[name] ?? []);
        // The secrets folder itself is mounted nowhere.
        for (const v of volumesOf(service))
          expect(v.source ?? '', `${label(combination)}: ${name}`).not.toMatch(
            new RegExp(`^${secretsDir}(/|$)`),
          );
      }
      for (const [secret, { file }] of Object.entries(config.secrets ?? {}))
        expect(file, secret).toMatch(new RegExp(`^${secretsDir}/`));
      if (!combination.files.includes('docker-compose.tls.yml')) continue;
      for (const [volume, owner] of Object.entries(TLS_VOLUMES)) {
        const mountedBy = Object.entries(config.services)
          .filter(([, s]) => volumesOf(s).some((v) => v.type === 'volume' && v.source === volume))
          .map(([n]) => n);
        expect(mountedBy.sort(), `${label(combination)}: ${volume}`).toEqual(
          ['temporal-certs', ...(owner ? [owner] : [])].sort(),
        );
        if (!owner) continue;
        const mount = volumesOf(config.services[owner] as Service).find((v) => v.source === volume);
        expect(mount?.target, `${owner}'s certificates`).toBe('/etc/temporal-tls');
      }
      // Every client of Temporal presents the certificate of its own volume.
      for (const client of ['medic-worker', 'medic-api', 'temporal-ui']) {
        const env = config.services[client]?.environment ?? {};
        expect(env.TEMPORAL_TLS_CERT, client).toBe('/etc/temporal-tls/tls.pem');
        expect(env.TEMPORAL_TLS_KEY, client).toBe('/etc/temporal-tls/tls.key');
      }
      expect(config.services['temporal-setup']?.environment?.TEMPORAL_TLS_CLIENT_CERT_PATH).toBe(
        '/etc/temporal-tls/tls.pem',
      );
      expect(config.services.temporal?.environment?.TEMPORAL_TLS_REQUIRE_CLIENT_AUTH).toBe('true');
    }
  });

  it("turns the Web UI's write actions off", async () => {
    for (const combination of COMBINATIONS) {
      const config = await resolved(combination);
      expect(config.services['temporal-ui']?.environment?.TEMPORAL_DISABLE_WRITE_ACTIONS).toBe('true');
    }
    // The UI's config template defaults to read-only too, should the variable be left out.
    const template = readFileSync(new URL('../../deploy/temporal-ui/docker.yaml', import.meta.url), 'utf8');
    expect(template).toMatch(/^disableWriteActions: .*default "true"/m);
  });

  it('derives the host-network file: no networks, no published ports, every address on loopback', async () => {
    for (const combination of [COMBINATIONS[0], COMBINATIONS[2]] as Array<(typeof COMBINATIONS)[0]>) {
      const base = await resolved(combination);
      const text = await hostNetworkCompose({ files: combination.files, envFile: envFileOf(combination) });
      const host = read(text);
      expect(host.networks, label(combination)).toBeUndefined();
      expect(Object.keys(host.services).sort()).toEqual(Object.keys(base.services).sort());
      for (const [name, service] of Object.entries(host.services)) {
        expect(service.networks, name).toBeUndefined();
        expect(service.ports, name).toBeUndefined();
        expect(service.network_mode, name).toBe(name === 'temporal-certs' ? 'none' : 'host');
      }
      expect(text).not.toMatch(/0\.0\.0\.0/);
      const services = Object.keys(base.services).join('|');
      expect(text).not.toMatch(new RegExp(`//(${services})[:/]`));
      const env = (name: string) => host.services[name]?.environment ?? {};
      expect(env('medic-worker').DOCKER_HOST).toBe('tcp://127.0.0.1:2375');
      expect(env('medic-worker').TEMPORAL_ADDRESS).toBe('127.0.0.1:7233');
      expect(env('temporal').POSTGRES_SEEDS).toBe('127.0.0.1');
      expect(env('demo').MEDIC_WEBHOOK_URL).toBe('http://127.0.0.1:3000/webhooks/alert');
      expect(host.services.demo?.labels?.['medic.health-url']).toBe('http://127.0.0.1:8080/health');
      // Everything else is what docker-compose.yml says.
      expect(env('temporal-ui').TEMPORAL_DISABLE_WRITE_ACTIONS).toBe('true');
      expect(host.services['docker-proxy']?.volumes).toEqual(base.services['docker-proxy']?.volumes);
    }
  });

  it('publishes ports only on loopback by default', async () => {
    const published = await resolveCompose({
      files: ['docker-compose.yml', 'docker-compose.override.yml'],
      envFile: envFileOf({ envFile: '.env.example' }),
    });
    // Normalised short syntax: `- <host ip>:<published>:<target>/tcp`.
    const hostIps = [...published.matchAll(/^ {4}- ([\d.]+):\d+:\d+\/tcp$/gm)].map((m) => m[1]);
    expect(hostIps.length).toBeGreaterThanOrEqual(7);
    expect(new Set(hostIps)).toEqual(new Set(['127.0.0.1']));
  });
});

describe.skipIf(!haveCompose)('the ollama profile', () => {
  it("runs the official image, pinned, on Medic's own network only, with its cloud features off", async () => {
    for (const combination of COMBINATIONS) {
      const config = await resolved(combination);
      const ollama = config.services.ollama;
      expect(ollama?.profiles, label(combination)).toEqual(['ollama']);
      const image = (ollama as { image?: string } | undefined)?.image ?? '';
      expect(image).toMatch(/^ollama\/ollama:\d+\.\d+\.\d+$/);
      expect(Object.keys(ollama?.networks ?? {})).toEqual(['medic']);
      expect(ollama?.ports, 'never published').toBeUndefined();
      expect(ollama?.environment).toMatchObject({ OLLAMA_NO_CLOUD: '1', OLLAMA_HOST: '0.0.0.0:11434' });
      // Models are loaded from a GGUF in ./ollama (read-only) or pulled where a registry is reachable.
      expect(
        volumesOf(ollama as Service)
          .map((v) => v.target)
          .sort(),
      ).toEqual(['/models', '/root/.ollama']);
      // The worker can be pointed at it.
      expect(config.services['medic-worker']?.environment).toHaveProperty('MEDIC_OLLAMA_MODEL');
    }
  });
});
