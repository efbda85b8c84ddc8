// The connection to Temporal, with the options every process (API, worker, local stack) shares: one
// function builds them for the client's Connection and the worker's NativeConnection alike.
import { readFileSync } from 'node:fs';
import { Client, Connection, type TLSConfig } from '@temporalio/client';
import type { TemporalSettings } from '../config.js';

/** A server that does not answer by then is down or misaddressed: fail at start, not on the first alert. */
const CONNECT_TIMEOUT = '5s';

export interface TemporalConnectionOptions {
  address: string;
  tls?: TLSConfig;
  apiKey?: string;
}

/** Address, TLS (files read now, so a rotated certificate is picked up at the next start) and API key. */
export function temporalConnectionOptions(settings: TemporalSettings): TemporalConnectionOptions {
  const { tls } = settings;
  return {
    address: settings.address,
    ...(tls
      ? {
          tls: {
            ...(tls.serverName ? { serverNameOverride: tls.serverName } : {}),
            ...(tls.caFile ? { serverRootCACertificate: readFileSync(tls.caFile) } : {}),
            ...(tls.certFile && tls.keyFile
              ? { clientCertPair: { crt: readFileSync(tls.certFile), key: readFileSync(tls.keyFile) } }
              : {}),
          },
        }
      : {}),
    ...(settings.apiKey ? { apiKey: settings.apiKey } : {}),
  };
}

export async function connectClient(settings: TemporalSettings): Promise<Client> {
  const connection = await Connection.connect({
    ...temporalConnectionOptions(settings),
    connectTimeout: CONNECT_TIMEOUT,
  });
  return new Client({ connection, namespace: settings.namespace });
}
