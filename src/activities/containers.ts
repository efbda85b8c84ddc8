// The container runtime port: what Medic needs from wherever the target runs. Two adapters:
// the Docker Engine API through dockerode (Docker, or Podman's compatible service), and a local
// process supervisor for machines without an engine.
import { type ChildProcess, spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import Docker from 'dockerode';
import type { CpuCounters } from '../domain/anomaly.js';
import { type EngineEvent, parseEngineEvent } from '../domain/engine-events.js';
import { judgeHealthUrl } from '../domain/health-url.js';
import { type EngineCapability, REMEDY_LABELS } from '../domain/remedies.js';
import {
  hostConfigDifferences,
  missingOwnSettings,
  RecreateRefusedError,
  recreateSpec,
} from './recreate-spec.js';

export interface ManagedLabel {
  key: string;
  value: string;
}

export const HEALTH_URL_LABEL = 'medic.health-url';

/** What a runtime needs to judge health URLs; see src/domain/health-url.ts. */
export interface RuntimeOptions {
  /** MEDIC_HEALTH_URL_HOSTS: hosts a health URL may name besides loopback and the container's own. */
  healthUrlHosts?: readonly string[];
}

export interface ContainerInfo {
  id: string;
  name: string;
  labels: Record<string, string>;
  managed: boolean;
  /** The image it runs, as its configuration names it (the allowlist refuses Temporal's own images). */
  image?: string;
  /** The id of the image it runs (`sha256:...`): what a rollback compares and goes back to. */
  imageId?: string;
  /** ISO time the container was created: a new image means a new container, so this is the deploy's time. */
  createdAt?: string;
  state: string;
  running: boolean;
  /** ISO time the current process started; changes on every (re)start. */
  startedAt: string;
  restartCount: number;
  exitCode: number;
  oomKilled: boolean;
  /** Docker HEALTHCHECK status, when the container has one. */
  health?: string;
  /** The `medic.health-url` label's URL, only when Medic may probe it. */
  healthUrl?: string;
  /** Why the label's URL is not probed (it names another host); never both this and `healthUrl`. */
  healthUrlRefused?: string;
  /** The container's memory limit; undefined when it has none. */
  memoryLimitBytes?: number;
  /** Its memory + swap limit: -1 is unlimited swap, undefined none set. */
  memorySwapBytes?: number;
}

/** What a remedy needs from the engine that this runtime cannot do, and why. */
export interface CapabilityGap {
  capability: EngineCapability;
  why: string;
}

/** What the runtime can do for the remedies (src/domain/remedies.ts), and what it cannot with why. */
export interface CapabilityReport {
  can: EngineCapability[];
  cannot: CapabilityGap[];
}

export interface ContainerRuntime {
  readonly kind: 'docker-engine' | 'process-supervisor';
  /** `undefined` when no container of that name exists. */
  inspect(name: string): Promise<ContainerInfo | undefined>;
  restart(name: string, options: { stopTimeoutMs: number }): Promise<void>;
  /** The most recent log lines, oldest first. */
  logs(name: string, tail: number): Promise<string[]>;
  /** Resource usage, where the runtime can measure it. */
  stats?(name: string): Promise<ResourceStats>;
  /**
   * Whether the engine's own event log shows a stop, kill or restart of the container (by id) at or after
   * `sinceMs`, looking for at most `waitMs` for one to come. Only an engine keeps such a log.
   */
  stopRequestedSince?(id: string, sinceMs: number, waitMs: number): Promise<boolean>;
  /** What the remedies may ask of it; a runtime without it can only restart. */
  capabilities?(): Promise<CapabilityReport>;
  /** The managed containers that declare `medic.depends-on=<name>`, by name. */
  listDependents?(name: string): Promise<ContainerInfo[]>;
}

/** A command run in a container, bounded: its exit code (undefined while it still ran) and first output. */
export interface ExecResult {
  exitCode?: number;
  /** Its stdout and stderr together, at most `maxOutputBytes` of it. */
  output: string;
  truncated: boolean;
  /** It had not ended within the time given (the Engine API cannot stop it: it may still run). */
  timedOut: boolean;
  execId: string;
}

/**
 * What the remedies beyond a restart need: only an engine has them. Every call first inspects the
 * container by id and refuses one without the managed label (NotManagedError); a create copies the managed
 * container's own inspected configuration with only the image swapped (recreate-spec.ts) and is checked
 * against it once made.
 */
export interface RemedyRuntime extends ContainerRuntime {
  capabilities(): Promise<CapabilityReport>;
  listDependents(name: string): Promise<ContainerInfo[]>;
  /** Whether the engine still holds that image id (a pruned or retagged image cannot come back). */
  imageExists(imageId: string): Promise<boolean>;
  /** Creates (does not start) `name` from the managed container `sourceId`'s configuration on `imageId`. */
  createFrom(sourceId: string, options: { name: string; imageId: string }): Promise<string>;
  rename(id: string, name: string): Promise<void>;
  start(id: string): Promise<void>;
  stop(id: string, options: { stopTimeoutMs: number }): Promise<void>;
  /** Removes a stopped container (the engine refuses a running one). */
  remove(id: string): Promise<void>;
  /** Sets the memory limit and the memory + swap limit together, as the engine requires. */
  updateMemoryLimit(id: string, limits: { memoryBytes: number; memorySwapBytes: number }): Promise<void>;
  /** Runs exactly `argv` in the running container, without a shell, and waits for it (bounded). */
  exec(id: string, argv: readonly string[], options: ExecOptions): Promise<ExecResult>;
  /** An exec of `execId` as the engine keeps it, or undefined when it does not know it. */
  execStatus(execId: string): Promise<{ running: boolean; exitCode?: number } | undefined>;
  /** Whether the engine's event log shows `argv` started in the container at or after `sinceMs`. */
  execStartedSince(id: string, argv: readonly string[], sinceMs: number, waitMs: number): Promise<boolean>;
}

export interface ExecOptions {
  timeoutMs: number;
  maxOutputBytes: number;
  /** Told the exec's id as soon as the engine gives it, before it starts. */
  onCreated?: (execId: string) => void;
}

export function isRemedyRuntime(runtime: ContainerRuntime): runtime is RemedyRuntime {
  return typeof (runtime as Partial<RemedyRuntime>).createFrom === 'function';
}

/** What a runtime can do; one that does not say can restart and no more. */
export async function capabilitiesOf(runtime: ContainerRuntime): Promise<CapabilityReport> {
  if (runtime.capabilities) return runtime.capabilities();
  return {
    can: ['restart'],
    cannot: (['recreate', 'update-limits', 'exec'] as const).map((capability) => ({
      capability,
      why: `the ${runtime.kind} does not say it can`,
    })),
  };
}

/** The engine events that mean someone asked the engine to stop the container's process. */
const STOP_REQUESTS = new Set(['kill', 'stop', 'restart']);

/**
 * What Medic's own watch on the engine needs besides: every managed container, raw usage counters (the
 * sweep computes CPU use between two sweeps) and the engine's event stream. Only an engine has them:
 * the process supervisor is not watchable, and the type says so.
 */
export interface WatchableRuntime extends ContainerRuntime {
  /** Every container with the managed label, running or not. */
  listManaged(): Promise<ContainerInfo[]>;
  /** One reading of the cumulative counters, without waiting for a second sample. */
  resourceCounters(name: string): Promise<ResourceCounters>;
  /**
   * The engine's events about managed containers from `sinceNano` on (the engine resolves it to whole
   * seconds, so events at or just before it come again). Ends when the signal aborts; throws when the
   * stream fails or the engine closes it.
   */
  events(options: EventStreamOptions): AsyncIterable<EngineEvent>;
}

export interface ResourceCounters {
  cpu?: CpuCounters;
  memoryUsageBytes?: number;
}

export interface EventStreamOptions {
  sinceNano: number;
  signal: AbortSignal;
  /** A line of the stream that is not an event (the stream goes on). */
  onUnreadable?: (line: string) => void;
}

export interface ResourceStats {
  memoryBytes?: number;
  memoryLimitBytes?: number;
  cpuPercent?: number;
  pids?: number;
}

/**
 * The engine did not answer at all: its socket is missing or refuses connections, or the connection broke
 * mid-request (the service stopped or restarted). Not an answer from the engine such as a 404 or a 500.
 */
export function engineUnreachable(err: unknown): boolean {
  const { code, syscall, message } = (err ?? {}) as { code?: unknown; syscall?: unknown; message?: unknown };
  if (syscall === 'connect') return true;
  return code === 'ECONNRESET' || code === 'EPIPE' || message === 'socket hang up';
}

export class ContainerNotFoundError extends Error {
  override name = 'ContainerNotFoundError';
}

/** The container exists but lacks Medic's label: a remedy refuses to touch it. */
export class NotManagedError extends Error {
  override name = 'NotManagedError';
}

/** The engine cannot do what a remedy asks (CapabilityReport.cannot says why). */
export class NotSupportedError extends Error {
  override name = 'NotSupportedError';
}

export { RecreateRefusedError };

/**
 * A `sha256:<64 hex>` or bare 64-hex image id, spelled `sha256:<hex>` as the image calls take it, or
 * undefined. Never the bare hex: Podman 4.3 answers 500, not 404, for 64 hex digits it does not hold.
 */
export function imageIdPath(imageId: string): string | undefined {
  const match = /^(?:sha256:)?([0-9a-f]{64})$/.exec(imageId);
  return match ? `sha256:${match[1]}` : undefined;
}

function isManaged(labels: Record<string, string>, label: ManagedLabel): boolean {
  return labels[label.key] === label.value;
}

/** The label's URL if Medic may probe it, else the reason; judged where the container's addresses are known. */
function healthUrlOf(
  labels: Record<string, string>,
  container: string,
  addresses: readonly string[],
  options: RuntimeOptions,
): Pick<ContainerInfo, 'healthUrl' | 'healthUrlRefused'> {
  const raw = labels[HEALTH_URL_LABEL];
  if (!raw) return {};
  const verdict = judgeHealthUrl(raw, { container, addresses, extraHosts: options.healthUrlHosts ?? [] });
  return verdict.allowed ? { healthUrl: verdict.url } : { healthUrlRefused: verdict.reason };
}

/**
 * The container's own IP addresses on its networks. With host networking it has none of its own: it is
 * reached on the host's loopback, which is always allowed.
 */
function containerAddresses(data: Docker.ContainerInspectInfo): string[] {
  const settings = data.NetworkSettings as
    | (Partial<Docker.ContainerInspectInfo['NetworkSettings']> & {
        IPAddress?: string;
        GlobalIPv6Address?: string;
      })
    | undefined;
  const networks = Object.values(settings?.Networks ?? {});
  return [
    settings?.IPAddress,
    settings?.GlobalIPv6Address,
    ...networks.flatMap((n) => [n.IPAddress, n.GlobalIPv6Address]),
  ].filter((a): a is string => typeof a === 'string' && a !== '');
}

/** Creates a dockerode client from a DOCKER_HOST-style address (unix:///path or tcp://host:port). */
export function createDockerClient(dockerHost: string | undefined): Docker {
  if (!dockerHost) return new Docker({ socketPath: '/var/run/docker.sock' });
  if (dockerHost.startsWith('unix://')) return new Docker({ socketPath: dockerHost.slice('unix://'.length) });
  const url = new URL(dockerHost.replace(/^tcp:/, 'http:'));
  return new Docker({ host: url.hostname, port: Number(url.port || 2375), protocol: 'http' });
}

/**
 * Docker multiplexes stdout and stderr of a non-TTY container into frames with an 8-byte header
 * (stream, 0, 0, 0, big-endian length). A TTY container's logs are raw text.
 */
export function demuxDockerLogs(buffer: Buffer): string {
  const first = buffer[0];
  const looksFramed = buffer.length >= 8 && (first === 0 || first === 1 || first === 2) && buffer[1] === 0;
  if (!looksFramed) return buffer.toString('utf8');
  const parts: Buffer[] = [];
  let offset = 0;
  while (offset + 8 <= buffer.length) {
    const size = buffer.readUInt32BE(offset + 4);
    parts.push(buffer.subarray(offset + 8, offset + 8 + size));
    offset += 8 + size;
  }
  return Buffer.concat(parts).toString('utf8');
}

export class DockerEngineRuntime implements WatchableRuntime, RemedyRuntime {
  readonly kind = 'docker-engine' as const;
  /** The engine's label filter: unmanaged containers are never listed or streamed. */
  private readonly labelFilter: string;

  constructor(
    private readonly docker: Docker,
    private readonly managedLabel: ManagedLabel,
    private readonly options: RuntimeOptions = {},
  ) {
    this.labelFilter = `${managedLabel.key}=${managedLabel.value}`;
  }

  async inspect(name: string): Promise<ContainerInfo | undefined> {
    let data: Docker.ContainerInspectInfo;
    try {
      data = await this.docker.getContainer(name).inspect();
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return undefined;
      throw err;
    }
    const labels = data.Config?.Labels ?? {};
    const state = data.State;
    const containerName = data.Name.replace(/^\//, '');
    return {
      id: data.Id,
      name: containerName,
      labels,
      managed: isManaged(labels, this.managedLabel),
      image: data.Config?.Image,
      imageId: data.Image || undefined,
      createdAt: data.Created || undefined,
      state: state.Status,
      running: state.Running,
      startedAt: state.StartedAt,
      restartCount: data.RestartCount ?? 0,
      exitCode: state.ExitCode,
      oomKilled: state.OOMKilled,
      health: state.Health?.Status || undefined,
      ...healthUrlOf(labels, containerName, containerAddresses(data), this.options),
      memoryLimitBytes: data.HostConfig?.Memory || undefined,
      memorySwapBytes: data.HostConfig?.MemorySwap || undefined,
    };
  }

  async listManaged(): Promise<ContainerInfo[]> {
    const listed = await this.docker.listContainers({ all: true, filters: { label: [this.labelFilter] } });
    const out: ContainerInfo[] = [];
    for (const summary of listed) {
      // Inspected one by one: a container removed since the listing is skipped, not an error.
      const info = await this.inspect(summary.Id);
      if (info?.managed) out.push(info);
    }
    return out;
  }

  async resourceCounters(name: string): Promise<ResourceCounters> {
    const stats = (await this.docker
      .getContainer(name)
      .stats({ stream: false, 'one-shot': true } as { stream: false })) as unknown as {
      cpu_stats?: { cpu_usage?: { total_usage?: number }; system_cpu_usage?: number; online_cpus?: number };
      memory_stats?: { usage?: number };
    };
    const cpu = stats.cpu_stats;
    const usage = stats.memory_stats?.usage;
    return {
      ...(cpu?.cpu_usage?.total_usage !== undefined && cpu.system_cpu_usage !== undefined
        ? {
            cpu: {
              totalUsage: cpu.cpu_usage.total_usage,
              systemUsage: cpu.system_cpu_usage,
              onlineCpus: cpu.online_cpus ?? 1,
            },
          }
        : {}),
      ...(usage !== undefined ? { memoryUsageBytes: usage } : {}),
    };
  }

  async *events(options: EventStreamOptions): AsyncGenerator<EngineEvent> {
    const { signal } = options;
    if (signal.aborted) return;
    const stream = (await this.docker.getEvents({
      since: Math.floor(options.sinceNano / 1e9),
      filters: { type: ['container'], label: [this.labelFilter] },
    })) as unknown as Readable;
    const stop = () => stream.destroy();
    signal.addEventListener('abort', stop);
    try {
      let pending = '';
      for await (const chunk of stream) {
        pending += (chunk as Buffer).toString('utf8');
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) {
          if (!line.trim()) continue;
          let event: EngineEvent | undefined;
          try {
            event = parseEngineEvent(JSON.parse(line));
          } catch {
            options.onUnreadable?.(line);
            continue;
          }
          if (event) yield event;
        }
      }
    } catch (err) {
      if (!signal.aborted) throw err;
    } finally {
      signal.removeEventListener('abort', stop);
      stream.destroy();
    }
    if (!signal.aborted) throw new Error('the engine closed the event stream');
  }

  async stopRequestedSince(id: string, sinceMs: number, waitMs: number): Promise<boolean> {
    // An engine with nothing to stream yet may not even answer the headers: the wait bounds the request too.
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), Math.max(waitMs, 0));
    let stream: Readable | undefined;
    try {
      stream = (await this.docker.getEvents({
        since: Math.floor(sinceMs / 1000),
        filters: { type: ['container'], container: [id] },
        abortSignal: controller.signal,
      } as Parameters<Docker['getEvents']>[0])) as unknown as Readable;
      const onAbort = () => stream?.destroy();
      controller.signal.addEventListener('abort', onAbort);
      let pending = '';
      for await (const chunk of stream) {
        pending += (chunk as Buffer).toString('utf8');
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) {
          let event: EngineEvent | undefined;
          try {
            event = line.trim() ? parseEngineEvent(JSON.parse(line)) : undefined;
          } catch {
            continue;
          }
          if (event && STOP_REQUESTS.has(event.action) && event.timeNano >= sinceMs * 1e6) return true;
        }
      }
    } catch (err) {
      // Aborted by the timer: nothing came within the wait.
      if (!controller.signal.aborted) throw err;
    } finally {
      clearTimeout(timer);
      stream?.destroy();
    }
    return false;
  }

  async restart(name: string, options: { stopTimeoutMs: number }): Promise<void> {
    try {
      await this.docker.getContainer(name).restart({ t: Math.ceil(options.stopTimeoutMs / 1000) });
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) {
        throw new ContainerNotFoundError(`container ${name} no longer exists`);
      }
      throw err;
    }
  }

  /** The engine's own words for a failed call: its JSON message, or its plain-text body. */
  private static said(err: unknown): string {
    const json = (err as { json?: unknown }).json;
    if (json && typeof json === 'object' && 'message' in json)
      return String((json as { message: unknown }).message);
    if (Buffer.isBuffer(json) || typeof json === 'string') return json.toString().trim();
    return (err as Error).message ?? String(err);
  }

  private capabilityProbe: Promise<CapabilityReport> | undefined;

  /**
   * Probed once: who serves the API, and whether the calls each capability needs reach the engine (a
   * socket proxy in front of it may refuse them). The probes name a container that does not exist and
   * ask nothing of it (a rename to no name, an update of nothing, an exec never started), so they change nothing even if it did.
   */
  capabilities(): Promise<CapabilityReport> {
    this.capabilityProbe ??= this.probeCapabilities().catch((err) => {
      this.capabilityProbe = undefined;
      throw err;
    });
    return this.capabilityProbe;
  }

  private async probeCapabilities(): Promise<CapabilityReport> {
    const version = (await this.docker.version()) as Docker.DockerVersion & {
      Components?: Array<{ Name: string; Version?: string }>;
    };
    const podman = version.Components?.find((c) => c.Name.toLowerCase().includes('podman'));
    const product = podman ? `Podman ${podman.Version ?? version.Version}` : `Docker ${version.Version}`;
    const probe = `medic-capability-probe-${process.pid}`;
    const reach = async (call: () => Promise<unknown>): Promise<string | undefined> => {
      try {
        await call();
        return undefined;
      } catch (err) {
        const status = (err as { statusCode?: number }).statusCode;
        const said = DockerEngineRuntime.said(err);
        if (status === 404 && /no such container/i.test(said)) return undefined;
        if (status === 400 || status === 409) return undefined;
        if (status === 403) return `${product} behind a socket proxy that refuses it (${said})`;
        if (status === 404) return `${product} has no such Engine API call (it answered 404: ${said})`;
        return `${product} answered ${status ?? 'nothing'}: ${said}`;
      }
    };
    const target = this.docker.getContainer(probe);
    const can: EngineCapability[] = ['restart'];
    const cannot: CapabilityGap[] = [];
    const judge = (capability: EngineCapability, why: string | undefined) => {
      if (why) cannot.push({ capability, why });
      else can.push(capability);
    };
    judge('recreate', await reach(() => target.rename({ name: '' })));
    if (podman) {
      // Checked on Podman 4.3 (cgroupfs, hybrid cgroups): its Docker-compatible API has no container update,
      // and its own `podman update` changes only the running cgroup: inspect keeps the old limit and the
      // next start puts it back, so a raise could neither be compared nor kept.
      judge(
        'update-limits',
        `${product} cannot update a container's limits through the Docker-compatible API, and its own update changes only the running cgroup (not the container's configuration, so the next start undoes it)`,
      );
    } else {
      judge('update-limits', await reach(() => target.update({ Memory: 0 })));
    }
    judge('exec', await reach(() => target.exec({ Cmd: ['true'] })));
    return { can, cannot };
  }

  /** The container by id, inspected, if it carries the managed label; else the reason as an error. */
  private async managedContainer(id: string): Promise<Docker.ContainerInspectInfo> {
    let data: Docker.ContainerInspectInfo;
    try {
      data = await this.docker.getContainer(id).inspect();
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404)
        throw new ContainerNotFoundError(`container ${id} no longer exists`);
      throw err;
    }
    if (!isManaged(data.Config?.Labels ?? {}, this.managedLabel)) {
      throw new NotManagedError(
        `container ${data.Name.replace(/^\//, '')} (${data.Id.slice(0, 12)}) lacks ${this.labelFilter}; refusing to touch it`,
      );
    }
    return data;
  }

  /** An engine call on a container that may have gone meanwhile: 404 is ContainerNotFoundError. */
  private async onContainer<T>(id: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404)
        throw new ContainerNotFoundError(`container ${id} no longer exists`);
      throw err;
    }
  }

  async listDependents(name: string): Promise<ContainerInfo[]> {
    const listed = await this.docker.listContainers({
      all: true,
      filters: { label: [this.labelFilter, `${REMEDY_LABELS.dependsOn}=${name}`] },
    });
    const out: ContainerInfo[] = [];
    for (const summary of listed) {
      const info = await this.inspect(summary.Id);
      if (info?.managed && info.labels[REMEDY_LABELS.dependsOn] === name) out.push(info);
    }
    return out.sort((a, b) => a.name.localeCompare(b.name));
  }

  async imageExists(imageId: string): Promise<boolean> {
    const hex = imageIdPath(imageId);
    if (!hex) return false;
    try {
      const image = await this.docker.getImage(hex).inspect();
      return imageIdPath(image.Id) === hex;
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return false;
      throw err;
    }
  }

  async createFrom(sourceId: string, options: { name: string; imageId: string }): Promise<string> {
    const source = await this.managedContainer(sourceId);
    const hex = imageIdPath(options.imageId);
    const sourceHex = imageIdPath(source.Image);
    if (!hex || !sourceHex) throw new RecreateRefusedError(`${options.imageId} is not an image id`);
    const sourceImage = (await this.docker.getImage(sourceHex).inspect()) as unknown as Record<
      string,
      unknown
    >;
    const raw = source as unknown as Record<string, unknown>;
    const spec = recreateSpec(raw, sourceImage, hex);
    const changed = hostConfigDifferences(raw, spec);
    if (changed.length > 0)
      throw new RecreateRefusedError(`the create would change ${changed.join(', ')}; refusing it`);
    const created = await this.docker.createContainer({
      ...(spec as Docker.ContainerCreateOptions),
      name: options.name,
    });
    const made = (await created.inspect()) as unknown as Record<string, unknown>;
    const differs = [
      ...hostConfigDifferences(raw, made),
      ...missingOwnSettings(spec, made),
      ...(imageIdPath(String(made.Image)) === hex ? [] : ['the image']),
      ...(isManaged(
        (made.Config as Docker.ContainerInspectInfo['Config'] | undefined)?.Labels ?? {},
        this.managedLabel,
      )
        ? []
        : ['the managed label']),
    ];
    if (differs.length > 0) {
      // Never started: removing it leaves the engine as it was.
      await created.remove({ force: true }).catch(() => undefined);
      throw new RecreateRefusedError(
        `the engine created ${options.name} unlike ${source.Name.replace(/^\//, '')} (${differs.join(', ')}); it was removed`,
      );
    }
    return created.id;
  }

  async rename(id: string, name: string): Promise<void> {
    await this.managedContainer(id);
    await this.onContainer(id, () => this.docker.getContainer(id).rename({ name }));
  }

  async start(id: string): Promise<void> {
    await this.managedContainer(id);
    await this.onContainer(id, () => this.docker.getContainer(id).start()).catch((err) => {
      // Already running: the start it asks for is done.
      if ((err as { statusCode?: number }).statusCode !== 304) throw err;
    });
  }

  async stop(id: string, options: { stopTimeoutMs: number }): Promise<void> {
    await this.managedContainer(id);
    await this.onContainer(id, () =>
      this.docker.getContainer(id).stop({ t: Math.ceil(options.stopTimeoutMs / 1000) }),
    ).catch((err) => {
      // Already stopped.
      if ((err as { statusCode?: number }).statusCode !== 304) throw err;
    });
  }

  async remove(id: string): Promise<void> {
    await this.managedContainer(id);
    await this.onContainer(id, () => this.docker.getContainer(id).remove());
  }

  async updateMemoryLimit(
    id: string,
    limits: { memoryBytes: number; memorySwapBytes: number },
  ): Promise<void> {
    const report = await this.capabilities();
    const gap = report.cannot.find((c) => c.capability === 'update-limits');
    if (gap) throw new NotSupportedError(gap.why);
    await this.managedContainer(id);
    await this.onContainer(id, () =>
      this.docker.getContainer(id).update({ Memory: limits.memoryBytes, MemorySwap: limits.memorySwapBytes }),
    );
  }

  async exec(id: string, argv: readonly string[], options: ExecOptions): Promise<ExecResult> {
    await this.managedContainer(id);
    const exec = await this.onContainer(id, () =>
      this.docker
        .getContainer(id)
        .exec({ Cmd: [...argv], AttachStdout: true, AttachStderr: true, Tty: false }),
    );
    options.onCreated?.(exec.id);
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), Math.max(options.timeoutMs, 0));
    const kept: Buffer[] = [];
    let size = 0;
    let truncated = false;
    let timedOut = false;
    try {
      const stream = (await exec.start({
        Detach: false,
        Tty: false,
        abortSignal: controller.signal,
      } as Docker.ExecStartOptions)) as unknown as Readable;
      controller.signal.addEventListener('abort', () => stream.destroy());
      for await (const chunk of stream) {
        const buffer = chunk as Buffer;
        // Frame headers count too: the bound is on what is read, so a chatty command cannot fill the worker.
        if (size < options.maxOutputBytes + 8 * 64) kept.push(buffer);
        else truncated = true;
        size += buffer.length;
      }
    } catch (err) {
      if (!controller.signal.aborted) throw err;
    } finally {
      clearTimeout(timer);
    }
    timedOut = controller.signal.aborted;
    let text = demuxDockerLogs(Buffer.concat(kept));
    if (Buffer.byteLength(text) > options.maxOutputBytes) {
      text = Buffer.from(text).subarray(0, options.maxOutputBytes).toString('utf8');
      truncated = true;
    }
    const status = await this.execStatus(exec.id);
    return {
      ...(status && !status.running && status.exitCode !== undefined ? { exitCode: status.exitCode } : {}),
      output: text,
      truncated,
      timedOut: timedOut || Boolean(status?.running),
      execId: exec.id,
    };
  }

  async execStatus(execId: string): Promise<{ running: boolean; exitCode?: number } | undefined> {
    try {
      const info = await this.docker.getExec(execId).inspect();
      return {
        running: info.Running,
        ...(typeof info.ExitCode === 'number' ? { exitCode: info.ExitCode } : {}),
      };
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return undefined;
      throw err;
    }
  }

  async execStartedSince(
    id: string,
    argv: readonly string[],
    sinceMs: number,
    waitMs: number,
  ): Promise<boolean> {
    // Docker names the command in the event ("exec_start: /app/bin/flush --all"): a health check's exec is
    // not this one. Podman 4.3 says only "exec", without the command.
    const command = argv.join(' ');
    return this.someEventSince(id, sinceMs, waitMs, (action) => {
      if (action === 'exec') return true;
      const [verb, ...rest] = action.split(':');
      return verb?.trim() === 'exec_start' && rest.join(':').trim() === command;
    });
  }

  /** Whether an event of the container since `sinceMs` satisfies `match` (its raw Action), within `waitMs`. */
  private async someEventSince(
    id: string,
    sinceMs: number,
    waitMs: number,
    match: (action: string) => boolean,
  ): Promise<boolean> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), Math.max(waitMs, 0));
    let stream: Readable | undefined;
    try {
      stream = (await this.docker.getEvents({
        since: Math.floor(sinceMs / 1000),
        filters: { type: ['container'], container: [id] },
        abortSignal: controller.signal,
      } as Parameters<Docker['getEvents']>[0])) as unknown as Readable;
      controller.signal.addEventListener('abort', () => stream?.destroy());
      let pending = '';
      for await (const chunk of stream) {
        pending += (chunk as Buffer).toString('utf8');
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) {
          let raw: { Action?: unknown; status?: unknown; timeNano?: unknown; time?: unknown };
          try {
            raw = line.trim() ? JSON.parse(line) : {};
          } catch {
            continue;
          }
          const at = typeof raw.timeNano === 'number' ? raw.timeNano / 1e6 : Number(raw.time) * 1000;
          if (at >= sinceMs && match(String(raw.Action ?? raw.status ?? ''))) return true;
        }
      }
    } catch (err) {
      if (!controller.signal.aborted) throw err;
    } finally {
      clearTimeout(timer);
      stream?.destroy();
    }
    return false;
  }

  async logs(name: string, tail: number): Promise<string[]> {
    const buffer = (await this.docker.getContainer(name).logs({
      stdout: true,
      stderr: true,
      tail,
      follow: false,
    })) as unknown as Buffer;
    return demuxDockerLogs(Buffer.from(buffer))
      .split('\n')
      .filter((l) => l.trim() !== '');
  }

  async stats(name: string): Promise<ResourceStats> {
    const s = (await this.docker.getContainer(name).stats({ stream: false })) as Docker.ContainerStats;
    const cpuDelta = s.cpu_stats.cpu_usage.total_usage - (s.precpu_stats?.cpu_usage?.total_usage ?? 0);
    const systemDelta = (s.cpu_stats.system_cpu_usage ?? 0) - (s.precpu_stats?.system_cpu_usage ?? 0);
    const cpus = s.cpu_stats.online_cpus || 1;
    return {
      memoryBytes: s.memory_stats?.usage,
      memoryLimitBytes: s.memory_stats?.limit,
      ...(systemDelta > 0 && cpuDelta >= 0
        ? { cpuPercent: Math.round((cpuDelta / systemDelta) * cpus * 1000) / 10 }
        : {}),
      pids: s.pids_stats?.current,
    };
  }
}

