// A service action the container declares for itself, by name only: the declaration is read from the
// container's own labels at the time of the call (never taken from the workflow, a model or a request), and
// exactly that is done. An HTTP action goes to the origin of the container's health URL (as judged by
// domain/health-url.ts with MEDIC_HEALTH_URL_HOSTS), follows no redirect and is bounded in time; a command
// runs as the exact argv through the Engine API's exec, without a shell, its output bounded.
//
// Issued once: an attempt notes in its heartbeat that it is about to send the request (or the exec's id once
// the engine gives it) before it does, and a retry that reads such a note does not do it again. A command's
// retry also asks the engine's event log whether the command started since the first attempt (the note may
// not have reached Temporal before a worker died). An HTTP request carries an Idempotency-Key of the
// incident and the action, for a service that wants to tell a repeat.
import { Context } from '@temporalio/activity';
import { FAILURE } from '../../domain/failures.js';
import { redactSecrets } from '../../domain/redact.js';
import { declaredActions, type ServiceAction } from '../../domain/remedies.js';
import type { ServiceActionInput, ServiceActionResult } from '../../domain/remedy-actions.js';
import type { Logger } from '../../logger.js';
import type { ContainerInfo, ContainerRuntime } from '../containers.js';
import { earlierNote } from '../engine-call.js';
import { engineThatCan, final, portRefusalsAreFinal, sameTarget } from './target.js';

export const DEFAULT_HTTP_ACTION_TIMEOUT_MS = 10_000;
export const DEFAULT_EXEC_ACTION_TIMEOUT_MS = 30_000;
/** What is read of a command's output; a hint of it (redacted) goes into the answer. */
const MAX_OUTPUT_BYTES = 64 * 1024;
const HINT_CHARS = 300;
/** Engine clocks and Temporal's may differ a little: events this much before the first attempt count too. */
const CLOCK_MARGIN_MS = 2000;

/** How far an attempt got, as its heartbeat notes it. */
type ActionNote =
  | { phase: 'sending' }
  | { phase: 'sent'; status: number }
  | { phase: 'exec'; execId?: string };

export async function serviceActionOnce(
  runtime: ContainerRuntime,
  logger: Logger,
  input: ServiceActionInput,
  options: { dryRun: boolean; note: (details: ActionNote) => void },
): Promise<ServiceActionResult> {
  const info = await sameTarget(runtime, input);
  const name = input.action.replace(/^ACTION:/, '');
  const { actions, refused } = declaredActions(info.labels);
  const action = actions.find((a) => a.name === name);
  if (!action) {
    const declared = actions.map((a) => a.name).join(', ') || 'none';
    const unreadable = refused.length > 0 ? `; labels not understood: ${refused.join('; ')}` : '';
    throw final(
      `${input.target} declares no action ${JSON.stringify(name.slice(0, 60))} (declared: ${declared}${unreadable}); Medic runs only what a container declares`,
      FAILURE.actionNotDeclared,
    );
  }
  const log = { target: input.target, incidentId: input.incidentId, action: name };
  const result =
    action.kind === 'http'
      ? await httpAction(info, action, input, options)
      : await execAction(runtime, info, action, input, options);
  logger.info(
    { ...log, outcome: result.outcome, status: result.status, exitCode: result.exitCode },
    'service action',
  );
  return result;
}

/** The origin of the container's own health URL (already judged), and the declared path on it. */
function actionUrl(info: ContainerInfo, action: Extract<ServiceAction, { kind: 'http' }>): URL {
  if (!info.healthUrl) {
    throw final(
      info.healthUrlRefused ??
        `${info.name} has no medic.health-url label: an HTTP action goes to its health URL's origin, and there is none`,
      FAILURE.actionRefused,
    );
  }
  const origin = new URL(info.healthUrl).origin;
  const url = new URL(`${origin}${action.path}`);
  if (url.origin !== origin) {
    throw final(`${action.name}'s path ${action.path} leaves ${origin}; refusing it`, FAILURE.actionRefused);
  }
  return url;
}

