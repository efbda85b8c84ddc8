// A bad release is a file in the image: no file is a good release, and a bad one fails after its delay.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  BAD_RELEASE_FAILS_AFTER_MS,
  badReleaseFile,
  ReleaseState,
  readRelease,
} from '../../../demo-app/src/release.js';

const dir = () => mkdtempSync(path.join(tmpdir(), 'demo-release-'));

describe('the release file', () => {
  it('is absent from a good image', () => {
    expect(readRelease(path.join(dir(), 'release.json'))).toEqual({
      release: { name: 'good', failsAfterMs: BAD_RELEASE_FAILS_AFTER_MS },
    });
  });

  it('names a bad release and its version, as demo:deploy writes it', () => {
    const file = path.join(dir(), 'release.json');
    writeFileSync(file, badReleaseFile('abc123-bad'));
    expect(readRelease(file)).toEqual({
      release: { name: 'bad', version: 'abc123-bad', failsAfterMs: BAD_RELEASE_FAILS_AFTER_MS },
    });
  });

  it('that does not parse is a good release, with the problem to log', () => {
    const file = path.join(dir(), 'release.json');
    writeFileSync(file, '{ not json');
    expect(readRelease(file)).toMatchObject({
      release: { name: 'good' },
      problem: `${file} is not valid JSON`,
    });
  });
});

describe('a release as the process sees it', () => {
  it('a bad one starts, then fails, and stays failed', () => {
    let now = 1000;
    const state = new ReleaseState({ name: 'bad', version: 'v-bad', failsAfterMs: 4000 }, 1000, () => now);
    expect(state.starting()).toBe(true);
    expect(state.problem()).toBeUndefined();
    now = 5000;
    expect(state.starting()).toBe(false);
    expect(state.problem()).toBe(
      'release v-bad reads column orders.total_cents, which the orders database does not have',
    );
    now = 500_000;
    expect(state.problem()).toBeDefined();
  });

  it('a good one never fails', () => {
    const state = new ReleaseState({ name: 'good', failsAfterMs: 0 }, 0, () => 10_000);
    expect(state.starting()).toBe(false);
    expect(state.problem()).toBeUndefined();
  });
});
