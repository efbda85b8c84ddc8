// The client connection to Temporal, with the options every client process (API, worker, local stack) shares.
import { Client, Connection } from '@temporalio/client';
import type { MedicConfig } from '../config.js';

/** A server that does not answer by then is down or misaddressed: fail at start, not on the first alert. */
const CONNECT_TIMEOUT = '5s';

export async function connectClient(config: MedicConfig['temporal']): Promise<Client> {
  const connection = await Connection.connect({ address: config.address, connectTimeout: CONNECT_TIMEOUT });
  return new Client({ connection, namespace: config.namespace });
}
