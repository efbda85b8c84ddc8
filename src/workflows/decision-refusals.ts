// Decisions refused before they reached the incident (Medic's API turned down a Slack click: an unlisted
// user, a request that no longer stands): the incident records them in its timeline and decides nothing.
import { setHandler } from '@temporalio/workflow';
import { checkRefusedDecision } from '../domain/message-checks.js';
import type { IncidentRun } from './incident/run.js';
import { decisionRefusedSignal } from './messages.js';

export function listenForRefusals(run: Pick<IncidentRun, 'record'>): void {
  setHandler(decisionRefusedSignal, (refused) => {
    const problem = checkRefusedDecision(refused);
    if (problem) return run.record('decision-refused', `a refusal notice was refused: ${problem}`);
    run.record('decision-refused', `${refused.channel}: ${refused.by}: ${refused.reason}`);
  });
}
