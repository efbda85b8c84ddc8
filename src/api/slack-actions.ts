// Slack's interactivity requests: a click on an approval message's Approve or Reject button. The request is
// Slack's own (its v0 signature over the raw body, within 5 minutes), the clicker is a listed approver, and the
// click is bound to the question it was shown (the button carries the incident and the question's digest).
// Slack is answered at once; the decision goes through the same Update as the API's, with the Update id
// `slack:<action_ts>:<user>`, and its outcome replaces the message through the click's `response_url`. That
// URL is a credential: it is used, never logged, stored or told to the incident. A resent click (the same
// action_ts and user) decides nothing again and is answered with the first outcome.
import { createHash } from 'node:crypto';
import express, { type RequestHandler, type Router } from 'express';
import { z } from 'zod';
import {
  type ButtonValue,
  currentQuestion,
  decodeButtonValue,
  isSlackApprover,
  outcomeText,
  type QuestionFacts,
  questionText,
  SLACK_ACTION_IDS,
  type SlackApprover,
  supersededText,
} from '../domain/slack-approval.js';
import type { DecisionResult, IncidentState } from '../domain/types.js';
import type { Logger } from '../logger.js';
import {
  DecisionTimeoutError,
  IncidentNotFoundError,
  NotAwaitingApprovalError,
  TemporalUnavailableError,
} from '../temporal/errors.js';
import { type IncidentGateway, slackUpdateId } from '../temporal/incident-gateway.js';
import { HttpError } from './errors.js';
import {
  checkSlackHeaders,
  SLACK_SIGNATURE_HEADER,
  SLACK_TIMESTAMP_HEADER,
  slackSignatureMatches,
} from './slack-signature.js';

export interface SlackActionDeps {
  gateway: Pick<IncidentGateway, 'get' | 'decide' | 'tellRefusal'>;
  settings: { signingSecret: string | undefined; approvers: SlackApprover[]; responseHosts: string[] };
  decisionTimeoutMs: number;
  logger: Logger;
  now?: () => number;
}

/** The parts of Slack's `block_actions` payload Medic reads. */
const payloadSchema = z.object({
  type: z.string().max(100),
  user: z.object({
    id: z.string().regex(/^[UW][A-Z0-9]{2,30}$/, 'user.id must be a Slack user id'),
    team_id: z.string().max(40).optional(),
  }),
  team: z.object({ id: z.string().max(40) }).nullish(),
  response_url: z.string().max(2000).optional(),
  actions: z
    .array(
      z.object({
        action_id: z.string().max(255),
        value: z.string().max(2000).optional(),
        action_ts: z.string().regex(/^\d{1,12}(\.\d{1,9})?$/, 'action_ts must be Slack seconds'),
      }),
    )
    .max(20)
    .optional(),
});

/** A message for the response_url: a replacement of the original, or one only the clicker sees. */
type SlackReply = Record<string, unknown>;

const replaceWith = (text: string, workflowId: string): SlackReply => ({
  replace_original: true,
  text,
  blocks: [
    { type: 'section', text: { type: 'mrkdwn', text } },
    { type: 'context', elements: [{ type: 'mrkdwn', text: `\`${workflowId.replace(/[`<>&]/g, '')}\`` }] },
  ],
});
const onlyForClicker = (text: string): SlackReply => ({
  response_type: 'ephemeral',
  replace_original: false,
  text,
});

const digestOf = (question: QuestionFacts) =>
  createHash('sha256').update(questionText(question)).digest('base64url').slice(0, 32);

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** Clicks remembered for their resends: Slack retries within seconds; an hour is plenty. */
class ClickMemory {
  private readonly clicks = new Map<
    string,
    { at: number; reply: Promise<SlackReply>; settled?: SlackReply }
  >();

  constructor(
    private readonly ttlMs = 60 * 60_000,
    private readonly max = 10_000,
  ) {}

  get(key: string, now: number) {
    for (const [k, entry] of this.clicks) {
      if (now - entry.at < this.ttlMs && this.clicks.size < this.max) break;
      this.clicks.delete(k);
    }
    return this.clicks.get(key);
  }

