import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  breakStaleLock,
  type OutcomeRecord,
  RunbookFormatError,
  RunbookStore,
} from '../../src/activities/runbook.js';

const run = promisify(execFile);
let file: string;

beforeEach(() => {
  file = path.join(mkdtempSync(path.join(tmpdir(), 'medic-runbook-')), 'runbook.json');
});

const record = (overrides: Partial<OutcomeRecord> = {}): OutcomeRecord => ({
  incidentId: 'run-1',
  workflowId: 'incident-svc-memory-leak',
  target: 'svc',
  alertType: 'memory-leak',
  errorSignature: 'memory usage above threshold',
  action: 'RESTART',
  rootCause: 'a leak',
  outcome: 'resolved',
  at: '2026-11-25T10:00:00.000Z',
  ...overrides,
});

describe('RunbookStore', () => {
  it('creates the file with one readable fix that names the incident', async () => {
    const result = await new RunbookStore(file).recordOutcome(record());
    expect(result).toMatchObject({ created: true, alreadyRecorded: false });
    const json = JSON.parse(readFileSync(file, 'utf8'));
    expect(json.fixes).toHaveLength(1);
    expect(json.fixes[0]).toMatchObject({
      id: result.fixId,
      match: { target: 'svc', alertType: 'memory-leak', errorSignature: 'memory usage above threshold' },
      action: 'RESTART',
      enabled: true,
      learnedFrom: 'run-1',
      stats: { resolved: 1, failed: 0, rejected: 0, didNotStick: 0 },
      history: [{ incidentId: 'run-1', outcome: 'resolved' }],
    });
    expect(readFileSync(file, 'utf8')).toContain('\n  "fixes"'); // pretty-printed for people
  });

  it('records an incident outcome exactly once, however often it is retried', async () => {
    const store = new RunbookStore(file);
    const first = await store.recordOutcome(record());
    const again = await store.recordOutcome(record());
    const elsewhere = await new RunbookStore(file).recordOutcome(record());
    expect(again).toEqual({ fixId: first.fixId, created: false, alreadyRecorded: true });
    expect(elsewhere.alreadyRecorded).toBe(true);
    const fix = (await store.read()).fixes[0];
    expect(fix?.stats.resolved).toBe(1);
    expect(fix?.history).toHaveLength(1);
  });

  it('counts different incidents and outcomes against the same signature', async () => {
    const store = new RunbookStore(file);
    await store.recordOutcome(record());
    await store.recordOutcome(record({ incidentId: 'run-2', outcome: 'failed' }));
    await store.recordOutcome(record({ incidentId: 'run-3', errorSignature: 'other' }));
    const { fixes } = await store.read();
    expect(fixes).toHaveLength(2);
    expect(fixes[0]?.stats).toMatchObject({ resolved: 1, failed: 1 });
  });

  it('loses nothing under concurrent appends from several store instances', async () => {
    const stores = Array.from({ length: 5 }, () => new RunbookStore(file));
    await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        stores[i % stores.length]!.recordOutcome(
          record({ incidentId: `run-${i}`, errorSignature: `sig-${i % 7}` }),
        ),
      ),
    );
    const { fixes } = await new RunbookStore(file).read();
    expect(fixes).toHaveLength(7);
    expect(fixes.reduce((n, f) => n + f.stats.resolved, 0)).toBe(60);
  });

  it('loses nothing under concurrent appends from several processes', async () => {
    const script = path.join(path.dirname(file), 'append.mts');
    const storeModule = path.resolve('src/activities/runbook.ts');
    writeFileSync(
      script,
      `import { RunbookStore } from ${JSON.stringify(storeModule)};
const [file, worker] = process.argv.slice(2);
const store = new RunbookStore(file);
for (let i = 0; i < 15; i++) {
  await store.recordOutcome({ incidentId: worker + '-' + i, workflowId: 'w', target: 'svc', alertType: 'crash',
    errorSignature: 'sig', action: 'RESTART', rootCause: 'x', outcome: 'resolved', at: new Date().toISOString() });
}
`,
    );
    const tsx = path.resolve('node_modules/.bin/tsx');
    await Promise.all(['a', 'b', 'c', 'd'].map((w) => run(tsx, [script, file, w])));
    const { fixes } = await new RunbookStore(file).read();
    expect(fixes).toHaveLength(1);
    expect(fixes[0]?.stats.resolved).toBe(60);
  });

  it('never breaks a lock taken after it judged the old one stale (the stale-lock race)', async () => {
    const lock = `${file}.lock`;
    writeFileSync(lock, '1\n');
    const old = new Date(Date.now() - 60_000);
    utimesSync(lock, old, old);
    const judged = statSync(lock);
    // Meanwhile another writer broke it and took a fresh lock of its own.
    rmSync(lock);
    writeFileSync(lock, '2\n');
    await breakStaleLock(lock, judged, 1000);
    expect(readFileSync(lock, 'utf8')).toBe('2\n');
    expect(existsSync(`${lock}.break`)).toBe(false);
    // The lock it judged, still there, is broken.
    const stale = statSync(lock);
    utimesSync(lock, old, old);
    await breakStaleLock(lock, statSync(lock), 1000);
    expect(existsSync(lock)).toBe(false);
    expect(stale.ino).toBeGreaterThan(0);
  });

  it('two writers from two processes, past a stale lock, never lose or duplicate an entry', async () => {
    // A lock left by a writer that died: both processes find it stale at once and race to break it.
    const lock = `${file}.lock`;
    writeFileSync(lock, '999999\n');
    const old = new Date(Date.now() - 60_000);
    utimesSync(lock, old, old);
    const script = path.join(path.dirname(file), 'writer.mts');
    const storeModule = path.resolve('src/activities/runbook.ts');
    // Each writer records every incident, as a retried activity or a second writer would: once each.
    writeFileSync(
      script,
      `import { RunbookStore } from ${JSON.stringify(storeModule)};
const [file] = process.argv.slice(2);
const store = new RunbookStore(file, 2000);
await Promise.all(Array.from({ length: 30 }, (_, i) => store.recordOutcome({ incidentId: 'incident:host-' + (i % 2) + ':svc:crash/' + i,
  workflowId: 'w', target: 'svc', alertType: 'crash', errorSignature: 'sig-' + (i % 3), action: 'RESTART', rootCause: 'x',
  outcome: 'resolved', at: new Date().toISOString() })));
`,
    );
    const tsx = path.resolve('node_modules/.bin/tsx');
    await Promise.all(['a', 'b'].map(() => run(tsx, [script, file])));
    const { fixes } = await new RunbookStore(file).read();
    expect(fixes).toHaveLength(3);
    const ids = fixes.flatMap((f) => f.history.map((h) => h.incidentId));
    expect(ids).toHaveLength(30);
    expect(new Set(ids).size).toBe(30);
    expect(fixes.reduce((n, f) => n + f.stats.resolved, 0)).toBe(30);
    expect(existsSync(lock)).toBe(false);
  });

  it('reports a malformed file clearly and never overwrites it', async () => {
    writeFileSync(file, '{ "version": 1, "fixes": [ oops');
    const store = new RunbookStore(file);
    await expect(store.recordOutcome(record())).rejects.toThrow(RunbookFormatError);
    await expect(store.recordOutcome(record())).rejects.toThrow(/not valid JSON.*fix it by hand/);
    expect(readFileSync(file, 'utf8')).toBe('{ "version": 1, "fixes": [ oops');

    writeFileSync(file, JSON.stringify({ version: 1, fixes: [{ id: 'x', action: 'DELETE_EVERYTHING' }] }));
    await expect(store.read()).rejects.toThrow(/fixes\.0\.action/);
  });

  it('accepts a hand-written fix with only the essential fields', async () => {
    writeFileSync(
      file,
      JSON.stringify({
        version: 1,
        fixes: [
          {
            id: 'manual-1',
            match: { target: 'svc', alertType: 'hang', errorSignature: 'none' },
            action: 'RESTART',
            rootCause: 'known hang after deploys',
            createdAt: '2026-01-01T00:00:00Z',
            updatedAt: '2026-01-01T00:00:00Z',
            stats: {},
          },
        ],
      }),
    );
    const { fixes } = await new RunbookStore(file).read();
    expect(fixes[0]).toMatchObject({ enabled: true, stats: { resolved: 0, failed: 0 }, history: [] });
  });

  it('turns a fix off and on, recording who, when and why; an unknown id changes nothing', async () => {
    const store = new RunbookStore(file);
    const { fixId } = await store.recordOutcome(record());
    const before = readFileSync(file, 'utf8');
    expect(await store.setEnabled('fix-nobody', { enabled: false, by: 'alice', at: 't' })).toBeUndefined();
    expect(readFileSync(file, 'utf8')).toBe(before);

    const off = {
      enabled: false,
      by: 'alice',
      at: '2026-11-25T11:00:00.000Z',
      note: 'the cache is replaced',
    };
    expect(await store.setEnabled(fixId, off)).toMatchObject({ changed: true, fix: { enabled: false } });
    // The same request again (a retried activity) gets the same answer and writes nothing.
    const written = readFileSync(file, 'utf8');
    expect(await store.setEnabled(fixId, off)).toMatchObject({ changed: true });
    expect(readFileSync(file, 'utf8')).toBe(written);
    // Another request to turn off what is off changes nothing, not even who turned it off.
    expect(
      await store.setEnabled(fixId, { ...off, by: 'bob', at: '2026-11-25T12:00:00.000Z' }),
    ).toMatchObject({
      changed: false,
      fix: { toggled: off },
    });
    const json = JSON.parse(readFileSync(file, 'utf8'));
    expect(json.fixes[0]).toMatchObject({ enabled: false, toggled: off, updatedAt: off.at });

    const on = { enabled: true, by: 'bob', at: '2026-11-25T13:00:00.000Z' };
    expect(await store.setEnabled(fixId, on)).toMatchObject({
      changed: true,
      fix: { enabled: true, toggled: on },
    });
    // Its counts and history are untouched.
    expect((await store.read()).fixes[0]).toMatchObject({
      stats: { resolved: 1 },
      history: [{ incidentId: 'run-1' }],
    });
  });

  it('reads a file written before fixes could be toggled, and one whose fix is disabled by hand', async () => {
    writeFileSync(
      file,
      JSON.stringify({
        version: 1,
        fixes: [
          {
            id: 'manual-2',
            match: { target: 'svc', alertType: 'hang', errorSignature: 'none' },
            action: 'RESTART',
            rootCause: 'r',
            enabled: false,
            note: 'waiting for a fix upstream',
            createdAt: '2026-01-01T00:00:00Z',
            updatedAt: '2026-01-01T00:00:00Z',
            stats: { resolved: 3 },
          },
        ],
      }),
    );
    const store = new RunbookStore(file);
    const [fix] = (await store.read()).fixes;
    expect(fix?.toggled).toBeUndefined();
    // Already off: nothing to do, and the hand-written note stays.
    expect(
      await store.setEnabled('manual-2', { enabled: false, by: 'alice', at: 't', note: 'n' }),
    ).toMatchObject({
      changed: false,
      fix: { note: 'waiting for a fix upstream' },
    });
    expect((await store.setEnabled('manual-2', { enabled: true, by: 'alice', at: 't' }))?.changed).toBe(true);
  });
});
