// The diagnosis pipeline as a LangGraph StateGraph, run inside the diagnose activity:
//   collectEvidence -> runbook -(trusted fix)-> finish
//                       -> model evidence -> gemini -> ollama -> rules -> finish
// With hosts, a host worker gathers the evidence (gatherEvidence in evidence.ts) and the central worker
// runs the same graph from it (`decide`): the evidence steps then only build the prompt.
// Each provider's answer is validated where it is produced: an invalid answer is a step in the
// trail and the next provider is asked. Nothing a provider says can change the target.
import { Annotation, END, START, StateGraph } from '@langchain/langgraph';
import { remedyContext } from '../../domain/plan.js';
import { catalogueFor } from '../../domain/remedies.js';
import type {
  Diagnosis,
  DiagnosisSource,
  DiagnosisTrailStep,
  TargetObservation,
} from '../../domain/types.js';
import type { ContainerInfo, ContainerRuntime } from '../containers.js';
import { judgeFix, RunbookFormatError, type RunbookStore } from '../runbook.js';
import {
  DEFAULT_EVIDENCE_TIMEOUT_MS,
  type DiagnoseInput,
  type Evidence,
  gatherCoreEvidence,
  gatherModelEvidence,
} from './evidence.js';
import { createGeminiProvider } from './gemini.js';
import { createOllamaProvider } from './ollama.js';
import { buildPrompt, type Prompt } from './prompt.js';
import { describeProviderError, type ModelProvider } from './provider.js';
import { diagnoseByRules } from './rules.js';
import type { DiagnosisSettings } from './settings.js';
import { type ValidAnswer, validateAnswer } from './validate.js';

/** A runbook fix never claims certainty: the world may have changed since it last worked. */
const RUNBOOK_MAX_CONFIDENCE = 0.95;

interface Answer extends ValidAnswer {
  source: DiagnosisSource;
}

const PipelineState = Annotation.Root({
  input: Annotation<DiagnoseInput>(),
  evidence: Annotation<Evidence>(),
  info: Annotation<ContainerInfo | undefined>(),
  prompt: Annotation<Prompt | undefined>(),
  /** The evidence came complete from a host worker: nothing to gather here. */
  gathered: Annotation<boolean>(),
  answer: Annotation<Answer | undefined>(),
  trail: Annotation<DiagnosisTrailStep[]>({ reducer: (a, b) => a.concat(b), default: () => [] }),
});
type State = typeof PipelineState.State;
type Update = typeof PipelineState.Update;

export interface DiagnosisPipelineDeps {
  /** Only where the evidence is gathered here too (`diagnose`); `decide` never touches an engine. */
  runtime?: ContainerRuntime;
  runbook?: RunbookStore;
  settings: DiagnosisSettings;
  /** Replaces the providers built from the settings (benchmarks). */
  providers?: ModelProvider[];
}

export interface DiagnosisPipeline {
  /** Gathers the evidence through the runtime, then decides. */
  diagnose(input: DiagnoseInput): Promise<Diagnosis>;
  /** Decides on evidence a host worker gathered (gatherEvidence). */
  decide(input: DiagnoseInput, evidence: Evidence): Promise<Diagnosis>;
}

const elapsed = (started: number) => Math.round(performance.now() - started);
const step = (
  provider: string,
  outcome: DiagnosisTrailStep['outcome'],
  detail: string,
  latencyMs: number,
): DiagnosisTrailStep => ({ provider, outcome, detail, latencyMs });

