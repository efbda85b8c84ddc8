// Evidence for a diagnosis. Every piece is time-boxed; a piece that fails or times out is noted,
// not fatal. Split in two: what the runbook key needs (state, logs) and what only a model reads
// (resource stats, a health probe), so a runbook hit never waits for the slow part.
import { DEFAULT_LOG_LIMITS, type LogLimits } from '../../domain/log-bounds.js';
import { errorSignature } from '../../domain/log-signature.js';
import { sanitiseLogLines } from '../../domain/sanitise.js';
import type { KnownFix, Severity, TargetObservation } from '../../domain/types.js';
import type { HealthyImages } from '../../temporal/healthy-image-port.js';
import {
  type ContainerInfo,
  type ContainerRuntime,
  capabilitiesOf,
  isRemedyRuntime,
  type ResourceStats,
} from '../containers.js';
import { checkContainerHealth, type HealthProbe } from '../health.js';

export interface DiagnoseInput {
  target: string;
  alertType: string;
  severity: Severity;
  /** Log lines the alert carried (untrusted). */
  logs: string[];
}

export interface Evidence {
  target: string;
  alertType: string;
  severity: Severity;
  observed: TargetObservation;
  logs: string[];
  logSource: 'alert' | 'engine' | 'none';
  errorSignature: string;
  stats?: ResourceStats;
  healthProbe?: HealthProbe;
  knownFix?: KnownFix;
  /** Pieces that could not be gathered, and why. */
  notes: string[];
}

export const DEFAULT_EVIDENCE_TIMEOUT_MS = 3000;
const ENGINE_LOG_LINES = 50;

export class EvidenceTimeout extends Error {
  override name = 'EvidenceTimeout';
}