export interface SupervisedProcessSpec {
  name: string;
  command: string;
  args: string[];
  env?: Record<string, string>;
  cwd?: string;
  labels: Record<string, string>;
}

interface SupervisedProcess {
  spec: SupervisedProcessSpec;
  child?: ChildProcess;
  startedAt: string;
  restartCount: number;
  exitCode: number;
  running: boolean;
  lines: string[];
  partial: string;
  /** When restarts were asked for, newest last: the supervisor's own event log. */
  stopRequestedAt: number[];
}

const SUPERVISOR_LOG_LINES = 1000;

/** A supervised process's id changes with every start, as a recreated container's would. */
const processId = (proc: SupervisedProcess) => `process-${proc.child?.pid ?? 0}`;

/**
 * Runs named processes as stand-ins for containers when no engine is reachable. A process that exits
 * stays exited (like a container without a restart policy) until Medic restarts it.
 */
export class ProcessSupervisor implements ContainerRuntime {
  readonly kind = 'process-supervisor' as const;
  private readonly processes = new Map<string, SupervisedProcess>();
  private lastStart = 0;

  constructor(
    private readonly managedLabel: ManagedLabel,
    private readonly options: RuntimeOptions = {},
  ) {}

  /** Registers and starts a process. */
  start(spec: SupervisedProcessSpec): void {
    if (this.processes.has(spec.name)) throw new Error(`process ${spec.name} is already supervised`);
    const proc: SupervisedProcess = {
      spec,
      startedAt: '',
      restartCount: 0,
      exitCode: 0,
      running: false,
      lines: [],
      partial: '',
      stopRequestedAt: [],
    };
    this.processes.set(spec.name, proc);
    this.spawn(proc);
  }

