// Diagnosis latency by source: the whole diagnose() call (evidence included) and the step that
// answered, over a real process runtime, with Gemini and Ollama as local wire-format servers
// (so the numbers are Medic's own overhead, not a model's thinking time), and beside them the real
// small model (medic-small, `npm run setup:ollama`) when it is built: a model's own time, on this CPU.
//   npx tsx bench/diagnosis-latency.ts [runs] [real-model runs, default 5]
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ollamaPresent, startOllama } from '../scripts/ollama.js';
import { ProcessSupervisor } from '../src/activities/containers.js';
import { createDiagnosisPipeline } from '../src/activities/diagnose/graph.js';
import { type DiagnosisSettings, RULES_ONLY } from '../src/activities/diagnose/settings.js';
import { RunbookStore } from '../src/activities/runbook.js';
import { startFakeGemini } from '../test/support/fake-gemini.js';
import { startFakeOllama } from '../test/support/fake-ollama.js';

const RUNS = Number(process.argv[2] ?? 50);
const REAL_RUNS = Number(process.argv[3] ?? 5);
const TARGET = 'bench-svc';
const LOGS = ['{"level":"error","msg":"memory usage above threshold","rssMb":412}'];
const ANSWER = { rootCause: 'a leak', action: 'RESTART', confidence: 0.8, justification: 'rss grows' };

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

async function main() {
  const supervisor = new ProcessSupervisor({ key: 'medic.managed', value: 'true' });
  supervisor.start({
    name: TARGET,
    command: process.execPath,
    args: ['-e', 'setInterval(() => {}, 1000)'],
    labels: { 'medic.managed': 'true' },
  });
  const [gemini, ollama] = await Promise.all([startFakeGemini(), startFakeOllama()]);
  gemini.answer(ANSWER);
  ollama.answer(ANSWER);
  const dir = mkdtempSync(path.join(tmpdir(), 'medic-bench-'));
  const base: DiagnosisSettings = { promptLogChars: 2000, runbookTrust: RULES_ONLY.runbookTrust };
  const geminiSettings = { apiKey: 'bench', model: 'bench', baseUrl: gemini.url, timeoutMs: 5000 };
  const ollamaSettings = { host: ollama.url, model: 'bench', timeoutMs: 5000 };

  // Resolved as often as the shipped trust rule asks, so the runbook answers alone.
  const learned = new RunbookStore(path.join(dir, 'learned.json'));
  for (let i = 1; i <= base.runbookTrust.minUses; i++) {
    await learned.recordOutcome({
      incidentId: `bench-${i}`,
      workflowId: 'w',
      target: TARGET,
      alertType: 'memory-leak',
      errorSignature: 'memory usage above threshold',
      action: 'RESTART',
      rootCause: 'a leak',
      outcome: 'resolved',
      at: new Date().toISOString(),
    });
  }
  const empty = () => new RunbookStore(path.join(dir, `empty-${Math.random()}.json`));

  const real = ollamaPresent() ? await startOllama({ ensure: false }) : undefined;
  const cases: Array<{
    source: string;
    runbook: RunbookStore;
    settings: DiagnosisSettings;
    /** The real model: fewer runs, and an invalid answer (the rules then) is counted, not an error. */
    real?: boolean;
  }> = [
    {
      source: 'runbook',
      runbook: learned,
      settings: { ...base, gemini: geminiSettings, ollama: ollamaSettings },
    },
    {
      source: 'gemini',
      runbook: empty(),
      settings: { ...base, gemini: geminiSettings, ollama: ollamaSettings },
    },
    { source: 'ollama', runbook: empty(), settings: { ...base, ollama: ollamaSettings } },
    { source: 'rules', runbook: empty(), settings: base },
    ...(real
      ? [
          {
            source: 'ollama',
            runbook: empty(),
            settings: { ...base, ollama: { host: real.url, model: real.model, timeoutMs: 120_000 } },
            real: true,
          },
        ]
      : []),
  ];
  if (!real)
    console.log('(the real model is not built: npm run setup:ollama adds medic-small to this table)');
  console.log(`diagnosis latency over ${RUNS} runs each (ms): whole diagnose() | answering step`);
  console.log('source    p50     p95     max    | step p50  step p95');
  for (const c of cases) {
    const pipeline = createDiagnosisPipeline({
      runtime: supervisor,
      runbook: c.runbook,
      settings: c.settings,
    });
    const whole: number[] = [];
    const steps: number[] = [];
    let invalid = 0;
    const warmUp = c.real ? 1 : 3;
    for (let i = 0; i < (c.real ? REAL_RUNS : RUNS) + warmUp; i++) {
      const started = performance.now();
      const d = await pipeline.diagnose({
        target: TARGET,
        alertType: 'memory-leak',
        severity: 'medium',
        logs: LOGS,
      });
      const asked = d.trail.find((t) => t.provider === c.source);
      if (!c.real && d.source !== c.source) throw new Error(`expected source ${c.source}, got ${d.source}`);
      if (i < warmUp) continue; // warm-up (the real model: its load)
      if (d.source !== c.source) invalid++;
      whole.push(performance.now() - started);
      steps.push((c.real ? asked?.latencyMs : d.trail.at(-1)?.latencyMs) ?? Number.NaN);
    }
    whole.sort((a, b) => a - b);
    steps.sort((a, b) => a - b);
    const f = (n: number) => n.toFixed(1).padStart(6);
    const name = c.real ? 'medic-small' : c.source;
    const note = c.real ? `   (${REAL_RUNS} runs; ${invalid} answers refused, the rules then)` : '';
    console.log(
      `${name.padEnd(8)} ${f(percentile(whole, 50))}  ${f(percentile(whole, 95))}  ${f(whole.at(-1) ?? 0)}   | ${f(percentile(steps, 50))}    ${f(percentile(steps, 95))}${note}`,
    );
  }
  await Promise.all([gemini.close(), ollama.close(), supervisor.stopAll(), real?.stop()]);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