export function timeBox<T>(what: string, ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new EvidenceTimeout(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

const reasonOf = (err: unknown) => (err instanceof Error ? err.message : String(err));

export function observationOf(name: string, info: ContainerInfo | undefined): TargetObservation {
  if (!info) return { name, exists: false, managed: false };
  return {
    name,
    exists: true,
    managed: info.managed,
    containerId: info.id,
    state: info.state,
    running: info.running,
    startedAt: info.startedAt,
    restartCount: info.restartCount,
    exitCode: info.exitCode,
    oomKilled: info.oomKilled,
    health: info.health,
    healthUrl: info.healthUrl,
    ...(info.imageId ? { imageId: info.imageId } : {}),
    ...(info.image ? { image: info.image } : {}),
    ...(info.createdAt ? { createdAt: info.createdAt } : {}),
    ...(info.memoryLimitBytes ? { memoryLimitBytes: info.memoryLimitBytes } : {}),
    labels: medicLabels(info.labels),
  };
}

/** Only Medic's own labels are evidence: others may hold anything (a team's secrets among them). */
function medicLabels(labels: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(labels)) {
    if (key.startsWith('medic.') && key.length <= 200) out[key] = value.slice(0, 1000);
  }
  return out;
}

/**
 * What the remedies beyond a restart are decided from: what the engine can do, and the image the target
 * last ran verified healthy (its guard keeps it) when that is another one, with whether the engine still
 * has it. A piece that cannot be had is noted: the remedy it would allow is then not offered.
 */
export async function remedyEvidence(
  observed: TargetObservation,
  runtime: ContainerRuntime,
  healthyImages: HealthyImages | undefined,
  timeoutMs: number,
  notes: string[],
): Promise<Partial<TargetObservation>> {
  if (!observed.exists || !observed.managed) return {};
  const out: Partial<TargetObservation> = {};
  try {
    out.capabilities = [...(await timeBox('capabilities', timeoutMs, capabilitiesOf(runtime))).can];
  } catch (err) {
    notes.push(`engine capabilities: ${reasonOf(err)}`);
  }
  if (!healthyImages || !observed.imageId) return out;
  try {
    const last = await timeBox('last healthy image', timeoutMs, healthyImages.lastHealthy(observed.name));
    if (last && last.id !== observed.imageId) {
      const present = isRemedyRuntime(runtime)
        ? await timeBox('image', timeoutMs, runtime.imageExists(last.id))
        : false;
      out.previousHealthyImage = { ...last, present };
    }
  } catch (err) {
    notes.push(`last healthy image: ${reasonOf(err)}`);
  }
  return out;
}

/**
 * The container's state and its logs: the runbook key. The state is not optional: without it there
 * is no start time to compare-and-act on, so an engine that cannot be inspected fails the activity
 * (Temporal retries it) instead of producing a diagnosis nobody may act on.
 */
export async function gatherCoreEvidence(
  input: DiagnoseInput,
  runtime: ContainerRuntime,
  timeoutMs = DEFAULT_EVIDENCE_TIMEOUT_MS,
  logLimits: LogLimits = DEFAULT_LOG_LIMITS,
  healthyImages?: HealthyImages,
): Promise<{ evidence: Evidence; info: ContainerInfo | undefined }> {
  const notes: string[] = [];
  const info = await timeBox('inspect', timeoutMs, runtime.inspect(input.target));
  const seen = observationOf(input.target, info);
  const observed = { ...seen, ...(await remedyEvidence(seen, runtime, healthyImages, timeoutMs, notes)) };
  // Said here, not only by the model evidence's probe: a runbook hit never probes, and people must see it.
  if (info?.healthUrlRefused) notes.push(`health URL: ${info.healthUrlRefused}`);
  let logs = input.logs;
  let logSource: Evidence['logSource'] = logs.length > 0 ? 'alert' : 'none';
  // Only a managed target's logs are read: Medic does not look into containers it may not touch.
  if (logs.length === 0 && observed.managed) {
    try {
      logs = await timeBox('logs', timeoutMs, runtime.logs(input.target, ENGINE_LOG_LINES));
      logSource = 'engine';
    } catch (err) {
      notes.push(`logs: ${reasonOf(err)}`);
    }
  }
  // The engine's lines are as the container wrote them; an alert's were sanitised at ingest, unless it
  // was taken before Medic did that. Nothing unbounded or unredacted reaches a signature or a prompt.
  logs = sanitiseLogLines(logs, logLimits);
  return {
    info,
    evidence: {
      target: input.target,
      alertType: input.alertType,
      severity: input.severity,
      observed,
      logs,
      logSource,
      errorSignature: errorSignature(logs),
      notes,
    },
  };
}

/** Resource stats and a health probe, in parallel; only the models read them. */
export async function gatherModelEvidence(
  evidence: Evidence,
  info: ContainerInfo | undefined,
  runtime: ContainerRuntime,
  timeoutMs = DEFAULT_EVIDENCE_TIMEOUT_MS,
): Promise<Partial<Evidence>> {
  if (!info || !evidence.observed.managed) return {};
  const notes = [...evidence.notes];
  const [stats, probe] = await Promise.allSettled([
    runtime.stats
      ? timeBox('stats', timeoutMs, runtime.stats(info.name))
      : Promise.reject(new Error(`the ${runtime.kind} does not measure resources`)),
    timeBox('health probe', timeoutMs + 500, checkContainerHealth(info, timeoutMs)),
  ]);
  if (stats.status === 'rejected') notes.push(`stats: ${reasonOf(stats.reason)}`);
  if (probe.status === 'rejected') notes.push(`health probe: ${reasonOf(probe.reason)}`);
  return {
    notes,
    ...(stats.status === 'fulfilled' ? { stats: stats.value } : {}),
    ...(probe.status === 'fulfilled' ? { healthProbe: probe.value } : {}),
  };
}

/**
 * Everything a diagnosis may read, gathered on the container's host: the state and logs (the runbook key)
 * and, beside them, the stats and health probe only a model reads. A host worker runs this; the central
 * worker decides on the result without touching an engine. The stats cost a runbook hit about a second.
 */
export async function gatherEvidence(
  input: DiagnoseInput,
  runtime: ContainerRuntime,
  timeoutMs = DEFAULT_EVIDENCE_TIMEOUT_MS,
  logLimits: LogLimits = DEFAULT_LOG_LIMITS,
  healthyImages?: HealthyImages,
): Promise<Evidence> {
  const { evidence, info } = await gatherCoreEvidence(input, runtime, timeoutMs, logLimits, healthyImages);
  return { ...evidence, ...(await gatherModelEvidence(evidence, info, runtime, timeoutMs)) };
}
