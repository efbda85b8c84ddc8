// The container engine's event stream, read the same way whether Docker or Podman serves it, and
// the rules that turn an event into a fault. Pure: the watcher activity feeds events in order.
//
// Shapes seen on the wire (Docker Engine API /events):
// - Docker:  { Type, Action: 'die' | 'oom' | 'health_status: unhealthy' | 'kill' | ..., Actor: { ID,
//              Attributes: { name, exitCode, <labels> } }, time, timeNano }
// - Podman 4.3 (Docker-compatible API): the same envelope plus `status`; `die` carries both
//   `exitCode` and `containerExitCode`; health is `Action: 'health_status'` with the status in
//   `Attributes.health_status`; a restart through the API emits `restart` BEFORE `die`, where Docker
//   emits `kill`, `die`, `stop`, `start`, `restart`. Podman 4.3 with cgroup v1 emits no `oom` event
//   and reports OOMKilled=false even when the kernel's OOM killer ended the process (checked here).
import type { Severity } from './types.js';

export interface EngineEvent {
  action: string;
  containerId: string;
  name: string;
  attributes: Record<string, string>;
  /** Nanoseconds since the epoch. */
  timeNano: number;
  exitCode?: number;
  /** From health events: healthy, unhealthy, starting. */
  health?: string;
}

/** Where the stream was read up to: events at or before it are already handled. */
export interface EventCursor {
  timeNano: number;
  /** Keys of the events handled at exactly `timeNano` (two events can share a timestamp). */
  keysAtTime: string[];
}

export function eventKey(event: EngineEvent): string {
  return `${event.containerId}:${event.action}:${event.timeNano}`;
}

export function isAfterCursor(event: EngineEvent, cursor: EventCursor): boolean {
  if (event.timeNano > cursor.timeNano) return true;
  return event.timeNano === cursor.timeNano && !cursor.keysAtTime.includes(eventKey(event));
}

export function advanceCursor(cursor: EventCursor, event: EngineEvent): EventCursor {
  if (event.timeNano > cursor.timeNano) return { timeNano: event.timeNano, keysAtTime: [eventKey(event)] };
  if (event.timeNano === cursor.timeNano) {
    return { timeNano: cursor.timeNano, keysAtTime: [...cursor.keysAtTime, eventKey(event)].slice(-50) };
  }
  return cursor;
}

const toInt = (value: unknown): number | undefined => {
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (typeof value === 'string' && /^-?\d+$/.test(value)) return Number(value);
  return undefined;
};

/** Normalises one JSON event from either engine; undefined for events that are not about a container. */
export function parseEngineEvent(raw: unknown): EngineEvent | undefined {
  if (!raw || typeof raw !== 'object') return undefined;
  const e = raw as Record<string, unknown>;
  const type = e.Type ?? e.type;
  if (type !== undefined && type !== 'container') return undefined;
  const actor = (e.Actor ?? {}) as { ID?: unknown; Attributes?: Record<string, unknown> };
  const attributes: Record<string, string> = {};
  for (const [k, v] of Object.entries(actor.Attributes ?? {})) if (typeof v === 'string') attributes[k] = v;
  let action = String(e.Action ?? e.status ?? '');
  let health: string | undefined;
  // Docker: "health_status: unhealthy"; Podman: "health_status" with the status as an attribute.
  const healthMatch = /^health_status:\s*(\S+)$/.exec(action);
  if (healthMatch) {
    action = 'health_status';
    health = healthMatch[1];
  } else if (action === 'health_status') {
    health = attributes.health_status;
  }
  // Docker adds the exec'd command to exec events ("exec_start: sh -c ..."): keep the verb.
  action = action.split(':')[0]?.trim() ?? action;
  const containerId = String(actor.ID ?? e.id ?? '');
  if (!action || !containerId) return undefined;
  const timeNano =
    typeof e.timeNano === 'number' ? e.timeNano : typeof e.time === 'number' ? e.time * 1e9 : Number.NaN;
  if (!Number.isFinite(timeNano)) return undefined;
  const exitCode = toInt(attributes.exitCode ?? attributes.containerExitCode);
  return {
    action,
    containerId,
    name: attributes.name ?? containerId.slice(0, 12),
    attributes,
    timeNano,
    ...(action === 'die' && exitCode !== undefined ? { exitCode } : {}),
    ...(health ? { health } : {}),
  };
}

