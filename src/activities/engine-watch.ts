// Medic's own eyes on the container engine: the long-lived activity that follows the event stream, and
// the sweep that samples every managed container. Both turn what they find into alerts with source
// `engine`, through the same start-or-join as webhooks, so an event and a webhook about one fault are
// one incident. Containers without the managed label are never listed, watched or reported.
import { setTimeout as sleep } from 'node:timers/promises';
import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { CancelledFailure } from '@temporalio/common';
import type Docker from 'dockerode';
import type { IncidentGateway } from '../api/incident-gateway.js';
import {
  type Anomaly,
  type ContainerSample,
  evaluateSweep,
  type SweepMemory,
  type SweepThresholds,
} from '../domain/anomaly.js';
import {
  advanceCursor,
  ENGINE_ALERT_SEVERITY,
  ENGINE_ALERT_TYPES,
  EngineEventInterpreter,
  type EventCursor,
  type EventFault,
  isAfterCursor,
  parseEngineEvent,
  SIGKILL_EXIT_CODE,
} from '../domain/engine-events.js';
import { incidentWorkflowId } from '../domain/naming.js';
import type { Alert, EngineEvidence } from '../domain/types.js';
import type { Logger } from '../logger.js';
import { IncidentStatusKey, IncidentTargetKey } from '../workflows/search-attributes.js';
import { demuxDockerLogs, HEALTH_URL_LABEL, type ManagedLabel } from './containers.js';
import { probeHealthUrl } from './health.js';
import type { KernelOomReader } from './kernel-log.js';

export interface EngineWatchDeps {
  docker: Docker;
  managedLabel: ManagedLabel;
  gateway: Pick<IncidentGateway, 'openOrJoin'>;
  client: Client;
  logger: Logger;
  /** Reads the kernel's OOM kills when the engine runs on this host; undefined elsewhere. */
  kernelOomKills?: KernelOomReader;
  /** Log lines attached to an engine alert. */
  logLines?: number;
}

export interface FollowEventsInput {
  /** Where the previous run stopped; the first run starts now. */
  cursor?: EventCursor;
  /** Return (with the cursor) after this long, so the workflow can keep its history short. */
  runForMs: number;
  heartbeatEveryMs: number;
}

export interface SweepInput {
  memory?: SweepMemory;
  thresholds: SweepThresholds;
  healthProbeTimeoutMs: number;
  /** Whether the incident search attributes exist (to find any open incident of a target). */
  searchAttributes: boolean;
}

export interface SweepResult {
  memory: SweepMemory;
  containers: number;
  opened: Array<{ workflowId: string; check: string }>;
  skipped: Array<{ target: string; check: string; reason: string }>;
}

const RECONNECT_BASE_MS = 1000;
const RECONNECT_MAX_MS = 30_000;
/** How close the kernel's OOM kill must be to the `die` for the two to be one event. */
const KERNEL_OOM_MATCH_MS = 5000;

interface RawInspect {
  Id: string;
  Name: string;
  RestartCount?: number;
  Config?: { Labels?: Record<string, string> | null };
  HostConfig?: { Memory?: number };
  State: {
    Status: string;
    Running: boolean;
    StartedAt: string;
    ExitCode: number;
    OOMKilled: boolean;
    Health?: { Status?: string };
  };
}

