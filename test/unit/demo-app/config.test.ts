import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../demo-app/src/config.js';

describe('loadConfig', () => {
  it('uses the documented defaults', () => {
    expect(loadConfig({})).toEqual({
      port: 8080,
      host: '0.0.0.0',
      webhookUrl: 'http://127.0.0.1:3000/webhooks/alert',
      webhookSecret: undefined,
      containerName: 'medic-demo',
      monitorIntervalMs: 5000,
      hangProbeTimeoutMs: 2000,
      startupDelayMs: 0,
      memoryLeakMaxMb: 600,
      settingsFile: path.join(os.tmpdir(), 'medic-demo-medic-demo', 'settings.json'),
      oomMaxMb: 2048,
      oomAllocateMb: undefined,
      releaseFile: '/app/release.json',
      thresholds: { memoryGrowthMb: 150, eventLoopLagMs: 200, dbLatencyMs: 1000, errorsPerInterval: 20 },
    });
  });

  it('reads every variable', () => {
    const config = loadConfig({
      PORT: '9090',
      HOST: '127.0.0.1',
      MEDIC_WEBHOOK_URL: 'https://medic.example/webhooks/alert',
      MEDIC_WEBHOOK_SECRET: 'sixteen-chars-ok',
      CONTAINER_NAME: 'shop_api.2',
      MONITOR_INTERVAL_MS: '100',
      HANG_PROBE_TIMEOUT_MS: '500',
      STARTUP_DELAY_MS: '3000',
      MEMORY_LEAK_MAX_MB: '300',
      OOM_MAX_MB: '512',
      OOM_ALLOCATE_MB: '461',
      DEMO_RELEASE_FILE: '/opt/release.json',
      MEMORY_THRESHOLD_MB: '64',
      EVENT_LOOP_LAG_THRESHOLD_MS: '150',
      DB_LATENCY_THRESHOLD_MS: '800',
      ERROR_RATE_THRESHOLD: '3',
      DEMO_SETTINGS_FILE: '/data/settings.json',
    });
    expect(config).toEqual({
      port: 9090,
      host: '127.0.0.1',
      webhookUrl: 'https://medic.example/webhooks/alert',
      webhookSecret: 'sixteen-chars-ok',
      containerName: 'shop_api.2',
      monitorIntervalMs: 100,
      hangProbeTimeoutMs: 500,
      startupDelayMs: 3000,
      memoryLeakMaxMb: 300,
      settingsFile: '/data/settings.json',
      oomMaxMb: 512,
      oomAllocateMb: 461,
      releaseFile: '/opt/release.json',
      thresholds: { memoryGrowthMb: 64, eventLoopLagMs: 150, dbLatencyMs: 800, errorsPerInterval: 3 },
    });
  });

  it("reads the oom job's amount as a whole number of MB, empty meaning from the memory limit", () => {
    expect(loadConfig({ OOM_ALLOCATE_MB: '' }).oomAllocateMb).toBeUndefined();
    expect(() => loadConfig({ OOM_ALLOCATE_MB: '1.5' })).toThrow(/OOM_ALLOCATE_MB must be a whole number/);
  });

  it('treats an empty secret as unset', () => {
    expect(loadConfig({ MEDIC_WEBHOOK_SECRET: '' }).webhookSecret).toBeUndefined();
  });

  it("reads the sender's name, which must be one Medic can know", () => {
    expect(loadConfig({ MEDIC_WEBHOOK_SENDER: 'demo' }).webhookSender).toBe('demo');
    expect(loadConfig({ MEDIC_WEBHOOK_SENDER: '' }).webhookSender).toBeUndefined();
    expect(() => loadConfig({ MEDIC_WEBHOOK_SENDER: 'Demo App' })).toThrow(/MEDIC_WEBHOOK_SENDER must be/);
  });

  it('names every bad variable at once', () => {
    let error: unknown;
    try {
      loadConfig({
        PORT: 'eighty',
        MONITOR_INTERVAL_MS: '-5',
        ERROR_RATE_THRESHOLD: '2.5',
        MEDIC_WEBHOOK_URL: 'ftp://medic/alert',
        MEDIC_WEBHOOK_SECRET: 'short',
        CONTAINER_NAME: '-bad name',
      });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems).toHaveLength(6);
    for (const name of [
      'PORT',
      'MONITOR_INTERVAL_MS',
      'ERROR_RATE_THRESHOLD',
      'MEDIC_WEBHOOK_URL',
      'MEDIC_WEBHOOK_SECRET',
      'CONTAINER_NAME',
    ]) {
      expect(problems.some((p) => p.startsWith(`${name} `))).toBe(true);
    }
    expect((error as Error).message).toContain('PORT must be a whole number from 0 to 65535 (got "eighty")');
  });
});