  private spawn(proc: SupervisedProcess): void {
    // Start times must differ between starts: they are the compare-and-act key for restarts.
    const now = Math.max(Date.now(), this.lastStart + 1);
    this.lastStart = now;
    const child = spawn(proc.spec.command, proc.spec.args, {
      cwd: proc.spec.cwd,
      env: { ...process.env, ...proc.spec.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    proc.child = child;
    proc.startedAt = new Date(now).toISOString();
    proc.running = true;
    const onData = (chunk: Buffer) => {
      const text = proc.partial + chunk.toString('utf8');
      const lines = text.split('\n');
      proc.partial = lines.pop() ?? '';
      proc.lines.push(...lines.filter((l) => l.trim() !== ''));
      if (proc.lines.length > SUPERVISOR_LOG_LINES)
        proc.lines.splice(0, proc.lines.length - SUPERVISOR_LOG_LINES);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('exit', (code, signal) => {
      if (proc.child !== child) return;
      proc.running = false;
      proc.exitCode = code ?? (signal === 'SIGKILL' ? 137 : 143);
    });
    child.on('error', (err) => {
      if (proc.child !== child) return;
      proc.running = false;
      proc.exitCode = 127;
      proc.lines.push(JSON.stringify({ level: 'error', msg: `failed to start: ${err.message}` }));
    });
  }

  /** A process by its name or, as an engine resolves a container id, by its current id. */
  private find(nameOrId: string): SupervisedProcess | undefined {
    return (
      this.processes.get(nameOrId) ?? [...this.processes.values()].find((p) => processId(p) === nameOrId)
    );
  }

  async inspect(name: string): Promise<ContainerInfo | undefined> {
    const proc = this.find(name);
    if (!proc) return undefined;
    return {
      id: processId(proc),
      name: proc.spec.name,
      labels: proc.spec.labels,
      managed: isManaged(proc.spec.labels, this.managedLabel),
      state: proc.running ? 'running' : 'exited',
      running: proc.running,
      startedAt: proc.startedAt,
      restartCount: proc.restartCount,
      exitCode: proc.exitCode,
      oomKilled: false,
      // A supervised process runs on this host: its address is loopback.
      ...healthUrlOf(proc.spec.labels, name, [], this.options),
    };
  }

  /** A supervisor starts and stops processes: it has no images, no limits and no way into a process. */
  async capabilities(): Promise<CapabilityReport> {
    return {
      can: ['restart'],
      cannot: [
        {
          capability: 'recreate',
          why: 'the process supervisor runs commands, not images: there is nothing to roll back to',
        },
        {
          capability: 'update-limits',
          why: 'the process supervisor sets no memory limit on its processes, so there is none to raise',
        },
        {
          capability: 'exec',
          why: 'the process supervisor cannot run a command inside a process; declared HTTP actions need no engine',
        },
      ],
    };
  }

  async listDependents(name: string): Promise<ContainerInfo[]> {
    const out: ContainerInfo[] = [];
    for (const proc of this.processes.values()) {
      if (proc.spec.labels[REMEDY_LABELS.dependsOn] !== name) continue;
      const info = await this.inspect(proc.spec.name);
      if (info?.managed) out.push(info);
    }
    return out.sort((a, b) => a.name.localeCompare(b.name));
  }

  async restart(name: string, options: { stopTimeoutMs: number }): Promise<void> {
    const proc = this.find(name);
    if (!proc) throw new ContainerNotFoundError(`process ${name} is not supervised`);
    proc.stopRequestedAt.push(Date.now());
    if (proc.stopRequestedAt.length > 20) proc.stopRequestedAt.shift();
    await this.stopProcess(proc, options.stopTimeoutMs);
    proc.restartCount += 1;
    this.spawn(proc);
  }

  async stopRequestedSince(id: string, sinceMs: number, waitMs: number): Promise<boolean> {
    const deadline = Date.now() + waitMs;
    for (;;) {
      const proc = this.find(id);
      if (proc?.stopRequestedAt.some((at) => at >= sinceMs)) return true;
      if (Date.now() >= deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async logs(name: string, tail: number): Promise<string[]> {
    const proc = this.find(name);
    if (!proc) throw new ContainerNotFoundError(`process ${name} is not supervised`);
    return proc.lines.slice(-tail);
  }

  /** Stops every supervised process (SIGTERM, then SIGKILL after the timeout). */
  async stopAll(stopTimeoutMs = 5000): Promise<void> {
    await Promise.all([...this.processes.values()].map((p) => this.stopProcess(p, stopTimeoutMs)));
  }

  private async stopProcess(proc: SupervisedProcess, stopTimeoutMs: number): Promise<void> {
    const child = proc.child;
    if (!child || !proc.running || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), stopTimeoutMs);
    await exited;
    clearTimeout(timer);
  }
}
