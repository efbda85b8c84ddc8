// How much memory the oom fault's job needs: a fixed amount, set from the memory limit the container
// started with, so that a raised limit really fixes it and the next `oom` does not grow with the new
// limit. OOM_ALLOCATE_MB sets it (npm start passes 1.2 x its limit). Without it, the first start reads its
// cgroup's limit and keeps the amount beside the settings file, which outlives restarts and limit updates.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const MB = 1024 * 1024;
/** The job needs this much more than the limit it started with. */
export const OOM_LIMIT_FACTOR = 1.2;

export interface OomAmount {
  mb: number;
  /** Where it came from: the setting, kept from an earlier start, this start's limit, or OOM_MAX_MB. */
  from: 'OOM_ALLOCATE_MB' | 'kept' | 'memory limit' | 'OOM_MAX_MB';
  /** The limit it was set from (`memory limit`). */
  limitMb?: number;
}

/** Where an amount set from the limit is kept: beside the settings file. */
export const keptAmountFile = (settingsFile: string) =>
  path.join(path.dirname(settingsFile), 'oom-amount.json');

export interface OomAmountOptions {
  configuredMb: number | undefined;
  /** OOM_MAX_MB: the most it may be, and what it is when no limit is known. */
  capMb: number;
  settingsFile: string;
  /** This process's memory limit in bytes, undefined when it has none. */
  memoryLimitBytes: () => number | undefined;
}

export function resolveOomAmount(options: OomAmountOptions): OomAmount {
  if (options.configuredMb !== undefined)
    return { mb: Math.min(options.configuredMb, options.capMb), from: 'OOM_ALLOCATE_MB' };
  const file = keptAmountFile(options.settingsFile);
  const kept = readKept(file);
  if (kept !== undefined) return { mb: Math.min(kept, options.capMb), from: 'kept' };
  const limit = options.memoryLimitBytes();
  if (limit === undefined) return { mb: options.capMb, from: 'OOM_MAX_MB' };
  const limitMb = Math.round(limit / MB);
  const mb = Math.min(Math.round(limitMb * OOM_LIMIT_FACTOR), options.capMb);
  try {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, `${JSON.stringify({ mb, limitMb })}\n`);
  } catch {
    // Not kept: a restart with a raised limit would then read that one. Nothing else changes.
  }
  return { mb, from: 'memory limit', limitMb };
}

function readKept(file: string): number | undefined {
  try {
    const { mb } = JSON.parse(readFileSync(file, 'utf8')) as { mb?: unknown };
    return Number.isInteger(mb) && (mb as number) > 0 ? (mb as number) : undefined;
  } catch {
    return undefined;
  }
}

/** cgroup v2's file, then v1's. */
const LIMIT_FILES = ['/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory/memory.limit_in_bytes'];

/** The memory limit of this process's cgroup, undefined when there is none (or it is the whole machine). */
export function cgroupMemoryLimit(
  read: (file: string) => string = (file) => readFileSync(file, 'utf8'),
  totalBytes: number = os.totalmem(),
): number | undefined {
  for (const file of LIMIT_FILES) {
    let text: string;
    try {
      text = read(file).trim();
    } catch {
      continue;
    }
    if (text === 'max') return undefined;
    const bytes = Number(text);
    // cgroup v1 writes "no limit" as a number near 2^63.
    if (!Number.isSafeInteger(bytes) || bytes <= 0 || bytes >= totalBytes) return undefined;
    return bytes;
  }
  return undefined;
}