export function createEngineWatchActivities(deps: EngineWatchDeps) {
  const { docker, managedLabel, gateway, client, logger } = deps;
  const labelFilter = `${managedLabel.key}=${managedLabel.value}`;
  const log = logger.child({ component: 'engine-watch' });

  const inspect = async (id: string): Promise<RawInspect | undefined> => {
    try {
      return (await docker.getContainer(id).inspect()) as unknown as RawInspect;
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return undefined;
      throw err;
    }
  };
  const isManaged = (info: RawInspect) => info.Config?.Labels?.[managedLabel.key] === managedLabel.value;
  const nameOf = (info: RawInspect) => info.Name.replace(/^\//, '');

  const lastLogLines = async (id: string): Promise<string[]> => {
    try {
      const buffer = (await docker
        .getContainer(id)
        .logs({ stdout: true, stderr: true, tail: deps.logLines ?? 50, follow: false })) as unknown as Buffer;
      return demuxDockerLogs(Buffer.from(buffer))
        .split('\n')
        .filter((l) => l.trim() !== '');
    } catch {
      return [];
    }
  };

  const raise = async (
    target: string,
    alertType: string,
    firedAt: string,
    evidence: EngineEvidence,
  ): Promise<string> => {
    const alert: Alert = {
      source: 'engine',
      target,
      alertType,
      severity: ENGINE_ALERT_SEVERITY[alertType] ?? 'medium',
      status: 'firing',
      logs: await lastLogLines(evidence.containerId),
      firedAt,
      receivedAt: new Date().toISOString(),
      evidence,
    };
    const { workflowId } = await gateway.openOrJoin(alert);
    log.info({ workflowId, target, alertType, evidence }, 'engine fault raised as an incident');
    return workflowId;
  };

  /** Confirms an event's fault against the container as it is now, then raises it. */
  const handleFault = async (fault: EventFault): Promise<void> => {
    const info = await inspect(fault.containerId);
    if (!info) {
      log.info({ target: fault.target, kind: fault.kind }, 'fault ignored: the container no longer exists');
      return;
    }
    if (!isManaged(info)) return; // the stream's label filter should already have dropped it
    const faultAt = Date.parse(fault.at);
    if (info.State.Running && Date.parse(info.State.StartedAt) > faultAt) {
      log.info(
        { target: fault.target, kind: fault.kind, startedAt: info.State.StartedAt, faultAt: fault.at },
        'fault ignored: the container has been started again since',
      );
      return;
    }
    if (fault.kind === 'unhealthy' && info.State.Health?.Status !== 'unhealthy') {
      log.info({ target: fault.target }, 'unhealthy event ignored: the container is no longer unhealthy');
      return;
    }
    const memoryLimitBytes = info.HostConfig?.Memory || undefined;
    let oomKilled = info.State.OOMKilled;
    let oomKilledSource: EngineEvidence['oomKilledSource'] = oomKilled ? 'engine-state' : undefined;
    if (fault.kind === 'oom') {
      oomKilled = true;
      oomKilledSource = 'oom-event';
    } else if (
      fault.kind === 'died' &&
      !oomKilled &&
      fault.exitCode === SIGKILL_EXIT_CODE &&
      memoryLimitBytes &&
      deps.kernelOomKills
    ) {
      // Only a kill of the run that died, just before its `die`: the same container id has earlier runs.
      const startedAt = Date.parse(info.State.StartedAt);
      const kills = await deps.kernelOomKills(info.Id);
      if (kills?.some((t) => t > startedAt && t <= faultAt + 1000 && faultAt - t <= KERNEL_OOM_MATCH_MS)) {
        oomKilled = true;
        oomKilledSource = 'kernel-log';
      }
    }
    const alertType =
      fault.kind === 'unhealthy'
        ? ENGINE_ALERT_TYPES.unhealthy
        : oomKilled
          ? ENGINE_ALERT_TYPES.oom
          : ENGINE_ALERT_TYPES.crash;
    const check = fault.kind === 'died' ? 'die' : fault.kind === 'oom' ? 'oom' : 'health_status';
    const exitCode = fault.exitCode ?? (info.State.Running ? undefined : info.State.ExitCode);
    await raise(nameOf(info), alertType, fault.at, {
      via: 'event',
      check,
      containerId: info.Id,
      ...(exitCode !== undefined ? { exitCode } : {}),
      oomKilled,
      ...(oomKilledSource ? { oomKilledSource } : {}),
      restartCount: info.RestartCount ?? 0,
      ...(memoryLimitBytes ? { memoryLimitBytes } : {}),
      detail:
        fault.kind === 'unhealthy'
          ? `the engine's HEALTHCHECK reported ${fault.target} unhealthy`
          : `${fault.target} died with exit code ${exitCode ?? 'unknown'}${oomKilled ? ` (OOM-killed, per ${oomKilledSource})` : ''}`,
    });
  };

  /**
   * Reads the stream from the cursor until it ends, the deadline passes or the activity is cancelled.
   * Resolves with the new cursor; rejects (keeping the cursor of the last handled event) on errors.
   */
  const readStream = async (
    from: EventCursor,
    interpreter: EngineEventInterpreter,
    until: number,
    signal: AbortSignal,
    onHandled: (cursor: EventCursor) => void,
  ): Promise<void> => {
    const stream = (await docker.getEvents({
      since: Math.floor(from.timeNano / 1e9),
      filters: { type: ['container'], label: [labelFilter] },
    })) as unknown as NodeJS.ReadableStream & { destroy(err?: Error): void };
    let cursor = from;
    let pending = '';
    let chain = Promise.resolve();
    await new Promise<void>((resolve, reject) => {
      let settled = false;
      const finish = (err?: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        stream.destroy();
        // Let events already read be handled before returning.
        chain.then(
          () => (err ? reject(err) : resolve()),
          (handlingError: Error) => reject(handlingError),
        );
      };
      const onAbort = () => finish();
      const timer = setTimeout(() => finish(), Math.max(0, until - Date.now()));
      signal.addEventListener('abort', onAbort);
      stream.on('data', (chunk: Buffer) => {
        pending += chunk.toString('utf8');
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) {
          if (!line.trim()) continue;
          let event: ReturnType<typeof parseEngineEvent>;
          try {
            event = parseEngineEvent(JSON.parse(line));
          } catch {
            log.warn({ line: line.slice(0, 200) }, 'unreadable engine event skipped');
            continue;
          }
          if (!event) continue;
          const current = event;
          chain = chain.then(async () => {
            // Replayed events (the stream's `since` has whole seconds) still teach the interpreter
            // which stops were requested, but only events after the cursor are acted on.
            const verdict = interpreter.interpret(current);
            if (!isAfterCursor(current, cursor)) return;
            if (verdict && 'ignored' in verdict)
              log.debug({ reason: verdict.ignored }, 'engine event ignored');
            if (verdict && 'fault' in verdict) await handleFault(verdict.fault);
            cursor = advanceCursor(cursor, current);
            onHandled(cursor);
          });
          chain.catch((err: Error) => finish(err));
        }
      });
      stream.on('error', (err: Error) => finish(err));
      stream.on('end', () => finish(new Error('the engine closed the event stream')));
    });
  };

  return {
    /**
     * Follows the engine's event stream from the cursor in the last heartbeat (so events that happened
     * while no worker watched are still seen), reconnecting with backoff while the engine is away.
     */
    async followEngineEvents(input: FollowEventsInput): Promise<EventCursor> {
      const ctx = Context.current();
      const resumed = ctx.info.heartbeatDetails as EventCursor | undefined;
      let cursor: EventCursor = resumed ?? input.cursor ?? { timeNano: Date.now() * 1e6, keysAtTime: [] };
      log.info(
        {
          since: new Date(cursor.timeNano / 1e6).toISOString(),
          from: resumed ? 'heartbeat' : input.cursor ? 'previous run' : 'now',
          attempt: ctx.info.attempt,
          label: labelFilter,
        },
        'following the engine event stream',
      );
      const interpreter = new EngineEventInterpreter();
      const until = Date.now() + input.runForMs;
      const beat = setInterval(() => ctx.heartbeat(cursor), input.heartbeatEveryMs);
      ctx.heartbeat(cursor);
      let failures = 0;
      try {
        while (Date.now() < until && !ctx.cancellationSignal.aborted) {
          try {
            await readStream(cursor, interpreter, until, ctx.cancellationSignal, (c) => {
              cursor = c;
              failures = 0;
            });
          } catch (err) {
            if (ctx.cancellationSignal.aborted) break;
            failures += 1;
            const retryInMs = Math.min(RECONNECT_BASE_MS * 2 ** (failures - 1), RECONNECT_MAX_MS);
            log.warn(
              {
                error: (err as Error).message,
                failures,
                retryInMs,
                since: new Date(cursor.timeNano / 1e6).toISOString(),
              },
              `engine event stream lost; reconnecting in ${Math.round(retryInMs / 1000)} s from the last handled event`,
            );
            await sleep(retryInMs, undefined, { signal: ctx.cancellationSignal }).catch(() => undefined);
          }
        }
      } finally {
        clearInterval(beat);
      }
      if (ctx.cancellationSignal.aborted) {
        ctx.heartbeat(cursor);
        throw new CancelledFailure('engine event watch cancelled');
      }
      return cursor;
    },

    /** One sweep over the managed containers; returns the memory the next sweep needs. */
    async sweepContainers(input: SweepInput): Promise<SweepResult> {
      const listed = await docker.listContainers({ all: true, filters: { label: [labelFilter] } });
      const samples: ContainerSample[] = [];
      const inspected = new Map<string, RawInspect>();
      for (const summary of listed) {
        const info = await inspect(summary.Id);
        if (!info || !isManaged(info)) continue;
        inspected.set(info.Id, info);
        samples.push(await sample(info, input.healthProbeTimeoutMs));
      }
      const { anomalies, memory } = evaluateSweep(samples, input.memory, input.thresholds);
      const result: SweepResult = { memory, containers: samples.length, opened: [], skipped: [] };
      for (const anomaly of anomalies) {
        const open = await openIncidentOf(anomaly, input.searchAttributes);
        if (open) {
          result.skipped.push({ target: anomaly.target, check: anomaly.check, reason: `${open} is open` });
          log.info(
            { target: anomaly.target, check: anomaly.check, open },
            'anomaly already has an open incident',
          );
          // Not reported after all: if that incident ends and the anomaly stays, the next sweep raises it.
          const remembered = memory.containers[anomaly.target];
          if (remembered) remembered.reported = remembered.reported.filter((c) => c !== anomaly.check);
          continue;
        }
        const info = inspected.get(anomaly.containerId);
        const workflowId = await raise(anomaly.target, anomaly.alertType, new Date().toISOString(), {
          via: 'sweep',
          check: anomaly.check,
          containerId: anomaly.containerId,
          ...anomaly.evidence,
          ...(info?.HostConfig?.Memory ? { memoryLimitBytes: info.HostConfig.Memory } : {}),
          detail: anomaly.detail,
        });
        result.opened.push({ workflowId, check: anomaly.check });
      }
      return result;
    },
  };

  async function sample(info: RawInspect, probeTimeoutMs: number): Promise<ContainerSample> {
    const running = info.State.Running;
    const out: ContainerSample = {
      id: info.Id,
      name: nameOf(info),
      state: info.State.Status,
      exitCode: info.State.ExitCode,
      oomKilled: info.State.OOMKilled,
      restartCount: info.RestartCount ?? 0,
      startedAt: info.State.StartedAt,
      ...(info.State.Health?.Status ? { health: info.State.Health.Status } : {}),
    };
    if (!running) return out;
    try {
      const stats = (await docker
        .getContainer(info.Id)
        .stats({ stream: false, 'one-shot': true } as { stream: false })) as unknown as {
        cpu_stats?: { cpu_usage?: { total_usage?: number }; system_cpu_usage?: number; online_cpus?: number };
        memory_stats?: { usage?: number; limit?: number };
      };
      const cpu = stats.cpu_stats;
      if (cpu?.cpu_usage?.total_usage !== undefined && cpu.system_cpu_usage !== undefined) {
        out.cpu = {
          totalUsage: cpu.cpu_usage.total_usage,
          systemUsage: cpu.system_cpu_usage,
          onlineCpus: cpu.online_cpus ?? 1,
        };
      }
      // The engine reports the host's memory as the "limit" of an unlimited container.
      const limitBytes = info.HostConfig?.Memory ?? 0;
      if (stats.memory_stats?.usage !== undefined) {
        out.memory = { usageBytes: stats.memory_stats.usage, limitBytes };
      }
    } catch (err) {
      log.debug({ target: out.name, error: (err as Error).message }, 'no stats for container');
    }
    const url = info.Config?.Labels?.[HEALTH_URL_LABEL];
    if (url) out.healthUrl = await probeHealthUrl(url, probeTimeoutMs);
    return out;
  }

  /** The id of an open incident about this target, if any (of any alert type). */
  async function openIncidentOf(anomaly: Anomaly, searchAttributes: boolean): Promise<string | undefined> {
    const ownId = incidentWorkflowId(anomaly.target, anomaly.alertType);
    try {
      const description = await client.workflow.getHandle(ownId).describe();
      if (description.status.name === 'RUNNING') return ownId;
    } catch {
      // none with this id
    }
    if (!searchAttributes) return undefined;
    const query = `WorkflowType = 'incidentWorkflow' AND ExecutionStatus = 'Running' AND ${IncidentTargetKey.name} = '${anomaly.target}'`;
    for await (const info of client.workflow.list({ query, pageSize: 5 })) {
      const status = info.typedSearchAttributes.get(IncidentStatusKey);
      return `${info.workflowId}${status ? ` (${status})` : ''}`;
    }
    return undefined;
  }
}

export type EngineWatchActivities = ReturnType<typeof createEngineWatchActivities>;
