// Nothing leaves the machine: every Temporal server the project starts has Temporal's version check
// off. With it on, the server calls Temporal's version-check service at start and its own metrics say
// so (`version_check_failed 1` here, where the internet is unreachable). Checked on the test run's
// server (test/support/global-setup.ts) and on one started the way `npm start` and the benchmarks do.
import { afterAll, describe, expect, inject, it } from 'vitest';
import { type DevServer, startTemporalDevServer } from '../../scripts/temporal-server.js';
import { ensureTool, TEMPORAL_CLI } from '../../scripts/tools.js';
import { portForAnotherProcess, waitFor } from '../support/ports.js';

/** The metrics once the frontend has served a request, so start-up (and any version check) is behind it. */
async function metricsAfterStartup(url: string): Promise<string> {
  return waitFor(
    `the metrics at ${url} to show the frontend serving`,
    async () => {
      const text = await (await fetch(url)).text();
      return /^service_requests\{.*service_name="frontend"/m.test(text) ? text : undefined;
    },
    { timeoutMs: 30_000 },
  );
}

const versionCheckSeries = (metrics: string) =>
  metrics.split('\n').filter((line) => /^version_check_/.test(line));

let server: DevServer | undefined;
afterAll(async () => {
  await server?.stop();
});

describe('Temporal version check', () => {
  it(`is off in the test run’s ${inject('temporalKind') === 'cluster' ? 'Temporal cluster (PostgreSQL)' : 'dev server'}`, async () => {
    const metrics = await metricsAfterStartup(inject('temporalMetricsUrl'));
    expect(versionCheckSeries(metrics)).toEqual([]);
  });

  it('is off in a dev server started as npm start and the benchmarks start one', async () => {
    server = await startTemporalDevServer({
      cliPath: await ensureTool(TEMPORAL_CLI, () => undefined),
      port: await portForAnotherProcess(),
      metricsPort: await portForAnotherProcess(),
    });
    const metrics = await metricsAfterStartup(server.metricsUrl!);
    expect(versionCheckSeries(metrics)).toEqual([]);
  });
});