  remember(key: string, now: number, reply: Promise<SlackReply>): void {
    const entry: { at: number; reply: Promise<SlackReply>; settled?: SlackReply } = { at: now, reply };
    this.clicks.set(key, entry);
    reply.then(
      (settled) => {
        entry.settled = settled;
      },
      () => this.clicks.delete(key),
    );
  }

  forget(key: string): void {
    this.clicks.delete(key);
  }
}

interface Click {
  verdict: 'approve' | 'reject';
  user: string;
  team: string | undefined;
  button: ButtonValue;
  updateId: string;
}

export function slackActionRoutes(deps: SlackActionDeps): Router {
  const router = express.Router();
  const now = deps.now ?? Date.now;
  const memory = new ClickMemory();
  const { settings, logger } = deps;

  const signedBySlack: RequestHandler = (req, res, next) => {
    const secret = settings.signingSecret;
    if (!secret)
      throw new HttpError(
        404,
        'not_found',
        'Slack actions are off: set MEDIC_SLACK_SIGNING_SECRET to turn them on',
      );
    const headers = checkSlackHeaders({
      signature: req.header(SLACK_SIGNATURE_HEADER),
      timestamp: req.header(SLACK_TIMESTAMP_HEADER),
      nowMs: now(),
    });
    if (!headers.ok) throw new HttpError(401, 'invalid_slack_signature', headers.reason);
    res.locals.slack = headers;
    next();
  };

  const checkBody: RequestHandler = (req, res, next) => {
    const headers = res.locals.slack as { signature: string; timestampSeconds: number };
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    if (
      !slackSignatureMatches(
        settings.signingSecret as string,
        headers.timestampSeconds,
        raw,
        headers.signature,
      )
    )
      throw new HttpError(
        401,
        'invalid_slack_signature',
        "signature does not match the body; check MEDIC_SLACK_SIGNING_SECRET against the app's signing secret",
      );
    next();
  };

  router.post(
    '/integrations/slack/actions',
    signedBySlack,
    express.raw({ type: () => true, limit: '64kb' }),
    checkBody,
    (req, res) => {
      if (!req.is('application/x-www-form-urlencoded'))
        throw new HttpError(415, 'unsupported_media_type', 'Slack sends application/x-www-form-urlencoded');
      const click = readClick(req.body as Buffer);
      if (!click) {
        // Another kind of interaction (or another app's button): acknowledged, nothing to do.
        res.status(200).end();
        return;
      }
      const { responseUrl, ...decision } = click;
      const retry = req.header('x-slack-retry-num');
      const seen = memory.get(decision.updateId, now());
      logger.info(
        {
          workflowId: decision.button.workflowId,
          user: decision.user,
          verdict: decision.verdict,
          retry,
          resend: !!seen,
        },
        'slack click',
      );
      if (seen) {
        // The same click again: the first outcome, and nothing decided twice.
        if (seen.settled) res.status(200).json(seen.settled);
        else res.status(200).end();
        return;
      }
      const reply = settle(decision);
      memory.remember(decision.updateId, now(), reply);
      // Slack wants its answer within 3 s: the outcome follows through the response_url.
      res.status(200).end();
      void reply.then((message) => (responseUrl ? postReply(responseUrl, message) : undefined));
    },
  );

  function readClick(raw: Buffer): (Click & { responseUrl: string | undefined }) | undefined {
    const text = new URLSearchParams(raw.toString('utf8')).get('payload');
    if (text === null)
      throw new HttpError(400, 'invalid_slack_payload', 'the body must carry payload=<JSON>');
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new HttpError(400, 'invalid_slack_payload', 'payload is not valid JSON');
    }
    const parsed = payloadSchema.safeParse(json);
    if (!parsed.success)
      throw new HttpError(
        400,
        'invalid_slack_payload',
        `payload is not a block_actions payload: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
      );
    const payload = parsed.data;
    const action = payload.actions?.find(
      (a) => a.action_id === SLACK_ACTION_IDS.approve || a.action_id === SLACK_ACTION_IDS.reject,
    );
    if (payload.type !== 'block_actions' || !action) return undefined;
    const button = action.value ? decodeButtonValue(action.value) : undefined;
    if (!button)
      throw new HttpError(400, 'invalid_slack_payload', "the button's value is not one Medic made");
    const responseUrl = payload.response_url;
    if (responseUrl !== undefined && !allowedResponseUrl(responseUrl))
      throw new HttpError(
        400,
        'invalid_response_url',
        'response_url names a host outside MEDIC_SLACK_RESPONSE_HOSTS (or is not https)',
      );
    return {
      verdict: action.action_id === SLACK_ACTION_IDS.approve ? 'approve' : 'reject',
      user: payload.user.id,
      team: payload.user.team_id ?? payload.team?.id,
      button,
      updateId: slackUpdateId(action.action_ts, payload.user.id),
      responseUrl,
    };
  }

  function allowedResponseUrl(text: string): boolean {
    try {
      const url = new URL(text);
      const secure = url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK.has(url.hostname));
      return secure && url.username === '' && settings.responseHosts.includes(url.hostname);
    } catch {
      return false;
    }
  }

  /** Decides, or says why not: never throws (Slack has its answer already). */
  async function settle(click: Click): Promise<SlackReply> {
    const { workflowId } = click.button;
    const refuse = (reason: string) =>
      deps.gateway
        .tellRefusal(workflowId, { channel: 'slack', by: click.user, reason })
        .catch((err) => logger.warn({ workflowId, err: (err as Error).message }, 'refusal not recorded'));
    if (!isSlackApprover(settings.approvers, click.user, click.team)) {
      await refuse('may not decide: not in MEDIC_SLACK_APPROVERS');
      return onlyForClicker(
        `You may not decide this: <@${click.user}> is not one of Medic's Slack approvers (MEDIC_SLACK_APPROVERS). Nothing was decided.`,
      );
    }
    try {
      const state = await deps.gateway.get(workflowId);
      const question = currentQuestion(state);
      if (!question || digestOf(question) !== click.button.digest) return await superseded(state, refuse);
      const result: DecisionResult = await deps.gateway.decide(
        workflowId,
        click.verdict,
        { by: click.user },
        { updateId: click.updateId, timeoutMs: deps.decisionTimeoutMs },
      );
      const at = new Date(now()).toISOString();
      const text = outcomeText({
        verdict: click.verdict,
        user: click.user,
        at,
        proposed: question.proposed,
        status: result.status,
      });
      return replaceWith(text, workflowId);
    } catch (err) {
      if (err instanceof NotAwaitingApprovalError) {
        const state = await deps.gateway.get(workflowId).catch(() => undefined);
        if (state) return await superseded(state, refuse);
      }
      if (err instanceof IncidentNotFoundError)
        return replaceWith(`This request no longer stands: no incident ${workflowId} runs.`, workflowId);
      // Nothing was decided: a fresh click may try again.
      memory.forget(click.updateId);
      const why =
        err instanceof DecisionTimeoutError || err instanceof TemporalUnavailableError
          ? 'Medic could not reach a worker in time'
          : 'Medic failed to take the decision (see its logs)';
      if (!(err instanceof DecisionTimeoutError || err instanceof TemporalUnavailableError))
        logger.error({ workflowId, err }, 'slack decision failed');
      return onlyForClicker(`${why}: nothing was decided. Click again in a minute.`);
    }
  }

  async function superseded(state: IncidentState, refuse: (reason: string) => Promise<unknown>) {
    const text = supersededText(state);
    await refuse(`clicked a request that no longer stands (the incident is ${state.status})`);
    return replaceWith(text, state.workflowId);
  }

  async function postReply(url: string, message: SlackReply): Promise<void> {
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json; charset=utf-8', 'user-agent': 'medic' },
        body: JSON.stringify(message),
        redirect: 'manual',
        signal: AbortSignal.timeout(5000),
      });
      await response.text().catch(() => '');
      if (!response.ok) logger.warn({ status: response.status }, "Slack's response_url refused the outcome");
    } catch (err) {
      // The URL is a credential: only what went wrong is logged.
      logger.warn({ reason: (err as Error).name }, "the outcome could not be posted to Slack's response_url");
    }
  }

  return router;
}
