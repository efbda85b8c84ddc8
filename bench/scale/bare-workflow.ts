// The floor of the scale benchmark: a workflow that takes the same start, alert signal and approve
// signal as an incident and does nothing else, so what remains is Temporal's own cost.
import { condition, defineSignal, setHandler } from '@temporalio/workflow';

export const bareAlert = defineSignal<[unknown]>('alert');
export const bareApprove = defineSignal<[unknown]>('approve');

export async function bareIncident(): Promise<void> {
  let approved = false;
  setHandler(bareAlert, () => undefined);
  setHandler(bareApprove, () => {
    approved = true;
  });
  await condition(() => approved);
}
