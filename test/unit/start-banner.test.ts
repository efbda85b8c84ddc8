// `npm start`'s banner names every fault the demo app has, with what it leads to: the tour needs no other
// page.
import { describe, expect, it } from 'vitest';
import { FAULT_NAMES } from '../../demo-app/src/faults.js';
import { banner, type Stack } from '../../scripts/local-stack.js';
import { loadConfig } from '../../src/config.js';

function fakeStack(demo: Partial<Stack['demo']>, env: Record<string, string> = {}): Stack {
  const config = loadConfig({ MEDIC_WEBHOOK_SECRET: 'a-secret-of-sixteen+', ...env });
  return {
    config,
    apiUrl: 'http://127.0.0.1:3000',
    demo: {
      name: 'medic-demo',
      url: 'http://127.0.0.1:8080',
      mode: 'container',
      settingsFile: '/s',
      ...demo,
    },
    approverTokens: [],
    alertmanagerTokens: [],
  } as unknown as Stack;
}

describe('the start-up banner', () => {
  it('lists every trigger of the demo app', () => {
    const text = banner(fakeStack({ memoryLimitMb: 384 }));
    for (const fault of FAULT_NAMES) expect(text).toContain(`/trigger/${fault} `);
  });

  it('says the oom fault ends in an OOM kill at the container limit, seen by the watcher', () => {
    const text = banner(fakeStack({ memoryLimitMb: 384 }));
    expect(text).toMatch(/trigger\/oom .*OOM-kills it at its 384 MiB limit/);
    expect(text).toMatch(/trigger\/crash .*engine watcher sees the death/);
  });

  it('says which triggers cannot work without a container engine', () => {
    const text = banner(fakeStack({ mode: 'process' }));
    expect(text).toMatch(/trigger\/oom .*not in this mode/);
    expect(text).toMatch(/trigger\/crash .*needs a container engine and the engine watcher/);
    expect(text).toMatch(/demo:deploy -- bad .*not in this mode/);
  });

  it("says what each remedy does: the app's own reset-pool, a rollback after the bad deploy, a memory raise", () => {
    const text = banner(fakeStack({ memoryLimitMb: 384 }));
    expect(text).toMatch(/trigger\/db-latency .*its own reset-pool.*without a restart/);
    expect(text).toMatch(/npm run demo:deploy -- bad .*ROLLBACK.*naming the image change: approve it/);
    expect(text).toMatch(/trigger\/oom .*RAISE_MEMORY to 576 MiB \(under its 768 MiB cap\): approve it/);
    expect(text).toMatch(/trigger\/oom .*fits under the raised limit now/);
    // The deploy names the container when it is not the default one.
    expect(banner(fakeStack({ name: 'shop-demo', memoryLimitMb: 384 }))).toContain(
      'DEMO_CONTAINER_NAME=shop-demo npm run demo:deploy -- bad',
    );
  });

  it('prints where the worker serves its metrics, or that the exporter is off', () => {
    const url = 'http://127.0.0.1:9464/metrics';
    expect(banner(fakeStack({}), { workerMetricsUrl: url })).toMatch(
      /Worker metrics +http:\/\/127\.0\.0\.1:9464\/metrics/,
    );
    expect(banner(fakeStack({}))).toMatch(/Worker metrics +\(off: MEDIC_WORKER_METRICS_ADDRESS is empty\)/);
  });

  it('says which sources diagnose, and which model each provider asks', () => {
    expect(banner(fakeStack({}, { MEDIC_PROVIDERS: '' }))).toMatch(/Diagnosis +the runbook, then the rules/);
    const both = banner(
      fakeStack({}, { OLLAMA_HOST: 'http://127.0.0.1:11500', MEDIC_OLLAMA_MODEL: 'medic-small' }),
    );
    expect(both).toMatch(
      /Diagnosis +the runbook, then Gemini skipped \(no GEMINI_API_KEY\), then Ollama medic-small at http:\/\/127\.0\.0\.1:11500, then the rules/,
    );
  });
});
