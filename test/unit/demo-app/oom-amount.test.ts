// The oom fault's job needs a fixed amount: the setting, else 1.2 x the limit the app first started with,
// kept beside the settings file so a restart under a raised limit needs no more than before.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cgroupMemoryLimit, resolveOomAmount } from '../../../demo-app/src/oom-amount.js';

const MiB = 1024 * 1024;
const settingsFile = () => path.join(mkdtempSync(path.join(tmpdir(), 'demo-oom-')), 'settings.json');

describe('the amount the oom job needs', () => {
  it('is OOM_ALLOCATE_MB when set, whatever the limit', () => {
    const amount = resolveOomAmount({
      configuredMb: 461,
      capMb: 2048,
      settingsFile: settingsFile(),
      memoryLimitBytes: () => 576 * MiB,
    });
    expect(amount).toEqual({ mb: 461, from: 'OOM_ALLOCATE_MB' });
  });

  it('is set once from the first limit and kept: a raised limit does not raise it', () => {
    const file = settingsFile();
    const first = resolveOomAmount({
      configuredMb: undefined,
      capMb: 2048,
      settingsFile: file,
      memoryLimitBytes: () => 384 * MiB,
    });
    expect(first).toEqual({ mb: 461, from: 'memory limit', limitMb: 384 });
    const raised = resolveOomAmount({
      configuredMb: undefined,
      capMb: 2048,
      settingsFile: file,
      memoryLimitBytes: () => 576 * MiB,
    });
    expect(raised).toEqual({ mb: 461, from: 'kept' });
  });

  it('is OOM_MAX_MB without a limit, and never more than it', () => {
    expect(
      resolveOomAmount({
        configuredMb: undefined,
        capMb: 2048,
        settingsFile: settingsFile(),
        memoryLimitBytes: () => undefined,
      }),
    ).toEqual({ mb: 2048, from: 'OOM_MAX_MB' });
    expect(
      resolveOomAmount({
        configuredMb: undefined,
        capMb: 400,
        settingsFile: settingsFile(),
        memoryLimitBytes: () => 384 * MiB,
      }),
    ).toMatchObject({ mb: 400 });
  });
});

describe("the cgroup's memory limit", () => {
  const files = (entries: Record<string, string>) => (file: string) => {
    const text = entries[file];
    if (text === undefined) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
    return text;
  };
  const total = 16 * 1024 * MiB;

  it('reads cgroup v2, then v1', () => {
    expect(cgroupMemoryLimit(files({ '/sys/fs/cgroup/memory.max': '402653184\n' }), total)).toBe(384 * MiB);
    expect(
      cgroupMemoryLimit(files({ '/sys/fs/cgroup/memory/memory.limit_in_bytes': '402653184\n' }), total),
    ).toBe(384 * MiB);
  });

  it('says none for "max", v1\'s near-2^63, a limit as large as the machine, or no file', () => {
    expect(cgroupMemoryLimit(files({ '/sys/fs/cgroup/memory.max': 'max\n' }), total)).toBeUndefined();
    expect(
      cgroupMemoryLimit(
        files({ '/sys/fs/cgroup/memory/memory.limit_in_bytes': '9223372036854771712' }),
        total,
      ),
    ).toBeUndefined();
    expect(cgroupMemoryLimit(files({ '/sys/fs/cgroup/memory.max': String(total) }), total)).toBeUndefined();
    expect(cgroupMemoryLimit(files({}), total)).toBeUndefined();
  });
});