export function createDiagnosisPipeline(deps: DiagnosisPipelineDeps): DiagnosisPipeline {
  const { runtime, settings } = deps;
  const evidenceTimeoutMs = settings.evidenceTimeoutMs ?? DEFAULT_EVIDENCE_TIMEOUT_MS;
  const providers = new Map<'gemini' | 'ollama', ModelProvider>();
  for (const p of deps.providers ?? []) providers.set(p.name, p);
  if (!deps.providers) {
    if (settings.gemini) providers.set('gemini', createGeminiProvider(settings.gemini));
    if (settings.ollama) providers.set('ollama', createOllamaProvider(settings.ollama));
  }

  const engine = () => {
    if (!runtime)
      throw new Error('this diagnosis pipeline has no container runtime: decide on gathered evidence');
    return runtime;
  };

  const evidenceNode = async (state: State): Promise<Update> => {
    if (state.gathered) return {};
    const { evidence, info } = await gatherCoreEvidence(
      state.input,
      engine(),
      evidenceTimeoutMs,
      settings.logLimits,
    );
    return { evidence, info };
  };

  const runbookNode = async (state: State): Promise<Update> => {
    const started = performance.now();
    const { evidence } = state;
    if (!deps.runbook) return { trail: [step('runbook', 'skipped', 'no runbook configured', 0)] };
    try {
      const fix = await deps.runbook.find(evidence.target, evidence.alertType, evidence.errorSignature);
      if (!fix) {
        return {
          trail: [
            step('runbook', 'skipped', `no fix for signature "${evidence.errorSignature}"`, elapsed(started)),
          ],
        };
      }
      const known = judgeFix(fix, settings.runbookTrust);
      const withFix = { evidence: { ...evidence, knownFix: known } };
      if (!known.trusted) {
        return {
          ...withFix,
          trail: [
            step('runbook', 'skipped', `${known.fixId} not trusted: ${known.standing}`, elapsed(started)),
          ],
        };
      }
      const uses = known.stats.resolved + known.stats.failed + known.stats.rejected + known.stats.didNotStick;
      const rate = uses > 0 ? known.stats.resolved / uses : 1;
      const checked = validateAnswer(
        {
          rootCause: fix.rootCause || `as in ${fix.learnedFrom ?? fix.id}`,
          action: fix.action,
          confidence: Math.min(RUNBOOK_MAX_CONFIDENCE, Math.round(rate * 100) / 100),
          justification: `runbook ${fix.id}: ${known.standing}`,
        },
        evidence.target,
      );
      if (!checked.ok) {
        return {
          ...withFix,
          trail: [step('runbook', 'invalid', `${fix.id}: ${checked.reason}`, elapsed(started))],
        };
      }
      return {
        ...withFix,
        answer: { ...checked.answer, source: 'runbook' },
        trail: [step('runbook', 'answered', `${fix.id}: ${known.standing}`, elapsed(started))],
      };
    } catch (err) {
      // A malformed runbook is reported, never repaired here; the other providers still answer.
      const reason =
        err instanceof RunbookFormatError ? err.message : `could not read: ${(err as Error).message}`;
      return { trail: [step('runbook', 'failed', reason, elapsed(started))] };
    }
  };

  const modelEvidenceNode = async (state: State): Promise<Update> => {
    const more = state.gathered
      ? {}
      : await gatherModelEvidence(state.evidence, state.info, engine(), evidenceTimeoutMs);
    const evidence = { ...state.evidence, ...more };
    // The prompt is built once, and only when a model will actually be asked.
    const askable = [...providers.values()].some((p) => !p.unavailable);
    return {
      evidence,
      prompt: askable ? buildPrompt(evidence, { logChars: settings.promptLogChars }) : undefined,
    };
  };

  const modelNode =
    (name: 'gemini' | 'ollama') =>
    async (state: State): Promise<Update> => {
      const provider = providers.get(name);
      if (!provider) return { trail: [step(name, 'skipped', 'not in MEDIC_PROVIDERS', 0)] };
      if (provider.unavailable || !state.prompt) {
        return { trail: [step(name, 'skipped', provider.unavailable ?? 'no prompt', 0)] };
      }
      const started = performance.now();
      const timeoutMs = name === 'gemini' ? settings.gemini?.timeoutMs : settings.ollama?.timeoutMs;
      let raw: string;
      try {
        raw = await provider.ask(state.prompt);
      } catch (err) {
        const ms = elapsed(started);
        return {
          trail: [step(name, 'failed', `${describeProviderError(err, timeoutMs ?? 0)} after ${ms} ms`, ms)],
        };
      }
      const checked = validateAnswer(raw, state.evidence.target);
      const ms = elapsed(started);
      if (!checked.ok) return { trail: [step(name, 'invalid', `answer refused: ${checked.reason}`, ms)] };
      const lacking = notInCatalogue(checked.answer.action, state.evidence.observed);
      if (lacking) return { trail: [step(name, 'invalid', `answer refused: ${lacking}`, ms)] };
      return {
        answer: { ...checked.answer, source: name },
        trail: [
          step(name, 'answered', `${checked.answer.action} at confidence ${checked.answer.confidence}`, ms),
        ],
      };
    };

  const rulesNode = async (state: State): Promise<Update> => {
    const started = performance.now();
    const { evidence } = state;
    const verdict = diagnoseByRules({
      alertType: evidence.alertType,
      logs: evidence.logs,
      observed: evidence.observed,
    });
    const checked = validateAnswer(
      {
        rootCause: verdict.rootCause,
        action: verdict.action,
        confidence: verdict.confidence,
        justification: verdict.justification,
      },
      evidence.target,
    );
    if (!checked.ok) {
      return { trail: [step('rules', 'invalid', `${verdict.rule}: ${checked.reason}`, elapsed(started))] };
    }
    return {
      answer: { ...checked.answer, source: 'rules' },
      trail: [step('rules', 'answered', `matched ${verdict.rule}`, elapsed(started))],
    };
  };

  const answeredOr = (next: string) => (state: State) => (state.answer ? 'finish' : next);

  const graph = new StateGraph(PipelineState)
    .addNode('collectEvidence', evidenceNode)
    .addNode('runbook', runbookNode)
    .addNode('modelEvidence', modelEvidenceNode)
    .addNode('gemini', modelNode('gemini'))
    .addNode('ollama', modelNode('ollama'))
    .addNode('rules', rulesNode)
    .addNode('finish', () => ({}))
    .addEdge(START, 'collectEvidence')
    .addEdge('collectEvidence', 'runbook')
    .addConditionalEdges('runbook', answeredOr('modelEvidence'), ['finish', 'modelEvidence'])
    .addEdge('modelEvidence', 'gemini')
    .addConditionalEdges('gemini', answeredOr('ollama'), ['finish', 'ollama'])
    .addConditionalEdges('ollama', answeredOr('rules'), ['finish', 'rules'])
    .addEdge('rules', 'finish')
    .addEdge('finish', END)
    .compile();

  const run = async (input: DiagnoseInput, gathered?: Evidence): Promise<Diagnosis> => {
    const final = (await graph.invoke(
      gathered ? { input, evidence: gathered, gathered: true } : { input },
    )) as State;
    return conclude(input, final);
  };
  return { diagnose: (input) => run(input), decide: (input, evidence) => run(input, evidence) };
}

