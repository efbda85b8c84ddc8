// Stopping a child process the way every script here does: SIGTERM, then SIGKILL if it lingers.
import type { ChildProcess } from 'node:child_process';

export async function stopProcess(
  child: ChildProcess,
  graceMs = 15_000,
  signal: NodeJS.Signals = 'SIGTERM',
): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}
