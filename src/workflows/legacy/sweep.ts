// One health sweep, as a Temporal Schedule ran it every N seconds, its memory in the schedule's last
// completion result. The long-lived sweeper (../sweeper.ts) replaced the schedule, which worker starts now
// delete; this stays registered while a sweep the schedule started may still run, and for its recorded
// histories (test/fixtures/histories/**/sweep.json). Delete it, with those fixtures, once no Medic
// deployment runs the code from before the sweeper.
import { proxyActivities, setCurrentDetails, workflowInfo } from '@temporalio/workflow';
import type { EngineWatchActivities, SweepResult } from '../../activities/watch/index.js';
import type { SweepMemory, SweepThresholds } from '../../domain/anomaly.js';

export interface SweepWorkflowInput {
  thresholds: SweepThresholds;
  healthProbeTimeoutMs: number;
  searchAttributes: boolean;
  /** The swept host's task queue; absent (schedules from before hosts were named): the workflow's own. */
  hostQueue?: string;
}

export async function sweepWorkflow(input: SweepWorkflowInput): Promise<SweepResult> {
  const { sweepContainers } = proxyActivities<EngineWatchActivities>({
    ...(input.hostQueue ? { taskQueue: input.hostQueue } : {}),
    startToCloseTimeout: '1 minute',
    retry: { maximumAttempts: 2, initialInterval: '1s' },
  });
  const previous = workflowInfo().lastResult as SweepResult | undefined;
  const memory: SweepMemory | undefined = previous?.memory;
  setCurrentDetails(
    `**Health sweep**: one look at every managed container${input.hostQueue ? ` on ${input.hostQueue}` : ''} (restart loops, memory, CPU, health probes)`,
  );
  const { hostQueue: _queue, ...sweep } = input;
  return sweepContainers.executeWithOptions(
    { summary: 'sweep managed containers: restart loops, memory, CPU, health' },
    [{ ...sweep, ...(memory ? { memory } : {}) }],
  );
}
