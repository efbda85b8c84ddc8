// Signals and queries shared by the workflows and every client (API, CLI, Web UI, tests).
// The names are a contract: `temporal workflow signal --name approve` relies on them.
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { Alert, DecisionPayload, IncidentState } from '../domain/types.js';

/** A (possibly duplicate) alert for this incident; sent with signalWithStart. */
export const alertSignal = defineSignal<[Alert]>('alert');
export const approveSignal = defineSignal<[DecisionPayload]>('approve');
export const rejectSignal = defineSignal<[DecisionPayload]>('reject');
export const statusQuery = defineQuery<IncidentState>('status');
