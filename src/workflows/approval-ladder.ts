// The escalation ladder of a question nobody answered yet: each step's wait that runs out tells the next
// level, once, and says so in the incident's timeline.
import { secondsText } from '../domain/incident.js';
import { tell } from './incident/record.js';
import type { IncidentRun } from './incident/run.js';
import type { ResumePoint } from './incident/types.js';

type DecisionWait = Omit<Extract<ResumePoint, { for: 'decision' }>, 'for'>;

/** The step's wait ran out without a decision: the next level of the ladder is told. */
export async function climbLadder(run: IncidentRun, wait: DecisionWait, waited: number): Promise<void> {
  const { levels } = run.settings.escalation;
  wait.level += 1;
  const recipient = levels[wait.level] ?? 'on-call';
  (run.state.escalatedTo ?? []).push(recipient);
  run.record('escalated', `no decision after ${secondsText(waited)}: escalated to ${recipient}`);
  const message = `no decision after ${secondsText(waited)}; ${wait.reason}; proposed: ${wait.proposed}`;
  await tell(
    run,
    'escalated',
    'critical',
    `still waiting for approval of ${run.state.workflowId}`,
    message,
    recipient,
  );
}