/** A fault the watcher should raise, before the engine is asked for details. */
export interface EventFault {
  kind: 'died' | 'oom' | 'unhealthy';
  target: string;
  containerId: string;
  /** ISO time of the event. */
  at: string;
  exitCode?: number;
}

export type EventVerdict = { fault: EventFault } | { ignored: string } | undefined;

/** How long after a stop or kill requested through the engine its `die` is expected. */
const REQUESTED_STOP_WINDOW_NS = 120e9;

/**
 * Reads events in order and says which are faults. A `die` that follows a stop, kill or restart
 * requested through the engine (Medic's own restarts, an operator's `docker stop`) is not a fault;
 * a process killed from outside the engine (kill -9, the OOM killer, a crash) is.
 */
export class EngineEventInterpreter {
  private readonly requestedStop = new Map<string, number>();
  private readonly lastAction = new Map<string, string>();

  interpret(event: EngineEvent): EventVerdict {
    const id = event.containerId;
    const previous = this.lastAction.get(id);
    this.lastAction.set(id, event.action);
    const at = new Date(event.timeNano / 1e6).toISOString();
    switch (event.action) {
      case 'kill':
      case 'stop':
        this.requestedStop.set(id, event.timeNano);
        return undefined;
      case 'restart':
        // Docker reports `restart` after the new `start`; Podman before its `die`.
        if (previous !== 'start') this.requestedStop.set(id, event.timeNano);
        return undefined;
      case 'start':
        this.requestedStop.delete(id);
        return undefined;
      case 'destroy':
      case 'remove':
        this.requestedStop.delete(id);
        this.lastAction.delete(id);
        return undefined;
      case 'oom':
        return { fault: { kind: 'oom', target: event.name, containerId: id, at } };
      case 'health_status':
        if (event.health !== 'unhealthy') return undefined;
        return { fault: { kind: 'unhealthy', target: event.name, containerId: id, at } };
      case 'die': {
        const requested = this.requestedStop.get(id);
        this.requestedStop.delete(id);
        if (requested !== undefined && event.timeNano - requested <= REQUESTED_STOP_WINDOW_NS) {
          return {
            ignored: `${event.name} was stopped through the engine (exit code ${event.exitCode ?? '?'})`,
          };
        }
        if (event.exitCode === 0) return { ignored: `${event.name} exited cleanly (exit code 0)` };
        return {
          fault: {
            kind: 'died',
            target: event.name,
            containerId: id,
            at,
            ...(event.exitCode !== undefined ? { exitCode: event.exitCode } : {}),
          },
        };
      }
      default:
        return undefined;
    }
  }
}

/** Exit code of a process ended by SIGKILL (128 + 9): kill -9 or the kernel's OOM killer. */
export const SIGKILL_EXIT_CODE = 137;

/**
 * Alert types shared with webhook senders, so an engine event and a webhook about the same fault are
 * one incident (`incident-<target>-<alert type>`): the demo app calls its crash `crash` too.
 */
export const ENGINE_ALERT_TYPES = {
  crash: 'crash',
  oom: 'oom',
  unhealthy: 'unhealthy',
  restartLoop: 'restart-loop',
  highCpu: 'high-cpu',
  highMemory: 'high-memory',
  /** It declares `medic.depends-on=<target>` and fails after Medic restarted that target. */
  dependencyFailed: 'dependency-failed',
} as const;

/**
 * Engine-found faults are restarts of something already down or failing its own health check, so
 * they are medium (automatic by the default policy); a restart loop is high: restarting again is
 * unlikely to help and a person should agree.
 */
export const ENGINE_ALERT_SEVERITY: Record<string, Severity> = {
  crash: 'medium',
  oom: 'medium',
  unhealthy: 'medium',
  // A container that keeps restarting is rarely healed by one more restart: a person decides.
  'restart-loop': 'critical',
  'high-cpu': 'medium',
  'high-memory': 'medium',
  // Its connections to the restarted container went stale: a restart of its own, within its own limits.
  'dependency-failed': 'medium',
};
