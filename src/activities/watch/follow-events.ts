// The `followEngineEvents` activity: follows the engine's event stream from a cursor, confirms each fault
// against the container as it is now, and raises it. Long-lived and heartbeating: the cursor travels in
// the heartbeat, so a worker that takes over the watch resumes where the last one stopped.
import { setTimeout as sleep } from 'node:timers/promises';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { CancelledFailure } from '@temporalio/common';
import {
  advanceCursor,
  ENGINE_ALERT_TYPES,
  type EngineEvent,
  EngineEventInterpreter,
  type EventCursor,
  type EventFault,
  isAfterCursor,
  SIGKILL_EXIT_CODE,
} from '../../domain/engine-events.js';
import { LOCAL_HOST } from '../../domain/naming.js';
import { classifyRaiseFailure, describeRaiseFailure } from '../../domain/temporal-failure.js';
import type { EngineEvidence } from '../../domain/types.js';
import type { Logger } from '../../logger.js';
import type { IncidentPort } from '../../temporal/incident-port.js';
import type { WatchableRuntime } from '../containers.js';
import type { KernelOomReader } from './kernel-log.js';
import type { RaiseEngineAlert } from './raise-alert.js';

export interface FollowEventsInput {
  /** Where the previous run stopped; the first run starts now. */
  cursor?: EventCursor;
  /** Return (with the cursor) after this long, so the workflow can keep its history short. */
  runForMs: number;
  heartbeatEveryMs: number;
}

const RECONNECT_BASE_MS = 1000;
const RECONNECT_MAX_MS = 30_000;
/** How close the kernel's OOM kill must be to the `die` for the two to be one event. */
const KERNEL_OOM_MATCH_MS = 5000;
/** Tries for one event whose failure is neither an outage nor a refusal, before it is skipped. */
const EVENT_ATTEMPTS = 3;
const EVENT_RETRY_BASE_MS = 500;

/** Raising an alert failed (as opposed to reading the engine): Temporal's answer decides what happens. */
class RaiseFailed extends Error {
  constructor(readonly failure: unknown) {
    super(describeRaiseFailure(failure), { cause: failure });
  }
}

/** Temporal is unavailable: the activity stops, keeping its cursor, and its retry policy backs off. */
class TemporalUnavailable extends Error {}