async function httpAction(
  info: ContainerInfo,
  action: Extract<ServiceAction, { kind: 'http' }>,
  input: ServiceActionInput,
  options: { dryRun: boolean; note: (details: ActionNote) => void },
): Promise<ServiceActionResult> {
  const url = actionUrl(info, action);
  const what = `${action.method} ${url.href}`;
  if (options.dryRun) {
    return { outcome: 'would-have', detail: `dry run on this worker: would send ${what}; nothing was sent` };
  }
  const earlier = earlierNote<ActionNote>();
  if (earlier?.phase === 'sending' || earlier?.phase === 'sent') {
    const answered =
      earlier.phase === 'sent' ? `; it answered ${earlier.status}` : '; its answer was not seen';
    return {
      outcome: 'ran',
      detail: `an earlier attempt sent ${what}${answered}; not sent again`,
      ...(earlier.phase === 'sent' ? { status: earlier.status } : {}),
    };
  }
  const timeoutMs = input.timeoutMs ?? DEFAULT_HTTP_ACTION_TIMEOUT_MS;
  options.note({ phase: 'sending' });
  const started = Date.now();
  let response: Response;
  try {
    // A redirect is an answer, not an address to follow: it could lead anywhere the label may not.
    response = await fetch(url, {
      method: action.method,
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
      headers: { 'idempotency-key': `medic-${input.incidentId}-${action.name}`, 'user-agent': 'medic' },
    });
  } catch (err) {
    const reason =
      (err as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (err as Error).message;
    // Sent or not, it is not sent again: the verification that follows tells whether it helped.
    return { outcome: 'ran', detail: `${what} failed: ${reason}; not sent again` };
  }
  options.note({ phase: 'sent', status: response.status });
  const ok = response.status >= 200 && response.status < 300;
  const body = ok ? '' : hint(await response.text().catch(() => ''));
  if (ok) await response.body?.cancel();
  return {
    outcome: 'ran',
    status: response.status,
    detail: `${what} answered ${response.status} in ${Date.now() - started} ms${body ? `: ${body}` : ''}`,
  };
}

async function execAction(
  runtime: ContainerRuntime,
  info: ContainerInfo,
  action: Extract<ServiceAction, { kind: 'exec' }>,
  input: ServiceActionInput,
  options: { dryRun: boolean; note: (details: ActionNote) => void },
): Promise<ServiceActionResult> {
  const engine = await engineThatCan(runtime, 'exec');
  const what = `${JSON.stringify(action.argv)} in ${input.target}`;
  if (!info.running) {
    throw final(
      `${input.target} is ${info.state}: a command runs only in a running container`,
      FAILURE.actionRefused,
    );
  }
  if (options.dryRun) {
    return { outcome: 'would-have', detail: `dry run on this worker: would run ${what}; nothing was run` };
  }
  const { attempt, scheduledTimestampMs } = Context.current().info;
  const earlier = earlierNote<ActionNote>();
  if (earlier?.phase === 'exec' && earlier.execId) {
    const status = await engine.execStatus(earlier.execId);
    if (status) {
      const ended = !status.running && status.exitCode !== undefined;
      return {
        outcome: 'ran',
        detail: `an earlier attempt ran ${what}${ended ? `; it exited ${status.exitCode}` : '; it still runs'}; not run again`,
        ...(ended ? { exitCode: status.exitCode } : {}),
      };
    }
  }
  if (attempt > 1 || earlier?.phase === 'exec') {
    // The note may not have reached Temporal: the engine's own log says whether the command started.
    const since = scheduledTimestampMs - CLOCK_MARGIN_MS;
    if (await engine.execStartedSince(info.id, action.argv, since, 1000)) {
      return { outcome: 'ran', detail: `the engine shows an earlier attempt started ${what}; not run again` };
    }
  }
  options.note({ phase: 'exec' });
  const timeoutMs = input.timeoutMs ?? DEFAULT_EXEC_ACTION_TIMEOUT_MS;
  const ran = await portRefusalsAreFinal(() =>
    engine.exec(info.id, action.argv, {
      timeoutMs,
      maxOutputBytes: MAX_OUTPUT_BYTES,
      onCreated: (execId) => options.note({ phase: 'exec', execId }),
    }),
  );
  if (ran.timedOut) {
    return {
      outcome: 'ran',
      detail: `ran ${what}: it had not ended after ${timeoutMs} ms (it may still run)`,
    };
  }
  const output = ran.exitCode === 0 ? '' : hint(ran.output);
  return {
    outcome: 'ran',
    ...(ran.exitCode !== undefined ? { exitCode: ran.exitCode } : {}),
    detail: `ran ${what}: exit code ${ran.exitCode ?? 'unknown'}${output ? `: ${output}` : ''}`,
  };
}

/** A failure's words (the answer's body, the command's output), redacted and short: enough for a person. */
function hint(text: string): string {
  return redactSecrets(text.slice(0, HINT_CHARS * 4))
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, HINT_CHARS);
}
