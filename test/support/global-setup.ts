// Starts the real parts once per test run: a Temporal dev server (or, with MEDIC_TEST_TEMPORAL=cluster,
// the production-shaped server on PostgreSQL), the time-skipping test server, a bundle of the workflows,
// and (where one is reachable or startable) a container engine with the demo image. Test files get their
// addresses through vitest's provide/inject.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode } from '@temporalio/worker';
import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { ensureDemoImage } from '../../scripts/demo-image.js';
import { type Engine, findEngine } from '../../scripts/engine.js';
import { TOOLS_DIR } from '../../scripts/paths.js';
import { startTemporalCluster } from '../../scripts/temporal-cluster.js';
import { VERSION_CHECK_OFF } from '../../scripts/temporal-server.js';
import { ensureTool, TEMPORAL_CLI, TEMPORAL_TEST_SERVER } from '../../scripts/tools.js';
import { WORKFLOWS_PATH } from '../../src/worker.js';
import { MEDIC_SEARCH_ATTRIBUTES } from '../../src/workflows/search-attributes.js';
import { portForAnotherProcess } from './ports.js';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    /** The server's Prometheus metrics (the version-check test reads them). */
    temporalMetricsUrl: string;
    /** 'cluster' when the run's Temporal is the server on PostgreSQL (MEDIC_TEST_TEMPORAL=cluster). */
    temporalKind: 'dev' | 'cluster';
    timeSkippingAddress: string;
    workflowBundlePath: string;
    dockerHost: string | null;
    demoImage: string | null;
    engineProblem: string | null;
  }
}

const log = (line: string) => console.log(`[test setup] ${line}`);

export default async function setup(project: TestProject) {
  const started = Date.now();
  const [cliPath, testServerPath] = await Promise.all([
    ensureTool(TEMPORAL_CLI, log),
    ensureTool(TEMPORAL_TEST_SERVER, log),
  ]);
  const local = await startTemporal(cliPath);
  const timeSkipping = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: testServerPath } },
  });

  const bundleDir = path.join(TOOLS_DIR, 'test');
  mkdirSync(bundleDir, { recursive: true });
  const bundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quietLogger });
  const workflowBundlePath = path.join(bundleDir, 'workflow-bundle.js');
  writeFileSync(workflowBundlePath, bundle.code);

  let engine: Engine | undefined;
  let demoImage: string | null = null;
  let engineProblem: string | null = null;
  try {
    engine = await findEngine({ startPodman: true, log });
    if (engine) demoImage = await ensureDemoImage(engine.docker, log);
    else
      engineProblem = 'no container engine is reachable (no DOCKER_HOST, no Docker socket, no podman binary)';
  } catch (err) {
    engineProblem = `container engine unusable: ${(err as Error).message}`;
  }

  project.provide('temporalAddress', local.address);
  project.provide('temporalMetricsUrl', local.metricsUrl);
  project.provide('temporalKind', local.kind);
  project.provide('timeSkippingAddress', timeSkipping.address);
  project.provide('workflowBundlePath', workflowBundlePath);
  project.provide('dockerHost', engine?.dockerHost ?? null);
  project.provide('demoImage', demoImage);
  project.provide('engineProblem', engineProblem);
  log(
    `ready in ${((Date.now() - started) / 1000).toFixed(1)} s: Temporal ${local.kind === 'cluster' ? 'cluster (PostgreSQL)' : 'dev server'} ${local.address}, time-skipping ${timeSkipping.address}, engine ${engine?.product ?? 'none'}`,
  );

  return async () => {
    await Promise.allSettled([local.teardown(), timeSkipping.teardown(), engine?.stop()]);
  };
}

/** The run's Temporal: the dev server, or with MEDIC_TEST_TEMPORAL=cluster the server on PostgreSQL. */
async function startTemporal(
  cliPath: string,
): Promise<{ kind: 'dev' | 'cluster'; address: string; metricsUrl: string; teardown(): Promise<void> }> {
  const wanted = process.env.MEDIC_TEST_TEMPORAL ?? 'dev';
  if (wanted === 'cluster') {
    const cluster = await startTemporalCluster({ log });
    return {
      kind: 'cluster',
      address: cluster.address,
      metricsUrl: cluster.metricsUrl,
      teardown: cluster.stop,
    };
  }
  if (wanted !== 'dev')
    throw new Error(`MEDIC_TEST_TEMPORAL=${wanted}: expected dev (the default) or cluster`);
  const metricsPort = await portForAnotherProcess();
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: cliPath },
      searchAttributes: MEDIC_SEARCH_ATTRIBUTES,
      extraArgs: ['--log-level', 'error', '--metrics-port', String(metricsPort), ...VERSION_CHECK_OFF],
    },
  });
  return {
    kind: 'dev',
    address: env.address,
    metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
    teardown: () => env.teardown(),
  };
}

const quietLogger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (message: string) => console.warn(message),
  error: (message: string) => console.error(message),
};
