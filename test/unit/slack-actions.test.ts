// Deciding from Slack, the pure parts: Slack's v0 request signature (checked against the example in Slack's
// documentation), who may decide, what a button carries, and the settings.
import { describe, expect, it } from 'vitest';
import { factsFor } from '../../src/activities/notify-message.js';
import { questionDigest, slackMessage } from '../../src/activities/notify-slack.js';
import { checkSlackHeaders, signSlackRequest, slackSignatureMatches } from '../../src/api/slack-signature.js';
import { ConfigError, loadConfig } from '../../src/config.js';
import {
  currentQuestion,
  decodeButtonValue,
  isSlackApprover,
  parseSlackApprovers,
} from '../../src/domain/slack-approval.js';
import type { IncidentState } from '../../src/domain/types.js';

// https://api.slack.com/authentication/verifying-requests-from-slack, "a step-by-step walk-through".
const DOC = {
  secret: '8f742231b10e8888abcd99yyyzzz85a5',
  timestamp: 1531420618,
  body: 'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c',
  signature: 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503',
};

describe("Slack's request signature", () => {
  it("gives the signature of Slack's documented example, and matches it in constant time", () => {
    expect(signSlackRequest(DOC.secret, DOC.timestamp, DOC.body)).toBe(DOC.signature);
    expect(slackSignatureMatches(DOC.secret, DOC.timestamp, Buffer.from(DOC.body), DOC.signature)).toBe(true);
    expect(slackSignatureMatches(DOC.secret, DOC.timestamp, Buffer.from(`${DOC.body}x`), DOC.signature)).toBe(
      false,
    );
    expect(slackSignatureMatches('another-secret', DOC.timestamp, Buffer.from(DOC.body), DOC.signature)).toBe(
      false,
    );
    expect(slackSignatureMatches(DOC.secret, DOC.timestamp + 1, Buffer.from(DOC.body), DOC.signature)).toBe(
      false,
    );
  });

  it('refuses missing headers, a timestamp more than 5 minutes away and a malformed signature', () => {
    const nowMs = DOC.timestamp * 1000;
    expect(
      checkSlackHeaders({ signature: DOC.signature, timestamp: String(DOC.timestamp), nowMs }),
    ).toMatchObject({
      ok: true,
    });
    expect(checkSlackHeaders({ signature: undefined, timestamp: '1', nowMs }).ok).toBe(false);
    expect(
      checkSlackHeaders({ signature: DOC.signature, timestamp: String(DOC.timestamp - 301), nowMs }),
    ).toMatchObject({ ok: false, reason: expect.stringMatching(/301 s away from now/) });
    expect(
      checkSlackHeaders({ signature: DOC.signature, timestamp: String(DOC.timestamp + 299), nowMs }).ok,
    ).toBe(true);
    expect(checkSlackHeaders({ signature: 'sha256=00', timestamp: String(DOC.timestamp), nowMs }).ok).toBe(
      false,
    );
  });
});

describe('Slack approvers', () => {
  it('reads user ids, optionally bound to a workspace; a workspace alone admits nobody', () => {
    const approvers = parseSlackApprovers('U0ALICE, T0TEAM/U0BOB');
    expect(approvers).toEqual([{ user: 'U0ALICE' }, { user: 'U0BOB', team: 'T0TEAM' }]);
    expect(isSlackApprover(approvers, 'U0ALICE', 'T0ANY')).toBe(true);
    expect(isSlackApprover(approvers, 'U0BOB', 'T0TEAM')).toBe(true);
    expect(isSlackApprover(approvers, 'U0BOB', 'T0OTHER')).toBe(false);
    expect(isSlackApprover(approvers, 'U0MALLORY', 'T0TEAM')).toBe(false);
    expect(() => parseSlackApprovers('T0TEAM')).toThrow(/a workspace alone admits nobody/);
    expect(() => parseSlackApprovers('alice')).toThrow(/Slack user id/);
    expect(() => loadConfig({ MEDIC_SLACK_APPROVERS: 'T0TEAM' })).toThrow(ConfigError);
    expect(loadConfig({ MEDIC_SLACK_APPROVERS: 'U0ALICE' }).slack).toEqual({
      approvers: [{ user: 'U0ALICE' }],
      responseHosts: ['hooks.slack.com'],
    });
  });
});

describe("an approval message's buttons", () => {
  const state = {
    id: 'incident:local:demo:hang',
    workflowId: 'incident:local:demo:hang',
    status: 'AWAITING_APPROVAL',
    target: 'demo',
    diagnosis: { rootCause: 'event loop blocked' },
    approval: {
      required: true,
      reason: 'critical: a person decides',
      askedAt: '2026-12-04T10:00:00.000Z',
      expiresAt: '2026-12-04T14:00:00.000Z',
      proposed: 'RESTART',
    },
  } as unknown as IncidentState;
  const notification = {
    level: 'warning' as const,
    workflowId: state.workflowId,
    incidentId: state.id,
    target: 'demo',
    title: 'approval needed for incident:local:demo:hang',
    message: 'critical: a person decides; proposed: RESTART',
    event: 'approval-needed' as const,
    proposed: { action: 'RESTART', reason: 'critical: a person decides' },
    diagnosis: { source: 'rules', rootCause: 'event loop blocked', confidence: 0.9 },
    evidence: ['the health endpoint timed out three times'],
    approval: {
      askedAt: '2026-12-04T10:00:00.000Z',
      expiresAt: '2026-12-04T14:00:00.000Z',
      reason: 'critical: a person decides',
      proposed: 'RESTART',
    },
  };
  const settings = {
    routes: [],
    publicUrl: 'http://127.0.0.1:3000',
    temporalUiUrl: 'http://127.0.0.1:8233',
    namespace: 'default',
    timeoutMs: 5000,
  };

  it('carry the incident and the digest of the question the incident asks now; a new question has another', () => {
    const message = slackMessage(notification, factsFor(notification, settings), { buttons: true });
    const actions = message.blocks.find((b) => b.type === 'actions') as {
      elements: Array<{ value: string }>;
    };
    const value = decodeButtonValue(actions.elements[0]?.value ?? '');
    const question = currentQuestion(state);
    expect(question).toBeDefined();
    expect(value).toEqual({ workflowId: state.workflowId, digest: questionDigest(question as never) });
    const askedAgain = { ...state, approval: { ...state.approval, askedAt: '2026-12-04T11:00:00.000Z' } };
    expect(questionDigest(currentQuestion(askedAgain as IncidentState) as never)).not.toBe(value?.digest);
    expect(currentQuestion({ ...state, status: 'REMEDIATING' })).toBeUndefined();
    // Without the setting, no buttons (Slack would show them, and a click would go nowhere).
    expect(
      slackMessage(notification, factsFor(notification, settings)).blocks.some((b) => b.type === 'actions'),
    ).toBe(false);
    expect(decodeButtonValue('{"v":2}')).toBeUndefined();
    expect(decodeButtonValue('not json')).toBeUndefined();
  });
});