export function eventFollower(deps: {
  runtime: WatchableRuntime;
  raise: RaiseEngineAlert;
  log: Logger;
  /** Reads the kernel's OOM kills when the engine runs on this host; undefined elsewhere. */
  kernelOomKills?: KernelOomReader;
  /** Tells a target's guard that its container started (its waiting incidents then verify instead). */
  tellTarget?: IncidentPort['tellTarget'];
  /** The host this engine runs on (default `local`). */
  host?: string;
}): (input: FollowEventsInput) => Promise<EventCursor> {
  const { runtime, raise, log } = deps;

  /**
   * A managed container started: its guard hears of it, and whether Medic made that start (it holds or just
   * gave back the lease) or not. Best effort: the incidents waiting on the target verify in time anyway.
   */
  const tellStarted = async (event: EngineEvent): Promise<void> => {
    if (!deps.tellTarget) return;
    try {
      const info = await runtime.inspect(event.containerId);
      if (!info?.managed) return;
      const at = new Date(event.timeNano / 1e6).toISOString();
      await deps.tellTarget(info.name, deps.host ?? LOCAL_HOST, {
        kind: 'started',
        at,
        startedAt: info.startedAt,
      });
    } catch (err) {
      log.warn(
        { target: event.name, error: (err as Error).message },
        "could not tell the target's guard it started",
      );
    }
  };

  const raiseAlert: RaiseEngineAlert = (...args) =>
    raise(...args).catch((err: unknown) => {
      throw new RaiseFailed(err);
    });

  /** Confirms an event's fault against the container as it is now, then raises it. */
  const confirmAndRaise = async (fault: EventFault): Promise<void> => {
    const info = await runtime.inspect(fault.containerId);
    if (!info) {
      log.info({ target: fault.target, kind: fault.kind }, 'fault ignored: the container no longer exists');
      return;
    }
    if (!info.managed) return; // the stream's label filter should already have dropped it
    const faultAt = Date.parse(fault.at);
    if (info.running && Date.parse(info.startedAt) > faultAt) {
      log.info(
        { target: fault.target, kind: fault.kind, startedAt: info.startedAt, faultAt: fault.at },
        'fault ignored: the container has been started again since',
      );
      return;
    }
    if (fault.kind === 'unhealthy' && info.health !== 'unhealthy') {
      log.info({ target: fault.target }, 'unhealthy event ignored: the container is no longer unhealthy');
      return;
    }
    const { memoryLimitBytes } = info;
    let oomKilled = info.oomKilled;
    let oomKilledSource: EngineEvidence['oomKilledSource'] = oomKilled ? 'engine-state' : undefined;
    if (fault.kind === 'oom') {
      oomKilled = true;
      oomKilledSource = 'oom-event';
    } else if (
      fault.kind === 'died' &&
      !oomKilled &&
      fault.exitCode === SIGKILL_EXIT_CODE &&
      memoryLimitBytes &&
      deps.kernelOomKills
    ) {
      // Only a kill of the run that died, just before its `die`: the same container id has earlier runs.
      const startedAt = Date.parse(info.startedAt);
      const kills = await deps.kernelOomKills(info.id);
      if (kills?.some((t) => t > startedAt && t <= faultAt + 1000 && faultAt - t <= KERNEL_OOM_MATCH_MS)) {
        oomKilled = true;
        oomKilledSource = 'kernel-log';
      }
    }
    const alertType =
      fault.kind === 'unhealthy'
        ? ENGINE_ALERT_TYPES.unhealthy
        : oomKilled
          ? ENGINE_ALERT_TYPES.oom
          : ENGINE_ALERT_TYPES.crash;
    const check = fault.kind === 'died' ? 'die' : fault.kind === 'oom' ? 'oom' : 'health_status';
    const exitCode = fault.exitCode ?? (info.running ? undefined : info.exitCode);
    await raiseAlert(info.name, alertType, fault.at, {
      via: 'event',
      check,
      containerId: info.id,
      ...(exitCode !== undefined ? { exitCode } : {}),
      oomKilled,
      ...(oomKilledSource ? { oomKilledSource } : {}),
      restartCount: info.restartCount,
      ...(memoryLimitBytes ? { memoryLimitBytes } : {}),
      detail:
        fault.kind === 'unhealthy'
          ? `the engine's HEALTHCHECK reported ${fault.target} unhealthy`
          : `${fault.target} died with exit code ${exitCode ?? 'unknown'}${oomKilled ? ` (OOM-killed, per ${oomKilledSource})` : ''}`,
    });
  };

  /**
   * Raises one event's fault, or gives up on it: an event Temporal refuses (too large, invalid) or one
   * that keeps failing must not hold the cursor, or every later fault of every container goes unseen.
   * Throws, leaving the cursor before the event, only for what passes with time: Temporal or the
   * engine being unavailable, or the run being over.
   */
  const raiseOrSkip = async (fault: EventFault, signal: AbortSignal): Promise<void> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await confirmAndRaise(fault);
      } catch (err) {
        const failure = classifyRaiseFailure(err instanceof RaiseFailed ? err.failure : err);
        if (failure === 'unavailable')
          throw err instanceof RaiseFailed ? new TemporalUnavailable(err.message) : err;
        if (signal.aborted) throw err;
        if (failure === 'refused' || attempt >= EVENT_ATTEMPTS) {
          log.warn(
            {
              target: fault.target,
              containerId: fault.containerId,
              kind: fault.kind,
              at: fault.at,
              failure,
              attempts: attempt,
              reason: describeRaiseFailure(err),
            },
            `engine fault of ${fault.target} skipped: it could not be raised (${failure}); the watch goes on with the next event`,
          );
          return;
        }
        await sleep(EVENT_RETRY_BASE_MS * 2 ** (attempt - 1), undefined, { signal }).catch(() => undefined);
      }
    }
  };

  /**
   * Reads the stream from the cursor until the signal aborts (deadline or cancellation), handling events
   * in order; throws (the cursor then is that of the last handled event) when the stream fails.
   */
  const readFrom = async (
    from: EventCursor,
    interpreter: EngineEventInterpreter,
    signal: AbortSignal,
    onHandled: (cursor: EventCursor) => void,
  ): Promise<void> => {
    let cursor = from;
    const onUnreadable = (line: string) =>
      log.warn({ line: line.slice(0, 200) }, 'unreadable engine event skipped');
    for await (const event of runtime.events({ sinceNano: from.timeNano, signal, onUnreadable })) {
      // Replayed events (the stream's `since` has whole seconds) still teach the interpreter
      // which stops were requested, but only events after the cursor are acted on.
      const verdict = interpreter.interpret(event);
      if (!isAfterCursor(event, cursor)) continue;
      if (verdict && 'ignored' in verdict) log.debug({ reason: verdict.ignored }, 'engine event ignored');
      if (verdict && 'fault' in verdict) await raiseOrSkip(verdict.fault, signal);
      if (event.action === 'start') await tellStarted(event);
      cursor = advanceCursor(cursor, event);
      onHandled(cursor);
    }
  };

  /**
   * Follows the engine's event stream from the cursor in the last heartbeat (so events that happened
   * while no worker watched are still seen), reconnecting with backoff while the engine is away.
   */
  return async function followEngineEvents(input: FollowEventsInput): Promise<EventCursor> {
    const ctx = Context.current();
    const resumed = ctx.info.heartbeatDetails as EventCursor | undefined;
    let cursor: EventCursor = resumed ?? input.cursor ?? { timeNano: Date.now() * 1e6, keysAtTime: [] };
    log.info(
      {
        since: new Date(cursor.timeNano / 1e6).toISOString(),
        from: resumed ? 'heartbeat' : input.cursor ? 'previous run' : 'now',
        attempt: ctx.info.attempt,
      },
      'following the engine event stream',
    );
    const interpreter = new EngineEventInterpreter();
    // Aborts when this run is over: its time is up, or the activity is cancelled.
    const runOver = AbortSignal.any([ctx.cancellationSignal, AbortSignal.timeout(input.runForMs)]);
    const beat = setInterval(() => ctx.heartbeat(cursor), input.heartbeatEveryMs);
    ctx.heartbeat(cursor);
    let failures = 0;
    try {
      while (!runOver.aborted) {
        try {
          await readFrom(cursor, interpreter, runOver, (c) => {
            cursor = c;
            failures = 0;
          });
        } catch (err) {
          if (runOver.aborted) break;
          if (err instanceof TemporalUnavailable) {
            ctx.heartbeat(cursor);
            log.warn(
              { error: err.message, since: new Date(cursor.timeNano / 1e6).toISOString() },
              'Temporal is unavailable: the watch resumes from the last handled event when it is back',
            );
            throw ApplicationFailure.retryable(
              `Temporal is unavailable: ${err.message}`,
              'TemporalUnavailable',
            );
          }
          failures += 1;
          const retryInMs = Math.min(RECONNECT_BASE_MS * 2 ** (failures - 1), RECONNECT_MAX_MS);
          log.warn(
            {
              error: (err as Error).message,
              failures,
              retryInMs,
              since: new Date(cursor.timeNano / 1e6).toISOString(),
            },
            `engine event stream lost; reconnecting in ${Math.round(retryInMs / 1000)} s from the last handled event`,
          );
          await sleep(retryInMs, undefined, { signal: ctx.cancellationSignal }).catch(() => undefined);
        }
      }
    } finally {
      clearInterval(beat);
    }
    if (ctx.cancellationSignal.aborted) {
      ctx.heartbeat(cursor);
      throw new CancelledFailure('engine event watch cancelled');
    }
    return cursor;
  };
}
