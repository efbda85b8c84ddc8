// Starts `temporal server start-dev`: the full server and Web UI in one process, SQLite on disk.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { MEDIC_SEARCH_ATTRIBUTES } from '../src/workflows/search-attributes.js';
import { stopProcess } from './processes.js';

export interface DevServer {
  address: string;
  uiUrl?: string;
  /** The server's Prometheus metrics, when it was started with a metrics port. */
  metricsUrl?: string;
  stop(): Promise<void>;
  /** SIGKILL, as a crash would end it: nothing flushed, nothing closed. */
  kill(): Promise<void>;
}

/**
 * Turns off Temporal's version check: without it every dev server calls Temporal's version-check
 * service on the internet at start (its metrics show `version_check_failed`), and nothing may leave
 * these machines. Every server the project starts passes these arguments.
 */
export const VERSION_CHECK_OFF = ['--dynamic-config-value', 'frontend.enableServerVersionCheck=false'];

/**
 * The SQLite file in write-ahead-log mode, synced at checkpoints rather than at every commit: every
 * workflow task, signal and timer is a transaction, and with the default rollback journal each one waits
 * for the disk (bench:mttr: 354 -> 247 ms of overhead per incident). A killed server loses nothing
 * committed (the log is replayed when it opens the file again); only a crash of the whole machine can
 * lose the last moments. The production-shaped cluster keeps its data in PostgreSQL.
 */
export const SQLITE_PRAGMAS = ['journal_mode=wal', 'synchronous=normal'];

/** True when a Temporal frontend answers at the address. */
export async function temporalReachable(address: string, timeoutMs = 1500): Promise<boolean> {
  let connection: Connection | undefined;
  try {
    const conn = await Connection.connect({ address, connectTimeout: timeoutMs });
    connection = conn;
    await conn.withDeadline(Date.now() + timeoutMs, () => conn.workflowService.getSystemInfo({}));
    return true;
  } catch {
    return false;
  } finally {
    await connection?.close().catch(() => undefined);
  }
}

export async function startTemporalDevServer(options: {
  cliPath: string;
  ip?: string;
  port: number;
  uiPort?: number;
  dbFile?: string;
  namespace?: string;
  /** Serve Prometheus metrics on this port (otherwise on a random one nobody is told about). */
  metricsPort?: number;
  log?: (line: string) => void;
}): Promise<DevServer> {
  const ip = options.ip ?? '127.0.0.1';
  const address = `${ip}:${options.port}`;
  const args = ['server', 'start-dev', '--ip', ip, '--port', String(options.port), '--log-level', 'warn'];
  args.push(...VERSION_CHECK_OFF);
  if (options.metricsPort) args.push('--metrics-port', String(options.metricsPort));
  args.push('--namespace', options.namespace ?? 'default');
  if (options.uiPort) args.push('--ui-port', String(options.uiPort));
  else args.push('--headless');
  if (options.dbFile) {
    mkdirSync(path.dirname(options.dbFile), { recursive: true });
    args.push('--db-filename', options.dbFile);
    for (const pragma of SQLITE_PRAGMAS) args.push('--sqlite-pragma', pragma);
  }
  for (const key of MEDIC_SEARCH_ATTRIBUTES) args.push('--search-attribute', `${key.name}=Keyword`);

  // Its own process group: Ctrl-C at the terminal reaches the stack, which stops the server last, after
  // the worker and the API (it must not stop first, under them). Killed with the stack if that dies.
  const child: ChildProcess = spawn(options.cliPath, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const orphanGuard = () => child.kill('SIGKILL');
  process.once('exit', orphanGuard);
  child.once('exit', () => process.off('exit', orphanGuard));
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-8000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);

  const stop = () => stopProcess(child, 10_000);
  const kill = () => stopProcess(child, 0, 'SIGKILL');

  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`temporal server start-dev exited with code ${child.exitCode}:\n${output.trim()}`);
    }
    if (await temporalReachable(address, 1000)) {
      return {
        address,
        ...(options.uiPort ? { uiUrl: `http://${ip}:${options.uiPort}` } : {}),
        ...(options.metricsPort ? { metricsUrl: `http://${ip}:${options.metricsPort}/metrics` } : {}),
        stop,
        kill,
      };
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  await stop();
  throw new Error(`temporal server start-dev did not answer on ${address} within 60 s:\n${output.trim()}`);
}
