// Medic on a Temporal frontend that requires mutual TLS: a CA made here signs the server's and Medic's
// certificates; the client and a worker connect with TEMPORAL_TLS_* and run an incident; without the
// client certificate (or without TLS) the server refuses. Needs `npm run setup:temporal-cluster`.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ClusterTls,
  clusterToolsPresent,
  startTemporalCluster,
  type TemporalCluster,
} from '../../scripts/temporal-cluster.js';
import { ProcessSupervisor } from '../../src/activities/containers.js';
import { loadConfig } from '../../src/config.js';
import { connectClient, temporalConnectionOptions } from '../../src/temporal/connection.js';
import { statusQuery } from '../../src/workflows/messages.js';
import { alertFor, buildActivities, MANAGED, testSettings } from '../support/medic.js';
import { waitFor } from '../support/ports.js';
import { uniqueTaskQueue, withIncidentWorker } from '../support/temporal.js';

const openssl = (dir: string, ...args: string[]) =>
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });

/** A CA, a server certificate for localhost and 127.0.0.1, and a client certificate, all P-256 and valid one day. */
function makeCertificates(dir: string): ClusterTls {
  const key = (name: string) =>
    openssl(dir, 'ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', name);
  key('ca.key');
  openssl(
    dir,
    'req',
    '-x509',
    '-new',
    '-key',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '1',
    '-subj',
    '/CN=medic-test-ca',
  );
  const leaf = (name: string, extensions: string) => {
    key(`${name}.key`);
    openssl(dir, 'req', '-new', '-key', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
    writeFileSync(path.join(dir, `${name}.ext`), `basicConstraints=CA:FALSE\n${extensions}\n`);
    openssl(
      dir,
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${name}.pem`,
      '-days',
      '1',
      '-extfile',
      `${name}.ext`,
    );
  };
  leaf('server', 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth');
  leaf('medic', 'extendedKeyUsage=clientAuth');
  const at = (file: string) => path.join(dir, file);
  return {
    caFile: at('ca.pem'),
    serverCertFile: at('server.pem'),
    serverKeyFile: at('server.key'),
    clientCertFile: at('medic.pem'),
    clientKeyFile: at('medic.key'),
  };
}

const skipReason = clusterToolsPresent()
  ? undefined
  : 'the Temporal server on PostgreSQL is not built (npm run setup:temporal-cluster)';
if (skipReason) {
  if (process.env.CI) throw new Error(`the TLS test needs the Temporal cluster in CI: ${skipReason}`);
  console.warn(`[tls] skipping the TLS tests: ${skipReason}`);
}

describe.skipIf(Boolean(skipReason))('Temporal with mutual TLS', () => {
  let dir = '';
  let tls: ClusterTls;
  let cluster: TemporalCluster | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'medic-tls-'));
    tls = makeCertificates(dir);
    cluster = await startTemporalCluster({ tls, log: () => undefined });
  });
  afterAll(async () => {
    await cluster?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const medicEnv = () => ({
    TEMPORAL_ADDRESS: cluster?.address,
    TEMPORAL_TLS_CERT: tls.clientCertFile,
    TEMPORAL_TLS_KEY: tls.clientKeyFile,
    TEMPORAL_TLS_CA: tls.caFile,
    TEMPORAL_TLS_SERVER_NAME: 'localhost',
  });

  it('lets Medic’s client and worker in with the client certificate, and runs an incident', async () => {
    const config = loadConfig(medicEnv());
    const client = await connectClient(config.temporal);
    const nativeConnection = await NativeConnection.connect(temporalConnectionOptions(config.temporal));
    const taskQueue = uniqueTaskQueue('tls');
    // No container named so exists: the allowlist escalates the incident, which needs the worker to run it.
    const supervisor = new ProcessSupervisor(MANAGED);
    const settings = testSettings();
    try {
      await withIncidentWorker(
        { client, nativeConnection },
        {
          taskQueue,
          activities: buildActivities(supervisor, undefined, undefined, settings).activities,
          settings,
        },
        async (gateway) => {
          const target = `${taskQueue}-nowhere`;
          const { workflowId } = await gateway.openOrJoin(alertFor(target));
          await waitFor('the incident to escalate', async () => {
            const state = await client.workflow.getHandle(workflowId).query(statusQuery);
            return state.status === 'ESCALATED' ? state : undefined;
          });
          // Advanced visibility on PostgreSQL, through the same connection.
          const listed = await waitFor('the incident in the list', async () => {
            const found = await gateway.list({ target, status: 'ESCALATED', limit: 5 });
            return found.length > 0 ? found : undefined;
          });
          expect(listed.map((i) => i.workflowId)).toEqual([workflowId]);
        },
      );
    } finally {
      await nativeConnection.close();
      await client.connection.close();
    }
  });

  it('refuses a client without the client certificate, and one without TLS', async () => {
    const withoutCert = loadConfig({ ...medicEnv(), TEMPORAL_TLS_CERT: '', TEMPORAL_TLS_KEY: '' });
    const attempt = async (options: ReturnType<typeof temporalConnectionOptions>) => {
      const connection = await Connection.connect({ ...options, connectTimeout: 3000 });
      try {
        await connection.workflowService.getSystemInfo({});
      } finally {
        await connection.close();
      }
    };
    await expect(attempt(temporalConnectionOptions(withoutCert.temporal))).rejects.toThrow();
    await expect(
      NativeConnection.connect(temporalConnectionOptions(withoutCert.temporal)).then((c) => c.close()),
    ).rejects.toThrow();
    await expect(attempt({ address: cluster?.address ?? '' })).rejects.toThrow();
  });
});
