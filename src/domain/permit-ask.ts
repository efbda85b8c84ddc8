// One request of the permit (domain/permit.ts) to the guard or the budget: how it is delivered and how
// its wait ends. Signalled first and started only when the signal finds nobody (`signal-first`), with
// the wait running from the start; or started, then signalled, then waited for (`start-first`, the
// order before patch `permit-one-trip`). It has ended once it is delivered and its wait is over, or
// once anything it needed failed.
import type { Decision, PermitCommand, PermitEvent, Scope } from './permit-protocol.js';

export interface Ask {
  scope: Scope;
  requestId: string;
  approvedBy?: string;
  order: 'signal-first' | 'start-first';
  /** How long the wait for the answer lasts. */
  ms: number;
  delivery: 'signalling' | 'starting' | 'signalling-again' | 'delivered';
  /** `idle`: not begun (in turn, until the request is delivered). */
  wait: 'idle' | 'waiting' | 'answered' | 'timed-out';
  /** The latest answer counted. */
  answer?: Decision;
  /** The workflow's handle on the error that ended it. */
  failure?: number;
}

export type Failure = Extract<PermitEvent, { kind: 'failed' | 'cancelled' }>;

export function openAsk(
  scope: Scope,
  requestId: string,
  approvedBy: string | undefined,
  order: Ask['order'],
  ms: number,
  out: PermitCommand[],
): Ask {
  const by = approvedBy ? { approvedBy } : {};
  if (order === 'start-first') {
    out.push({ kind: 'start', which: scope });
    return { scope, requestId, ...by, order, ms, delivery: 'starting', wait: 'idle' };
  }
  out.push({ kind: 'signal', to: scope, requestId, ...by }, { kind: 'wait', for: scope, requestId, ms });
  return { scope, requestId, ...by, order, ms, delivery: 'signalling', wait: 'waiting' };
}

export const askDone = (ask: Ask): boolean =>
  ask.failure !== undefined ||
  (ask.delivery === 'delivered' && (ask.wait === 'answered' || ask.wait === 'timed-out'));

/** The asking's request of that scope and id, if it is the one asked now. */
export function askFor(
  asking: { lease: Ask; budget?: Ask } | undefined,
  scope: Scope,
  requestId: string,
): Ask | undefined {
  const asked = scope === 'lease' ? asking?.lease : asking?.budget;
  return asked?.requestId === requestId ? asked : undefined;
}

/** The answer that decides: the latest, unless it only says the request waits in line. */
export const settledDecision = (ask: Ask | undefined): Decision | undefined =>
  ask?.answer?.kind === 'queued' ? undefined : ask?.answer;
