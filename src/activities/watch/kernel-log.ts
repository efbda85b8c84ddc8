// The kernel's own account of OOM kills. Some engines never say a container was OOM-killed (Podman 4.3
// with cgroup v1 reports OOMKilled=false and emits no `oom` event), but the kernel logs every kill of a
// memory cgroup with the cgroup's path, which holds the container id. Only usable where the engine runs
// on this host and the kernel log is readable (root); elsewhere the answer is "unknown".
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** When (ms since the epoch) the kernel OOM-killed a process of this container; empty when never. */
export type KernelOomReader = (containerId: string) => Promise<number[] | undefined>;

/** Parses `dmesg` lines (`[seconds since boot] text`) into the epoch times of OOM kills of one cgroup. */
export function oomKillTimes(
  dmesg: string,
  containerId: string,
  uptimeSeconds: number,
  nowMs: number,
): number[] {
  const times: number[] = [];
  for (const line of dmesg.split('\n')) {
    if (!line.includes('oom-kill:') || !line.includes(containerId)) continue;
    const match = /^\[\s*(\d+(?:\.\d+)?)\]/.exec(line);
    if (!match) continue;
    times.push(nowMs - (uptimeSeconds - Number(match[1])) * 1000);
  }
  return times;
}

export const readKernelOomKills: KernelOomReader = async (containerId) => {
  if (process.platform !== 'linux' || !/^[0-9a-f]{12,64}$/.test(containerId)) return undefined;
  try {
    const [{ stdout }, uptime] = await Promise.all([
      run('dmesg', [], { timeout: 2000, maxBuffer: 16 * 1024 * 1024 }),
      readFile('/proc/uptime', 'utf8'),
    ]);
    return oomKillTimes(stdout, containerId, Number(uptime.split(' ')[0]), Date.now());
  } catch {
    return undefined;
  }
};
