// The `sweepContainers` activity: samples every managed container once (state, usage counters, its
// health URL), lets the pure sweep rules find anomalies, and raises those without an open incident.
import {
  type Anomaly,
  type ContainerSample,
  evaluateSweep,
  type SweepMemory,
  type SweepThresholds,
} from '../../domain/anomaly.js';
import { classifyRaiseFailure, describeRaiseFailure } from '../../domain/temporal-failure.js';
import type { Logger } from '../../logger.js';
import type { HealthyImages } from '../../temporal/healthy-image-port.js';
import type { IncidentPort } from '../../temporal/incident-port.js';
import type { ContainerInfo, WatchableRuntime } from '../containers.js';
import { probeHealthUrl } from '../health.js';
import { noteHealthyImage } from '../healthy-image.js';
import type { RaiseEngineAlert } from './raise-alert.js';

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
  /** Anomalies that could not be raised this time; the next sweep raises them again. */
  failed: Array<{ target: string; check: string; reason: string }>;
  /** Containers not measured within the sweep's time budget: their readings wait for the next sweep. */
  unsampled?: string[];
}

/** Containers measured at once (usage counters, health URL): one hung service must not hold the others. */
export const SWEEP_CONCURRENCY = 8;
/** The whole sweep's measuring time, well inside its activity's one-minute timeout. */
export const SWEEP_BUDGET_MS = 40_000;

/** Exited and restart-looping containers first: their faults are the surest, and cost no probe. */
function urgency(a: ContainerInfo, b: ContainerInfo): number {
  if (a.running !== b.running) return a.running ? 1 : -1;
  return b.restartCount - a.restartCount;
}

/** `work` over `items`, `cap` at a time, each result or `undefined` when the deadline passed first. */
async function withinBudget<T, R>(
  items: readonly T[],
  cap: number,
  deadline: number,
  work: (item: T) => Promise<R>,
): Promise<Array<R | undefined>> {
  const results: Array<R | undefined> = new Array(items.length).fill(undefined);
  let next = 0;
  const lane = async () => {
    for (let i = next++; i < items.length; i = next++) {
      const left = deadline - Date.now();
      if (left <= 0) return;
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<undefined>((resolve) => {
        timer = setTimeout(() => resolve(undefined), left);
      });
      results[i] = await Promise.race([work(items[i] as T), late]);
      clearTimeout(timer);
    }
  };
  await Promise.all(Array.from({ length: Math.min(cap, items.length) }, lane));
  return results;
}

/** The sweep reports an anomaly once; one that was not raised after all must be reported again. */
function forget(memory: SweepMemory, anomaly: Anomaly): void {
  const remembered = memory.containers[anomaly.target];
  if (remembered) remembered.reported = remembered.reported.filter((c) => c !== anomaly.check);
}

/**
 * A container running without anomalies whose health check or health URL says healthy is verified healthy
 * on the image it runs; one with neither is not verified at all. Told only when it changed (the gateway).
 */
async function noteHealthyImages(
  samples: readonly ContainerSample[],
  anomalies: readonly Anomaly[],
  byId: ReadonlyMap<string, ContainerInfo>,
  deps: { healthyImages?: HealthyImages; log: Logger },
): Promise<void> {
  if (!deps.healthyImages) return;
  const troubled = new Set(anomalies.map((a) => a.containerId));
  for (const sample of samples) {
    const info = byId.get(sample.id);
    if (!info?.imageId || troubled.has(sample.id) || info.state !== 'running') continue;
    const checked = sample.health !== undefined || sample.healthUrl !== undefined;
    const healthy = (sample.health ?? 'healthy') === 'healthy' && (sample.healthUrl?.ok ?? true);
    if (checked && healthy)
      await noteHealthyImage({ healthyImages: deps.healthyImages, logger: deps.log }, info);
  }
}

