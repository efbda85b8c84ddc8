// The Docker socket proxy: HAProxy in front of the engine socket, letting through only the Engine API calls
// listed in deploy/docker-proxy/allowlist.json. `npm run docker-proxy:config` writes its configuration
// (deploy/docker-proxy/haproxy.cfg, which compose mounts into the proxy) from that list; the tests check the
// file is what the list writes, and run it with Debian's HAProxy (startDockerProxy) on loopback.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PROJECT_ROOT } from './paths.js';
import { stopProcess } from './processes.js';

export const ALLOWLIST_FILE = 'deploy/docker-proxy/allowlist.json';
export const HAPROXY_CONFIG_FILE = 'deploy/docker-proxy/haproxy.cfg';
export const HAPROXY_BINARY = '/usr/sbin/haproxy';

export interface AllowedCall {
  method: 'GET' | 'HEAD' | 'POST' | 'DELETE';
  /**
   * An Engine API path; `{id}` stands for a container's or an exec's id or name, `{image}` for an image id
   * (`sha256:` and 64 hex digits: an image is reached by its id only, never by a name).
   */
  path: string;
  why: string;
}

export function readAllowlist(): AllowedCall[] {
  const list = JSON.parse(readFileSync(path.join(PROJECT_ROOT, ALLOWLIST_FILE), 'utf8')) as {
    calls: AllowedCall[];
  };
  for (const call of list.calls) {
    if (!['GET', 'HEAD', 'POST', 'DELETE'].includes(call.method))
      throw new Error(`${ALLOWLIST_FILE}: method ${call.method} of ${call.path} is not one the proxy knows`);
    if (!/^(\/([a-z_]+|\{id\}|\{image\}))+$/.test(call.path))
      throw new Error(
        `${ALLOWLIST_FILE}: ${call.path} is not a plain path (letters, _, {id} and {image} only)`,
      );
  }
  return list.calls;
}

/**
 * The path as an anchored regular expression: an optional API version prefix, then the path, `{id}` a
 * name as the engine allows one (a letter or digit first: no `..`, no `/`, no percent-encoding), `{image}`
 * an image id and nothing else.
 */
export function pathPattern(call: Pick<AllowedCall, 'path'>): string {
  const id = '[a-zA-Z0-9][a-zA-Z0-9_.-]*';
  const image = 'sha256:[0-9a-f]{64}';
  return `^(/v[0-9]+\\.[0-9]+)?${call.path.replaceAll('{id}', id).replaceAll('{image}', image)}$`;
}

/** What the generated configuration lets through, for checks that need no HAProxy. */
export function isAllowed(method: string, urlPath: string, calls = readAllowlist()): boolean {
  const pathOnly = urlPath.split('?')[0] ?? '';
  return calls.some((c) => c.method === method && new RegExp(pathPattern(c)).test(pathOnly));
}

export function renderHaproxyConfig(calls = readAllowlist()): string {
  const rules = calls.flatMap((call) => [
    `    # ${call.why}`,
    `    http-request allow if { method ${call.method} } { path -m reg '${pathPattern(call)}' }`,
  ]);
  return `# Written by \`npm run docker-proxy:config\` from ${path.basename(ALLOWLIST_FILE)}: change that file, not this one.
# HAProxy in front of the engine socket: the calls listed there go through, every other one gets a 403.
# DOCKER_PROXY_LISTEN is the address it listens on, DOCKER_PROXY_SOCKET the engine's socket.
global
    log stdout format raw local0 info
    maxconn 256

defaults
    mode http
    log global
    option httplog
    option dontlognull
    timeout connect 5s
    timeout http-request 10s
    timeout http-keep-alive 10s
    # The engine watch holds its event stream open for as long as nothing happens.
    timeout client 24h
    timeout server 24h

frontend engine
    bind "\${DOCKER_PROXY_LISTEN-127.0.0.1:2375}"
${rules.join('\n')}
    http-request deny deny_status 403 content-type application/json string '{"message":"refused by the Docker socket proxy: this Engine API call is not in ${ALLOWLIST_FILE}"}'
    default_backend engine

backend engine
    server engine "\${DOCKER_PROXY_SOCKET-/var/run/docker.sock}"
`;
}

export interface DockerProxy {
  /** tcp://127.0.0.1:<port>, a DOCKER_HOST for Medic's worker. */
  dockerHost: string;
  port: number;
  stop(): Promise<void>;
}

/** Debian's HAProxy with the generated configuration, on loopback, in front of `engineSocket`. */
export async function startDockerProxy(engineSocket: string, port: number): Promise<DockerProxy> {
  if (!existsSync(HAPROXY_BINARY)) throw new Error('HAProxy is not installed: run npm run setup:docker');
  const child: ChildProcess = spawn(
    HAPROXY_BINARY,
    ['-db', '-f', path.join(PROJECT_ROOT, HAPROXY_CONFIG_FILE)],
    {
      env: {
        ...process.env,
        DOCKER_PROXY_LISTEN: `127.0.0.1:${port}`,
        DOCKER_PROXY_SOCKET: engineSocket,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-8000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`HAProxy exited with code ${child.exitCode}:\n${output}`);
    const up = await fetch(`http://127.0.0.1:${port}/_ping`).then(
      (r) => r.status,
      () => 0,
    );
    if (up !== 0) break;
    if (Date.now() > deadline) throw new Error(`HAProxy did not listen on 127.0.0.1:${port}:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    dockerHost: `tcp://127.0.0.1:${port}`,
    port,
    stop: () => stopProcess(child),
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const target = path.join(PROJECT_ROOT, HAPROXY_CONFIG_FILE);
  writeFileSync(target, renderHaproxyConfig());
  console.log(`wrote ${HAPROXY_CONFIG_FILE} from ${ALLOWLIST_FILE}`);
}
