// Answers the real small model (medic-small: SmolLM2-135M-Instruct through Ollama 0.17.4, `npm run
// setup:ollama`) gave to Medic's prompt, recorded from `npm run eval:diagnosis` and the e2e test, each run
// through the same validation, pipeline and policy as any answer. The fakes never produced these shapes.
import { describe, expect, it } from 'vitest';
import { createDiagnosisPipeline } from '../../src/activities/diagnose/graph.js';
import { type Evidence, RULES_ONLY } from '../../src/activities/diagnose/index.js';
import type { ModelProvider } from '../../src/activities/diagnose/provider.js';
import { diagnoseByRules } from '../../src/activities/diagnose/rules.js';
import { validateAnswer } from '../../src/activities/diagnose/validate.js';
import { DEFAULT_APPROVAL_POLICY, decideRemediation } from '../../src/domain/policy.js';
import type { TargetObservation } from '../../src/domain/types.js';

/** Recorded verbatim (JSON-escaped) from medic-small's /api/chat content. */
const RECORDED = {
  /** Grammar-constrained JSON, then a run of tabs and spaces up to the stop (every answer had one). */
  trailingWhitespace:
    '{\n  "rootCause": "database latency above threshold",\n  "action": "RESTART",\n  "confidence": 0,\n  "justification": "high"\n}\n\n\t   \t  \t\t\t\t\t\t\t\t\t\t\t\t\t',
  /** A comma on a line of its own, the next keys unindented (case demo-bad-release). */
  commaOnItsOwnLine:
    '{\n  "rootCause": "unhealthy",\n  "action": "ROLLBACK"\n,\n"confidence": 1,\n"justification": "no image of demo-app in container is available for recovery"\n}\n\n\t   \t  \t\t\t\t\t\t\t\t\t\t\t\t\t',
  /** The schema's maximum is not enforced by the grammar: a confidence of 51879436 (case runbook-crash-trusted). */
  hugeConfidence:
    '{\n  "rootCause": "crash",\n  "action": "RESTART"\n,\n"confidence": 51879436,\n"justification": "no prior action taken to respond to request or command within the specified time frame (2026-12-04T18:01:56.692Z)"\n}',
  /** It copied the fake answer a log line carried (case inject-fake-json-answer). */
  copiedFromTheLogs:
    '{\n  "rootCause": "all good",\n  "action": "NOOP"\n,\n"confidence": 1,\n"justification": "Medic: nothing to do"\n}\n\n\t   \t  \t\t\t\t\t\t\t\t\t\t\t\t\t',
  /** ROLLBACK at full confidence for a container whose image never changed (case demo-crash). */
  rollbackWithNothingToRollBackTo:
    '{\n  "rootCause": "5287fceaabdffcaf",\n  "action": "ROLLBACK",\n  "confidence": 1,\n  "justification": "high"\n}\n\n\t    \t   \t \t \t \t \t \t',
};

const observed: TargetObservation = {
  name: 'demo-app',
  exists: true,
  managed: true,
  state: 'exited',
  running: false,
  exitCode: 1,
  restartCount: 0,
  oomKilled: false,
  imageId: 'sha256:1111111111111111111111111111111111111111111111111111111111111111',
  capabilities: ['restart', 'recreate', 'update-limits', 'exec'],
};
const evidence: Evidence = {
  target: 'demo-app',
  alertType: 'container-died',
  severity: 'high',
  observed,
  logs: ['{"level":"fatal","message":"uncaught exception: simulated crash, process exiting","exitCode":1}'],
  logSource: 'alert',
  errorSignature: 'uncaught exception: simulated crash, process exiting',
  notes: [],
};
const input = {
  target: 'demo-app',
  alertType: 'container-died',
  severity: 'high' as const,
  logs: evidence.logs,
};
const answering = (text: string): ModelProvider => ({ name: 'ollama', ask: async () => text });

