// Scores every diagnosis source on a labelled set of incidents: each case goes through the real diagnosis
// pipeline (src/activities/diagnose/, decide() on the case's evidence), then the plan and the policy the
// workflow applies (domain/plan.ts, domain/policy.ts), and the action is compared with the case's labels.
//   npm run eval:diagnosis -- [--cases file.json] [--source rules|runbook|ollama|gemini|chain]... [--json]
// The format of a case file: docs/development/diagnosis-eval.md.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { ollamaHasModel, ollamaPresent, startOllama } from '../scripts/ollama.js';
import { PROJECT_ROOT } from '../scripts/paths.js';
import { createDiagnosisPipeline } from '../src/activities/diagnose/graph.js';
import type { Evidence } from '../src/activities/diagnose/index.js';
import { createOllamaProvider } from '../src/activities/diagnose/ollama.js';
import type { ModelProvider } from '../src/activities/diagnose/provider.js';
import type { DiagnosisSettings } from '../src/activities/diagnose/settings.js';
import { RunbookStore } from '../src/activities/runbook.js';
import { loadConfig } from '../src/config.js';
import { issuesInWords } from '../src/domain/alert.js';
import { DEFAULT_LOG_LIMITS } from '../src/domain/log-bounds.js';
import { errorSignature } from '../src/domain/log-signature.js';
import { imageChangedAgoMs, planFor, remedyContext } from '../src/domain/plan.js';
import { type ApprovalPolicy, decideRemediation } from '../src/domain/policy.js';
import { catalogueFor } from '../src/domain/remedies.js';
import { sanitiseLogLines } from '../src/domain/sanitise.js';
import type { RemedySettings } from '../src/domain/settings.js';
import type { Diagnosis, Severity, TargetObservation } from '../src/domain/types.js';

const DEFAULT_CASES = path.join(PROJECT_ROOT, 'test', 'fixtures', 'diagnosis-eval', 'cases.json');
const RESULTS = path.join(PROJECT_ROOT, 'bench', 'results', 'diagnosis-eval.json');
export const SOURCES = ['rules', 'runbook', 'ollama', 'gemini', 'chain'] as const;
type Source = (typeof SOURCES)[number];

const action = z
  .string()
  .regex(/^(RESTART|ROLLBACK|RAISE_MEMORY|NOOP|ESCALATE|ACTION:[a-z0-9][a-z0-9-]{0,39})$/, {
    message: 'an action is RESTART, ROLLBACK, RAISE_MEMORY, NOOP, ESCALATE or ACTION:<name>',
  });
const caseSchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,79}$/),
  tags: z.array(z.string()).default([]),
  /** Where the log lines' shape comes from. */
  source: z.string().min(1),
  /** Why the labels are what they are (and, for a relabelled case, why it was relabelled). */
  reasoning: z.string().min(1),
  target: z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/),
  alert: z.strictObject({
    type: z.string().min(1).max(100),
    severity: z.enum(['low', 'medium', 'high', 'critical']),
  }),
  logs: z.array(z.string()).max(500),
  container: z.strictObject({
    state: z.string().optional(),
    running: z.boolean().optional(),
    exitCode: z.number().int().optional(),
    oomKilled: z.boolean().optional(),
    restartCount: z.number().int().min(0).optional(),
    health: z.string().optional(),
    image: z.string().optional(),
    /** The image changed this long before the alert (a deploy); absent: days ago. */
    imageChangedMinutesAgo: z.number().min(0).optional(),
    /** The image it last ran verified healthy, when another, and whether the engine still has it. */
    previousHealthyImage: z.strictObject({ name: z.string(), present: z.boolean() }).optional(),
    memoryLimitMb: z.number().positive().optional(),
    labels: z.record(z.string(), z.string()).optional(),
    capabilities: z.array(z.enum(['restart', 'recreate', 'update-limits', 'exec'])).optional(),
  }),
  /** What the runbook learned for this target, alert type and error signature: a fix and its outcomes. */
  runbook: z
    .strictObject({
      action,
      outcomes: z.array(z.enum(['resolved', 'failed', 'rejected', 'did-not-stick'])).min(1),
    })
    .optional(),
  acceptable: z.array(action).min(1),
  harmful: z.array(action),
});
export type EvalCase = z.infer<typeof caseSchema>;
const fileSchema = z.object({
  format: z.literal('medic-diagnosis-eval/1'),
  cases: z.array(caseSchema).min(1),
});

