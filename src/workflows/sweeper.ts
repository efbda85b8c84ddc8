// The health sweep of one host, as one long-lived workflow (`sweeper`, per host and task queue): every
// MEDIC_SWEEP_INTERVAL it samples every managed container once (restart loops, memory, CPU, health probes)
// through its host's queue, and keeps what the next sweep needs (streaks, restart counts, CPU counters,
// what it has reported) in its own state. One workflow instead of a run per sweep, so the Web UI's list
// shows incidents, not thousands of sweeps; it continues as new before its history grows large.
import {
  condition,
  continueAsNew,
  isCancellation,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { EngineWatchActivities, SweepResult } from '../activities/watch/index.js';
import type { SweepMemory, SweepSettings } from '../domain/anomaly.js';
import { checkForgetAnomaly, checkSweepSettings } from '../domain/message-checks.js';
import { forgetAnomalySignal, sweepSettingsSignal } from './messages.js';

export type { SweepSettings } from '../domain/anomaly.js';

export interface SweeperInput {
  settings: SweepSettings;
  /** The swept host's task queue. */
  hostQueue: string;
  /** Carried over by continue-as-new. */
  memory?: SweepMemory;
}

/** Sweeps per run before continuing as new (each costs about eight history events). */
const SWEEPS_PER_RUN = 200;

export async function sweeperWorkflow(input: SweeperInput): Promise<void> {
  let { settings, memory } = input;
  let settingsChanged = false;
  const forgotten: Array<{ target: string; check: string }> = [];
  setHandler(sweepSettingsSignal, (next) => {
    if (checkSweepSettings(next)) return;
    settings = next;
    settingsChanged = true;
  });
  // An incident that ended without a verified recovery: report its anomaly again if it is still there.
  setHandler(forgetAnomalySignal, (forget) => {
    if (!checkForgetAnomaly(forget)) forgotten.push(forget);
  });
  const { sweepContainers } = proxyActivities<EngineWatchActivities>({
    taskQueue: input.hostQueue,
    startToCloseTimeout: '1 minute',
    retry: { maximumAttempts: 2, initialInterval: '1s' },
  });
  let last: SweepResult | undefined;
  for (let sweep = 1; sweep <= SWEEPS_PER_RUN; sweep++) {
    forgetReported(memory, forgotten.splice(0));
    setCurrentDetails(describeSweeper(input.hostQueue, settings, last, sweep));
    try {
      last = await sweepContainers.executeWithOptions(
        { summary: 'sweep managed containers: restart loops, memory, CPU, health' },
        [{ ...sweepInput(settings), ...(memory ? { memory } : {}) }],
      );
      memory = last.memory;
    } catch (err) {
      if (isCancellation(err)) throw err;
      // The host's worker is away or the sweep failed twice: the next sweep looks again.
      last = undefined;
    }
    settingsChanged = false;
    await condition(() => settingsChanged, settings.intervalMs);
  }
  forgetReported(memory, forgotten.splice(0));
  await continueAsNew<typeof sweeperWorkflow>({ ...input, settings, ...(memory ? { memory } : {}) });
}

const sweepInput = ({ thresholds, healthProbeTimeoutMs, searchAttributes }: SweepSettings) => ({
  thresholds,
  healthProbeTimeoutMs,
  searchAttributes,
});

function forgetReported(
  memory: SweepMemory | undefined,
  forgotten: Array<{ target: string; check: string }>,
) {
  for (const { target, check } of forgotten) {
    const remembered = memory?.containers[target];
    if (remembered) remembered.reported = remembered.reported.filter((c) => c !== check);
  }
}

function describeSweeper(
  hostQueue: string,
  settings: SweepSettings,
  last: SweepResult | undefined,
  sweep: number,
) {
  const every = `${Math.round(settings.intervalMs / 1000)} s`;
  const lines = [
    `**Health sweep** of \`${hostQueue}\` every ${every}: restart loops, memory, CPU, health probes (sweep ${sweep} of ${SWEEPS_PER_RUN} in this run; ${workflowInfo().historyLength} history events)`,
  ];
  if (last) {
    lines.push(`- last sweep: ${last.containers} container(s), ${last.opened.length} anomaly(ies) raised`);
    if (last.unsampled?.length) lines.push(`- not measured in time: ${last.unsampled.join(', ')}`);
  } else if (sweep > 1) {
    lines.push('- the last sweep did not finish (the host worker may be away): the next one looks again');
  }
  return lines.join('\n');
}
