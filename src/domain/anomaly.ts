// The sweep's rules: samples of every managed container in, anomalies out. Pure, and fed the memory
// of the previous sweep, so "sustained over two sweeps" and "report once until it clears" hold
// however the sweeps are scheduled. A reading that hovers around its threshold never flaps: an
// anomaly is reported when its streak reaches the sustain count, and not again until it has cleared.
import { ENGINE_ALERT_SEVERITY, ENGINE_ALERT_TYPES } from './engine-events.js';
import { defaultNumber } from './settings-table.js';
import type { Severity } from './types.js';

export interface CpuCounters {
  /** Cumulative CPU time of the container, ns. */
  totalUsage: number;
  /** Cumulative CPU time of the host, ns. */
  systemUsage: number;
  onlineCpus: number;
}

export interface ContainerSample {
  id: string;
  name: string;
  /** running, exited, dead, restarting, paused, created */
  state: string;
  exitCode: number;
  oomKilled: boolean;
  restartCount: number;
  startedAt: string;
  /** The engine's HEALTHCHECK status, when the container has one. */
  health?: string;
  cpu?: CpuCounters;
  memory?: { usageBytes: number; limitBytes: number };
  /** The answer of the `medic.health-url` label's URL, when the container has one and runs. */
  healthUrl?: { ok: boolean; detail: string };
}

export interface SweepThresholds {
  cpuPercent: number;
  memoryPercent: number;
  /** Consecutive sweeps a CPU, memory or health-URL reading must be bad before it is reported. */
  sustainedSweeps: number;
}

export const DEFAULT_SWEEP_THRESHOLDS: SweepThresholds = {
  cpuPercent: defaultNumber('MEDIC_SWEEP_CPU_PERCENT'),
  memoryPercent: defaultNumber('MEDIC_SWEEP_MEMORY_PERCENT'),
  sustainedSweeps: defaultNumber('MEDIC_SWEEP_SUSTAINED'),
};

export const SWEEP_CHECKS = ['exited', 'restart-loop', 'unhealthy', 'health-url', 'cpu', 'memory'] as const;
export type SweepCheck = (typeof SWEEP_CHECKS)[number];

/** Checks whose fault is plain at once (the engine already waited, or the process is gone). */
const IMMEDIATE: ReadonlySet<SweepCheck> = new Set(['exited', 'restart-loop', 'unhealthy']);

export interface ContainerMemory {
  id: string;
  startedAt: string;
  restartCount: number;
  cpu?: CpuCounters;
  streaks: Partial<Record<SweepCheck, number>>;
  reported: SweepCheck[];
}

/** What one sweep hands to the next (the schedule's last completion result). */
export interface SweepMemory {
  containers: Record<string, ContainerMemory>;
}

export interface Anomaly {
  target: string;
  containerId: string;
  check: SweepCheck;
  alertType: string;
  severity: Severity;
  detail: string;
  evidence: { exitCode?: number; oomKilled?: boolean; restartCount: number };
}

interface Finding {
  check: SweepCheck;
  alertType: string;
  detail: string;
}

export function cpuPercent(
  previous: CpuCounters | undefined,
  now: CpuCounters | undefined,
): number | undefined {
  if (!previous || !now) return undefined;
  const used = now.totalUsage - previous.totalUsage;
  const elapsed = now.systemUsage - previous.systemUsage;
  if (elapsed <= 0 || used < 0) return undefined;
  // system_cpu_usage counts every CPU of the host: scale to "percent of one CPU" like `docker stats`.
  return (used / elapsed) * Math.max(1, now.onlineCpus) * 100;
}

const round = (n: number) => Math.round(n * 10) / 10;

