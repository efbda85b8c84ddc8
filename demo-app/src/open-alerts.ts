// Which alerts are open, in flight or cooling down after a failed delivery. Pure bookkeeping: the
// caller says what is present and when, and is told what to send.
import type { AlertType } from './symptoms.js';

export interface OpenAlertsOptions {
  /**
   * An open alert closes once its symptom has been absent this long. Longer than one interval, so
   * a symptom that flickers (cpu-spike blocks 800 ms of every second) does not re-fire each time.
   */
  clearAfterMs: number;
  /** After a delivery gave up, wait this long before trying that alert type again. */
  retryAfterFailureMs: number;
}

interface AlertState {
  open: boolean;
  inFlight: boolean;
  lastPresentAt: number;
  failedAt: number | undefined;
}

export interface AlertDecisions {
  /** Present, not open, not in flight: send now. They are marked in flight. */
  toSend: AlertType[];
  /** Were open, and the symptom has been gone for clearAfterMs: they may fire again. */
  cleared: AlertType[];
}

export class OpenAlerts {
  private readonly states = new Map<AlertType, AlertState>();

  constructor(private readonly options: OpenAlertsOptions) {}

  observe(present: readonly AlertType[], nowMs: number): AlertDecisions {
    const toSend: AlertType[] = [];
    const cleared: AlertType[] = [];
    for (const type of present) {
      const state = this.stateOf(type);
      state.lastPresentAt = nowMs;
      const coolingDown =
        state.failedAt !== undefined && nowMs - state.failedAt < this.options.retryAfterFailureMs;
      if (!state.open && !state.inFlight && !coolingDown) {
        state.inFlight = true;
        toSend.push(type);
      }
    }
    for (const [type, state] of this.states) {
      if (state.open && !present.includes(type) && nowMs - state.lastPresentAt >= this.options.clearAfterMs) {
        state.open = false;
        cleared.push(type);
      }
    }
    return { toSend, cleared };
  }

  /** Records how a send that observe() asked for ended. */
  settle(type: AlertType, accepted: boolean, nowMs: number): void {
    const state = this.stateOf(type);
    state.inFlight = false;
    state.open = accepted;
    state.failedAt = accepted ? undefined : nowMs;
  }

  isOpen(type: AlertType): boolean {
    return this.states.get(type)?.open ?? false;
  }

  isInFlight(type: AlertType): boolean {
    return this.states.get(type)?.inFlight ?? false;
  }

  private stateOf(type: AlertType): AlertState {
    let state = this.states.get(type);
    if (!state) {
      state = { open: false, inFlight: false, lastPresentAt: Number.NEGATIVE_INFINITY, failedAt: undefined };
      this.states.set(type, state);
    }
    return state;
  }
}