/**
 * Why a model's action cannot be this target's remedy, if it cannot: a rollback without an earlier healthy
 * image, a memory raise without a limit. Refused here, so the next provider answers: otherwise the plan would
 * drop the step and fall back to a restart carrying the model's confidence (a real model answered ROLLBACK
 * at confidence 1 for containers that never changed image).
 */
function notInCatalogue(action: string, observed: TargetObservation): string | undefined {
  if (action === 'NOOP' || action === 'ESCALATE') return undefined;
  if (!observed.exists || !observed.managed) return undefined;
  const catalogue = catalogueFor(observed.name, remedyContext(observed));
  if (catalogue.has(action as never)) return undefined;
  const have = [...catalogue.keys()].join(', ');
  return `${action} is not a remedy ${observed.name} has (it has ${have})`;
}

/** The diagnosis from the graph's final state: its answer, or a person when nothing valid remained. */
function conclude(input: DiagnoseInput, final: State): Diagnosis {
  const { evidence, trail } = final;
  // Nothing valid remained: a person decides, and is told why.
  const answer: Answer = final.answer ?? {
    source: 'fallback',
    rootCause: 'no provider gave a valid diagnosis',
    action: 'ESCALATE',
    confidence: 0,
    justification: `every provider failed or was refused: ${trail.map((t) => `${t.provider} ${t.outcome}`).join(', ')}`,
  };
  return {
    source: answer.source,
    rootCause: answer.rootCause,
    action: answer.action,
    confidence: answer.confidence,
    justification: answer.justification,
    trail,
    errorSignature: evidence.errorSignature,
    // The target is always the incident's own: it comes from the input, never from an answer.
    observed: { ...evidence.observed, name: input.target },
    ...(evidence.knownFix ? { knownFix: evidence.knownFix } : {}),
    ...(evidence.notes.length > 0 ? { evidenceNotes: evidence.notes } : {}),
    ...(answer.source !== 'rules' ? { rulesProposal: rulesProposal(evidence) } : {}),
  };
}

/** What the plain rules would do: the proposal if another source's NOOP meets an unhealthy target. */
function rulesProposal(evidence: Evidence): NonNullable<Diagnosis['rulesProposal']> {
  const verdict = diagnoseByRules({
    alertType: evidence.alertType,
    logs: evidence.logs,
    observed: evidence.observed,
  });
  return { action: verdict.action, rootCause: verdict.rootCause };
}