export function sweeper(deps: {
  runtime: WatchableRuntime;
  incidents: Pick<IncidentPort, 'findOpenIncident'>;
  raise: RaiseEngineAlert;
  log: Logger;
  /** The host this engine runs on: an open incident about a same-named container elsewhere is not ours. */
  host?: string;
  /** Told the image of each container found healthy (its guard keeps it, for a rollback). */
  healthyImages?: HealthyImages;
  /** Defaults SWEEP_CONCURRENCY and SWEEP_BUDGET_MS. */
  concurrency?: number;
  budgetMs?: number;
}): (input: SweepInput) => Promise<SweepResult> {
  const { runtime, incidents, raise, log } = deps;

  const sample = async (info: ContainerInfo, probeTimeoutMs: number): Promise<ContainerSample> => {
    const out: ContainerSample = {
      id: info.id,
      name: info.name,
      state: info.state,
      exitCode: info.exitCode,
      oomKilled: info.oomKilled,
      restartCount: info.restartCount,
      startedAt: info.startedAt,
      ...(info.health ? { health: info.health } : {}),
    };
    if (!info.running) return out;
    try {
      const counters = await runtime.resourceCounters(info.id);
      if (counters.cpu) out.cpu = counters.cpu;
      // The engine reports the host's memory as the "limit" of an unlimited container: use the container's own.
      if (counters.memoryUsageBytes !== undefined) {
        out.memory = { usageBytes: counters.memoryUsageBytes, limitBytes: info.memoryLimitBytes ?? 0 };
      }
    } catch (err) {
      log.debug({ target: out.name, error: (err as Error).message }, 'no stats for container');
    }
    if (info.healthUrl) out.healthUrl = await probeHealthUrl(info.healthUrl, probeTimeoutMs);
    return out;
  };

  /** Raises an anomaly unless an incident about its target is open already; records which in the result. */
  const raiseUnlessOpen = async (
    anomaly: Anomaly,
    memory: SweepMemory,
    result: SweepResult,
    input: SweepInput,
    memoryLimitBytes: number | undefined,
  ): Promise<void> => {
    const open = await incidents.findOpenIncident(anomaly.target, anomaly.alertType, {
      searchAttributes: input.searchAttributes,
      ...(deps.host ? { host: deps.host } : {}),
    });
    if (open) {
      result.skipped.push({ target: anomaly.target, check: anomaly.check, reason: `${open} is open` });
      log.info(
        { target: anomaly.target, check: anomaly.check, open },
        'anomaly already has an open incident',
      );
      // Not reported after all: if that incident ends and the anomaly stays, the next sweep raises it.
      forget(memory, anomaly);
      return;
    }
    const workflowId = await raise(anomaly.target, anomaly.alertType, new Date().toISOString(), {
      via: 'sweep',
      check: anomaly.check,
      containerId: anomaly.containerId,
      ...anomaly.evidence,
      ...(memoryLimitBytes ? { memoryLimitBytes } : {}),
      detail: anomaly.detail,
    });
    result.opened.push({ workflowId, check: anomaly.check });
  };

  /**
   * One sweep over the managed containers, measured in parallel within its time budget; returns the memory
   * the next sweep needs. A container not measured in time keeps what the last sweep remembered of it.
   */
  return async function sweepContainers(input: SweepInput): Promise<SweepResult> {
    const containers = [...(await runtime.listManaged())].sort(urgency);
    const deadline = Date.now() + (deps.budgetMs ?? SWEEP_BUDGET_MS);
    const measured = await withinBudget(containers, deps.concurrency ?? SWEEP_CONCURRENCY, deadline, (info) =>
      sample(info, input.healthProbeTimeoutMs),
    );
    const samples = measured.filter((s): s is ContainerSample => s !== undefined);
    const unsampled = containers.filter((_, i) => measured[i] === undefined).map((info) => info.name);
    if (unsampled.length > 0)
      log.warn({ unsampled }, `${unsampled.length} container(s) not measured within the sweep's time budget`);
    const byId = new Map(containers.map((info) => [info.id, info]));
    const { anomalies, memory } = evaluateSweep(samples, input.memory, input.thresholds);
    for (const name of unsampled) {
      const remembered = input.memory?.containers[name];
      if (remembered) memory.containers[name] = remembered;
    }
    const result: SweepResult = {
      memory,
      containers: samples.length,
      opened: [],
      skipped: [],
      failed: [],
      ...(unsampled.length > 0 ? { unsampled } : {}),
    };
    await noteHealthyImages(samples, anomalies, byId, deps);
    // Each anomaly on its own: one that cannot be raised must not cost the others theirs.
    for (const anomaly of anomalies) {
      try {
        const memoryLimitBytes = byId.get(anomaly.containerId)?.memoryLimitBytes;
        await raiseUnlessOpen(anomaly, memory, result, input, memoryLimitBytes);
      } catch (err) {
        const reason = describeRaiseFailure(err);
        result.failed.push({ target: anomaly.target, check: anomaly.check, reason });
        log.warn(
          { target: anomaly.target, check: anomaly.check, failure: classifyRaiseFailure(err), reason },
          `anomaly of ${anomaly.target} could not be raised; the next sweep tries again`,
        );
        forget(memory, anomaly);
      }
    }
    return result;
  };
}