function findings(
  sample: ContainerSample,
  before: ContainerMemory | undefined,
  t: SweepThresholds,
): Finding[] {
  const out: Finding[] = [];
  const running = sample.state === 'running';
  if (sample.state === 'dead' || (sample.state === 'exited' && (sample.exitCode !== 0 || sample.oomKilled))) {
    out.push({
      check: 'exited',
      alertType: sample.oomKilled ? ENGINE_ALERT_TYPES.oom : ENGINE_ALERT_TYPES.crash,
      detail: `${sample.name} is ${sample.state} (exit code ${sample.exitCode}${sample.oomKilled ? ', OOM-killed' : ''})`,
    });
  }
  const grew = before && before.id === sample.id && sample.restartCount > before.restartCount;
  if (sample.state === 'restarting' || grew) {
    out.push({
      check: 'restart-loop',
      alertType: ENGINE_ALERT_TYPES.restartLoop,
      detail: grew
        ? `${sample.name} restarted ${sample.restartCount - (before?.restartCount ?? 0)} time(s) since the last sweep (restart count ${sample.restartCount})`
        : `${sample.name} is restarting (restart count ${sample.restartCount})`,
    });
  }
  if (running && sample.health === 'unhealthy') {
    out.push({
      check: 'unhealthy',
      alertType: ENGINE_ALERT_TYPES.unhealthy,
      detail: `the engine's HEALTHCHECK reports ${sample.name} unhealthy`,
    });
  }
  if (running && sample.healthUrl && !sample.healthUrl.ok) {
    out.push({
      check: 'health-url',
      alertType: ENGINE_ALERT_TYPES.unhealthy,
      detail: sample.healthUrl.detail,
    });
  }
  const cpu = running && before?.id === sample.id ? cpuPercent(before.cpu, sample.cpu) : undefined;
  if (cpu !== undefined && cpu >= t.cpuPercent) {
    out.push({
      check: 'cpu',
      alertType: ENGINE_ALERT_TYPES.highCpu,
      detail: `${sample.name} uses ${round(cpu)}% CPU (threshold ${t.cpuPercent}%)`,
    });
  }
  const mem = sample.memory;
  if (running && mem && mem.limitBytes > 0) {
    const percent = (mem.usageBytes / mem.limitBytes) * 100;
    if (percent >= t.memoryPercent) {
      out.push({
        check: 'memory',
        alertType: ENGINE_ALERT_TYPES.highMemory,
        detail: `${sample.name} uses ${round(percent)}% of its memory limit (${Math.round(mem.usageBytes / 1048576)} of ${Math.round(mem.limitBytes / 1048576)} MiB; threshold ${t.memoryPercent}%)`,
      });
    }
  }
  return out;
}

/** One sweep: the anomalies to report now, and the memory for the next sweep. */
export function evaluateSweep(
  samples: readonly ContainerSample[],
  previous: SweepMemory | undefined,
  thresholds: SweepThresholds = DEFAULT_SWEEP_THRESHOLDS,
): { anomalies: Anomaly[]; memory: SweepMemory } {
  const anomalies: Anomaly[] = [];
  const containers: Record<string, ContainerMemory> = {};
  for (const sample of samples) {
    const remembered = previous?.containers[sample.name];
    // A container recreated under the same name starts with a clean slate.
    const before =
      remembered && remembered.id === sample.id
        ? { ...remembered, streaks: { ...remembered.streaks }, reported: [...remembered.reported] }
        : undefined;
    // Started again since the last sweep (by Medic or anyone): a death now is a new death, even when
    // no sweep saw it running in between.
    if (before && before.startedAt !== sample.startedAt) {
      before.reported = before.reported.filter((c) => c !== 'exited');
      delete before.streaks.exited;
    }
    const found = findings(sample, before, thresholds);
    const streaks: Partial<Record<SweepCheck, number>> = {};
    const reported: SweepCheck[] = [];
    for (const check of SWEEP_CHECKS) {
      const finding = found.find((f) => f.check === check);
      if (!finding) continue; // cleared: streak and report both reset
      const streak = (before?.streaks[check] ?? 0) + 1;
      streaks[check] = streak;
      const needed = IMMEDIATE.has(check) ? 1 : Math.max(1, thresholds.sustainedSweeps);
      const alreadyReported = before?.reported.includes(check) ?? false;
      if (alreadyReported || streak >= needed) reported.push(check);
      if (!alreadyReported && streak >= needed) {
        anomalies.push({
          target: sample.name,
          containerId: sample.id,
          check,
          alertType: finding.alertType,
          severity: ENGINE_ALERT_SEVERITY[finding.alertType] ?? 'medium',
          detail: needed > 1 ? `${finding.detail}, for ${streak} sweeps` : finding.detail,
          evidence: {
            restartCount: sample.restartCount,
            ...(sample.state !== 'running' ? { exitCode: sample.exitCode, oomKilled: sample.oomKilled } : {}),
          },
        });
      }
    }
    containers[sample.name] = {
      id: sample.id,
      startedAt: sample.startedAt,
      restartCount: sample.restartCount,
      ...(sample.cpu ? { cpu: sample.cpu } : {}),
      streaks,
      reported,
    };
  }
  return { anomalies, memory: { containers } };
}