/** The cases of a file, or an error that says which case and field is wrong. */
export function loadCases(file: string): EvalCase[] {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`${file}: ${(err as Error).message}`);
  }
  const parsed = fileSchema.safeParse(json);
  if (!parsed.success) throw new Error(`${file}: ${issuesInWords(parsed.error, 5, '(file)')}`);
  const ids = new Set<string>();
  for (const c of parsed.data.cases) {
    if (ids.has(c.id)) throw new Error(`${file}: case id ${c.id} appears twice`);
    ids.add(c.id);
    const both = c.acceptable.filter((a) => c.harmful.includes(a));
    // Allowed only with a reason: acceptable as a proposal to a person, harmful done alone.
    if (both.length > 0 && !/alone|proposal/i.test(c.reasoning))
      throw new Error(
        `${file}: case ${c.id} marks ${both.join(', ')} both acceptable and harmful without saying why`,
      );
  }
  return parsed.data.cases;
}

const DAY_MS = 24 * 3600_000;

const fakeId = (text: string) => `sha256:${createHash('sha256').update(text).digest('hex')}`;

/** The evidence Medic would have gathered for the case, as a host worker hands it to decide(). */
export function evidenceOf(c: EvalCase, now: number): Evidence {
  const k = c.container;
  const image = k.image ?? `registry.example.com/${c.target}:1.0.0`;
  const exited = k.running === false;
  const observed: TargetObservation = {
    name: c.target,
    exists: true,
    managed: true,
    containerId: fakeId(`container ${c.id}`).slice(7, 19),
    state: k.state ?? (exited ? 'exited' : 'running'),
    running: k.running ?? true,
    startedAt: new Date(now - 3600_000).toISOString(),
    restartCount: k.restartCount ?? 0,
    exitCode: k.exitCode ?? 0,
    oomKilled: k.oomKilled ?? false,
    ...(k.health ? { health: k.health } : {}),
    imageId: fakeId(image),
    image,
    createdAt: new Date(now - (k.imageChangedMinutesAgo ?? 3 * 24 * 60) * 60_000).toISOString(),
    ...(k.previousHealthyImage
      ? {
          previousHealthyImage: {
            id: fakeId(k.previousHealthyImage.name),
            name: k.previousHealthyImage.name,
            verifiedAt: new Date(now - 2 * DAY_MS).toISOString(),
            present: k.previousHealthyImage.present,
          },
        }
      : {}),
    ...(k.memoryLimitMb ? { memoryLimitBytes: Math.round(k.memoryLimitMb * 1024 * 1024) } : {}),
    labels: k.labels ?? {},
    capabilities: k.capabilities ?? ['restart', 'recreate', 'update-limits', 'exec'],
  };
  const logs = sanitiseLogLines(c.logs, DEFAULT_LOG_LIMITS);
  return {
    target: c.target,
    alertType: c.alert.type,
    severity: c.alert.severity,
    observed,
    logs,
    logSource: logs.length > 0 ? 'alert' : 'none',
    errorSignature: errorSignature(logs),
    notes: [],
  };
}

export interface CaseResult {
  id: string;
  /** The diagnosis: who answered and what. */
  answeredBy: Diagnosis['source'];
  diagnosed: string;
  confidence: number;
  /** The plan's first step: what Medic does, or asks a person to let it do. */
  action: string;
  /** The policy's verdict on it: auto (alone), approval, escalate, none, record. */
  decision: string;
  acceptable: boolean;
  /** Harmful and done without a person. */
  harmful: boolean;
  /** The source itself gave no valid answer (a fallback decided). */
  refused: boolean;
  latencyMs: number;
  trail: string[];
  /** The model's raw answer, for the model sources. */
  raw?: string;
}