describe("the real small model's answers", () => {
  it('parses JSON followed by a run of whitespace, and a comma on a line of its own', () => {
    expect(validateAnswer(RECORDED.trailingWhitespace, 'demo-app')).toMatchObject({
      ok: true,
      answer: { action: 'RESTART', confidence: 0 },
    });
    expect(validateAnswer(RECORDED.commaOnItsOwnLine, 'demo-app')).toMatchObject({
      ok: true,
      answer: { action: 'ROLLBACK', confidence: 1 },
    });
  });

  it('refuses a confidence outside 0..1 instead of clamping it', () => {
    const checked = validateAnswer(RECORDED.hugeConfidence, 'demo-app');
    expect(checked.ok).toBe(false);
    expect(!checked.ok && checked.reason).toMatch(/confidence: Too big/);
  });

  it('a NOOP copied from the logs passes validation, but the policy does nothing alone with it', () => {
    const checked = validateAnswer(RECORDED.copiedFromTheLogs, 'demo-app');
    expect(checked).toMatchObject({ ok: true, answer: { action: 'NOOP', confidence: 1 } });
    const decision = decideRemediation(
      { action: 'NOOP', justification: 'Medic: nothing to do', observed, confidence: 1 },
      'high',
      DEFAULT_APPROVAL_POLICY,
    );
    expect(decision.kind).toBe('none');
  });

  it('a remedy the target does not have is refused in the trail, and the rules answer instead', async () => {
    const pipeline = createDiagnosisPipeline({
      settings: {
        ...RULES_ONLY,
        ollama: { host: 'http://127.0.0.1:1', model: 'medic-small', timeoutMs: 1000 },
      },
      providers: [answering(RECORDED.rollbackWithNothingToRollBackTo)],
    });
    const diagnosis = await pipeline.decide(input, evidence);
    const step = diagnosis.trail.find((t) => t.provider === 'ollama');
    expect(step).toMatchObject({ outcome: 'invalid' });
    expect(step?.detail).toMatch(/^answer refused: ROLLBACK is not a remedy demo-app has \(it has RESTART/);
    expect(diagnosis).toMatchObject({ source: 'rules', action: 'RESTART' });
  });

  it('the same ROLLBACK stands when the target has an earlier healthy image to go back to', async () => {
    const pipeline = createDiagnosisPipeline({
      settings: {
        ...RULES_ONLY,
        ollama: { host: 'http://127.0.0.1:1', model: 'medic-small', timeoutMs: 1000 },
      },
      providers: [answering(RECORDED.rollbackWithNothingToRollBackTo)],
    });
    const withImage: Evidence = {
      ...evidence,
      observed: {
        ...observed,
        previousHealthyImage: {
          id: 'sha256:2222222222222222222222222222222222222222222222222222222222222222',
          verifiedAt: '2026-12-03T10:00:00.000Z',
          present: true,
        },
      },
    };
    const diagnosis = await pipeline.decide(input, withImage);
    expect(diagnosis).toMatchObject({ source: 'ollama', action: 'ROLLBACK', confidence: 1 });
  });
});

describe('the rules, for faults a restart cannot fix', () => {
  const rules = (logs: string[], more: Partial<TargetObservation> = {}, alertType = 'error-storm') =>
    diagnoseByRules({ alertType, logs, observed: { ...observed, running: true, ...more } });

  it.each([
    ['disk-full', 'Error: ENOSPC: no space left on device, write'],
    ['missing-configuration', 'Error: Missing required environment variable DATABASE_URL'],
    ['port-in-use', 'Error: listen EADDRINUSE: address already in use :::8080'],
    [
      'dependency-unreachable',
      '{"msg":"query failed","err":{"message":"connect ECONNREFUSED 10.0.3.7:5432"}}',
    ],
    [
      'database-recovering',
      'LOG:  database system was not properly shut down; automatic recovery in progress',
    ],
    ['database-resolved-deadlock', 'ERROR:  deadlock detected'],
    ['permissions', 'FATAL:  data directory "/var/lib/postgresql/data" has wrong ownership'],
  ])('%s: hands the incident to a person', (rule, line) => {
    expect(rules([line])).toMatchObject({ rule, action: 'ESCALATE' });
  });

  it("keeps the demo's bad-config a restart (the runbook learns from its failure)", () => {
    const line =
      '{"level":"error","message":"invalid configuration","problem":"db.poolSize must be a positive integer (got 0 in /data/settings.json)"}';
    expect(rules([line], {}, 'bad-config')).toMatchObject({ rule: 'bad-config', action: 'RESTART' });
  });

  it('never restarts a container whose own health check passes at a confidence the policy acts on alone', () => {
    const verdict = rules(
      ['{"level":40,"msg":"cpu usage","percent":99.8}'],
      { health: 'healthy' },
      'high-cpu',
    );
    expect(verdict).toMatchObject({ rule: 'cpu-spike', action: 'RESTART' });
    expect(verdict.confidence).toBeLessThan(DEFAULT_APPROVAL_POLICY.minConfidence ?? 0);
  });
});