export interface SourceScore {
  source: Source;
  cases: number;
  accuracy: number;
  /** Accuracy over the cases the source answered itself. */
  answeredAccuracy: number;
  harmRate: number;
  harmful: number;
  refusals: number;
  actedAlone: number;
  p50Ms: number;
  p95Ms: number;
  /** expected (the case's first acceptable action) -> chosen action -> count. */
  confusion: Record<string, Record<string, number>>;
  results: CaseResult[];
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

/**
 * Remembers each case's answer: the chain asks the same model the same prompt (temperature 0) as the ollama
 * run did, so it reuses that answer and is charged the time it took.
 */
export interface RememberingProvider extends ModelProvider {
  /** The case being diagnosed now (the answers are kept by case). */
  current: string;
  tookMs(caseId: string): number;
  /** The model's raw text for the case (what the parser was given), if it answered. */
  rawOf(caseId: string): string | undefined;
}
function remembering(provider: ModelProvider): RememberingProvider {
  const seen = new Map<string, { answer: Promise<string>; ms: number; raw?: string }>();
  const self: RememberingProvider = {
    name: provider.name,
    current: '',
    ask(prompt) {
      const id = self.current;
      const known = seen.get(id);
      if (known) return known.answer;
      const started = performance.now();
      const entry: { answer: Promise<string>; ms: number; raw?: string } = {
        answer: provider.ask(prompt),
        ms: 0,
      };
      const done = () => {
        entry.ms = performance.now() - started;
      };
      entry.answer.then((raw) => {
        entry.raw = raw;
        done();
      }, done);
      seen.set(id, entry);
      return entry.answer;
    },
    tookMs: (caseId) => seen.get(caseId)?.ms ?? 0,
    rawOf: (caseId) => seen.get(caseId)?.raw,
  };
  return self;
}

interface Setup {
  settings: DiagnosisSettings;
  policy: ApprovalPolicy;
  remedies: RemedySettings;
  ollama?: RememberingProvider;
  gemini: boolean;
}

/** Scores one source over the cases. */
export async function scoreSource(source: Source, cases: EvalCase[], setup: Setup): Promise<SourceScore> {
  const dir = mkdtempSync(path.join(tmpdir(), 'medic-eval-'));
  const now = Date.now();
  const results: CaseResult[] = [];
  try {
    // The runbook holds what each case's history says, under the signature its logs give.
    const runbook = new RunbookStore(path.join(dir, 'runbook.json'));
    for (const c of cases) {
      if (!c.runbook) continue;
      const evidence = evidenceOf(c, now);
      let n = 0;
      for (const outcome of c.runbook.outcomes) {
        n++;
        await runbook.recordOutcome({
          incidentId: `${c.id}-history-${n}`,
          workflowId: `${c.id}-history-${n}`,
          target: c.target,
          alertType: c.alert.type,
          errorSignature: evidence.errorSignature,
          action: c.runbook.action as Diagnosis['action'],
          rootCause: `learned for ${c.id}`,
          outcome,
          at: new Date(now - (c.runbook.outcomes.length - n + 1) * DAY_MS).toISOString(),
        });
      }
    }
    const base: DiagnosisSettings = {
      promptLogChars: setup.settings.promptLogChars,
      runbookTrust: setup.settings.runbookTrust,
    };
    const providers: ModelProvider[] = [];
    let settings = base;
    if ((source === 'ollama' || source === 'chain') && setup.ollama && setup.settings.ollama) {
      providers.push(setup.ollama);
      settings = { ...settings, ollama: setup.settings.ollama };
    }
    if ((source === 'gemini' || source === 'chain') && setup.gemini && setup.settings.gemini) {
      settings = { ...settings, gemini: setup.settings.gemini };
    }
    const pipeline = createDiagnosisPipeline({
      ...(source === 'runbook' || source === 'chain' ? { runbook } : {}),
      settings,
      // Gemini is built from its settings (GEMINI_API_KEY); Ollama's answers are shared with the chain.
      ...(providers.length > 0 && !settings.gemini ? { providers } : {}),
    });
    for (const c of cases) {
      const evidence = evidenceOf(c, now);
      if (setup.ollama) setup.ollama.current = c.id;
      const started = performance.now();
      const diagnosis = await pipeline.decide(
        { target: c.target, alertType: c.alert.type, severity: c.alert.severity, logs: c.logs },
        evidence,
      );
      let latencyMs = performance.now() - started;
      // A reused answer took its time in the ollama run: the chain is charged for it.
      if (source === 'chain' && setup.ollama) {
        const asked = diagnosis.trail.find((t) => t.provider === 'ollama' && t.outcome !== 'skipped');
        if (asked) latencyMs += setup.ollama.tookMs(c.id);
      }
      const refused = diagnosis.source === 'fallback' || (source !== 'chain' && diagnosis.source !== source);
      // A source alone that gave no answer leaves the incident to a person.
      const decided: Diagnosis = refused
        ? {
            ...diagnosis,
            source: 'fallback',
            action: 'ESCALATE',
            confidence: 0,
            rootCause: `${source} gave no valid answer`,
            justification: `${source} gave no valid answer`,
          }
        : diagnosis;
      const { action: chosen, decision } = act(c, decided, evidence, setup, now);
      results.push({
        id: c.id,
        answeredBy: decided.source,
        diagnosed: decided.action,
        confidence: decided.confidence,
        action: chosen,
        decision,
        acceptable: c.acceptable.includes(chosen),
        harmful: decision === 'auto' && c.harmful.includes(chosen),
        refused,
        latencyMs: Math.round(latencyMs),
        trail: diagnosis.trail.map((t) => `${t.provider}: ${t.outcome} (${t.detail})`),
        ...(setup.ollama &&
        (source === 'ollama' || source === 'chain') &&
        setup.ollama.rawOf(c.id) !== undefined
          ? { raw: setup.ollama.rawOf(c.id) }
          : {}),
      });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const confusion: SourceScore['confusion'] = {};
  for (const r of results) {
    const expected = cases.find((c) => c.id === r.id)?.acceptable[0] ?? '?';
    confusion[expected] ??= {};
    const row = confusion[expected];
    row[r.action] = (row[r.action] ?? 0) + 1;
  }
  const n = results.length;
  const harmful = results.filter((r) => r.harmful).length;
  const answered = results.filter((r) => !r.refused);
  return {
    source,
    cases: n,
    accuracy: results.filter((r) => r.acceptable).length / n,
    answeredAccuracy: answered.length > 0 ? answered.filter((r) => r.acceptable).length / answered.length : 0,
    harmRate: harmful / n,
    harmful,
    refusals: results.filter((r) => r.refused).length,
    actedAlone: results.filter((r) => r.decision === 'auto').length,
    p50Ms: percentile(
      results.map((r) => r.latencyMs),
      50,
    ),
    p95Ms: percentile(
      results.map((r) => r.latencyMs),
      95,
    ),
    confusion,
    results,
  };
}

/** What Medic does with the diagnosis: the plan's first step, and whether the policy lets it act alone. */
function act(
  c: EvalCase,
  diagnosis: Diagnosis,
  evidence: Evidence,
  setup: Setup,
  now: number,
): { action: string; decision: string } {
  const observed = evidence.observed;
  const catalogue = catalogueFor(
    c.target,
    remedyContext(observed, { memoryMax: setup.remedies.memoryMax }),
    setup.remedies.memoryRaiseFactor,
  );
  const changedAgoMs = imageChangedAgoMs(observed, now);
  const plan = planFor({
    alertType: c.alert.type,
    diagnosis,
    catalogue,
    deploy: {
      ...(changedAgoMs !== undefined ? { changedAgoMs } : {}),
      windowMs: setup.remedies.deployWindowMs,
    },
  });
  const step = plan.steps[0];
  if (!step) return { action: 'ESCALATE', decision: 'escalate' };
  const policy = decideRemediation(
    diagnosis,
    c.alert.severity as Severity,
    setup.policy,
    {},
    {
      name: step.name,
      risk: step.risk,
      ...(step.needsPerson ? { needsPerson: step.needsPerson } : {}),
    },
  );
  return { action: step.name, decision: policy.kind };
}

const pct = (x: number) => `${(x * 100).toFixed(0)}%`;

function printScore(s: SourceScore, out: (line: string) => void): void {
  out('');
  out(
    `${s.source}: accuracy ${pct(s.accuracy)} (${Math.round(s.accuracy * s.cases)}/${s.cases}; ${pct(s.answeredAccuracy)} of its own answers), harm ${pct(s.harmRate)} (${s.harmful}), refusals ${s.refusals}, acted alone ${s.actedAlone}, p50 ${s.p50Ms} ms, p95 ${s.p95Ms} ms`,
  );
  const columns = [...new Set(Object.values(s.confusion).flatMap((row) => Object.keys(row)))].sort();
  const width = Math.max(10, ...columns.map((c) => c.length)) + 1;
  out(`  ${'expected \\ chosen'.padEnd(20)}${columns.map((c) => c.padStart(width)).join('')}`);
  for (const [expected, row] of Object.entries(s.confusion).sort()) {
    out(`  ${expected.padEnd(20)}${columns.map((c) => String(row[c] ?? '.').padStart(width)).join('')}`);
  }
  const wrong = s.results.filter((r) => !r.acceptable || r.harmful);
  for (const r of wrong)
    out(
      `  ${r.harmful ? 'HARM' : 'miss'} ${r.id}: ${r.action} (${r.decision}; ${r.answeredBy} said ${r.diagnosed} at ${r.confidence})`,
    );
}

export function summaryTable(scores: SourceScore[]): string {
  const lines = [
    '| source | cases | accuracy | of its own answers | harmful (done alone) | refusals | acted alone | p50 | p95 |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const s of scores) {
    lines.push(
      `| ${s.source} | ${s.cases} | ${pct(s.accuracy)} | ${pct(s.answeredAccuracy)} | ${s.harmful} (${pct(s.harmRate)}) | ${s.refusals} | ${s.actedAlone} | ${fmtMs(s.p50Ms)} | ${fmtMs(s.p95Ms)} |`,
    );
  }
  return lines.join('\n');
}
const fmtMs = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${ms} ms`);

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      cases: { type: 'string' },
      source: { type: 'string', multiple: true },
      json: { type: 'boolean', default: false },
    },
    allowPositionals: false,
  });
  const wanted = (values.source ?? []).flatMap((s) => s.split(',')).filter(Boolean);
  for (const s of wanted) {
    if (!(SOURCES as readonly string[]).includes(s))
      throw new Error(`unknown source "${s}" (expected ${SOURCES.join(', ')})`);
  }
  const casesFile = path.resolve(values.cases ?? DEFAULT_CASES);
  const cases = loadCases(casesFile);
  const log = (line: string) => console.log(line);
  // The stack's settings: MEDIC_PROVIDERS (Gemini and Ollama by default), the timeouts, the policy.
  const config = loadConfig(process.env);
  const settings = config.diagnosis;
  const gemini = Boolean(settings.gemini?.apiKey);
  let sources: Source[] = wanted.length > 0 ? (wanted as Source[]) : ['rules', 'runbook', 'ollama', 'chain'];

  // The real model: OLLAMA_HOST when it answers with the model, else the one `npm run setup:ollama` built.
  let ollama: Setup['ollama'];
  let stopOllama: (() => Promise<void>) | undefined;
  const needsOllama = sources.includes('ollama') || sources.includes('chain');
  if (needsOllama && settings.ollama) {
    const model = process.env.MEDIC_OLLAMA_MODEL ?? 'medic-small';
    let host = process.env.OLLAMA_HOST;
    if (host && !/^https?:\/\//.test(host)) host = `http://${host}`;
    if (host && (await ollamaHasModel(host, model))) {
      log(`ollama: ${model} at ${host}`);
    } else if (ollamaPresent()) {
      const server = await startOllama({ log: (l) => log(`ollama: ${l}`) });
      host = server.url;
      stopOllama = server.stop;
    } else {
      host = undefined;
      log(
        'ollama: no server with the model and none built (npm run setup:ollama): the ollama source is skipped',
      );
    }
    if (host) {
      settings.ollama = { ...settings.ollama, host, model };
      ollama = remembering(createOllamaProvider(settings.ollama));
      log(`ollama: model ${model}, timeout ${settings.ollama.timeoutMs} ms (MEDIC_PROVIDER_TIMEOUT)`);
    }
  }
  if (!ollama) sources = sources.filter((s) => s !== 'ollama');
  if (sources.includes('gemini') && !gemini) {
    log('gemini: no GEMINI_API_KEY: the gemini source is skipped');
    sources = sources.filter((s) => s !== 'gemini');
  }
  const remedies = config.incident.remedies;
  if (!remedies) throw new Error('the configuration has no remedy settings');
  log(`${cases.length} cases from ${path.relative(process.cwd(), casesFile) || casesFile}`);
  const setup: Setup = {
    settings,
    policy: config.incident.policy,
    remedies,
    ...(ollama ? { ollama } : {}),
    gemini,
  };
  const scores: SourceScore[] = [];
  try {
    for (const source of sources) {
      const started = Date.now();
      log(`scoring ${source} ...`);
      const score = await scoreSource(source, cases, setup);
      scores.push(score);
      printScore(score, log);
      log(`  (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    }
  } finally {
    await stopOllama?.();
  }
  log('');
  log(summaryTable(scores));
  if (values.json) {
    mkdirSync(path.dirname(RESULTS), { recursive: true });
    const previous = existsSync(RESULTS) ? RESULTS : undefined;
    writeFileSync(
      RESULTS,
      `${JSON.stringify(
        {
          at: new Date().toISOString(),
          cases: path.relative(PROJECT_ROOT, casesFile),
          model: settings.ollama && ollama ? settings.ollama.model : undefined,
          scores,
        },
        null,
        2,
      )}\n`,
    );
    log(`${previous ? 'replaced' : 'wrote'} ${path.relative(process.cwd(), RESULTS)}`);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  main().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
