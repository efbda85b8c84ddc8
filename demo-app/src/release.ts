// Which release of the demo app this is. The image of a "bad release" (`npm run demo:deploy -- bad`)
// is the good image with one file more, RELEASE_FILE: same code, a baked setting. A bad release starts,
// answers, and a few seconds later every order lookup fails; its /health never passes (warming up, then
// bad release), so Medic never records its image as one that ran healthy. A restart does not help: the
// file is in the image. Only running the image before it (a rollback) does.
import { readFileSync } from 'node:fs';

/** Where the image keeps the file: beside the bundled app. */
export const RELEASE_FILE = '/app/release.json';
/** How long a bad release seems to start normally before its order lookups fail. */
export const BAD_RELEASE_FAILS_AFTER_MS = 4000;

export interface Release {
  name: 'good' | 'bad';
  /** What the file calls it (the image tag it was built as), for logs and GET /. */
  version?: string;
  /** A bad release's order lookups fail this long after start. */
  failsAfterMs: number;
}

/** The setting a bad release's code path reads, and the column the database does not have. */
const MISSING_COLUMN = 'orders.total_cents';

/** The release the file describes; no file (every image but the bad one) is a good release. */
export function readRelease(file: string): { release: Release; problem?: string } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT')
      return { release: { name: 'good', failsAfterMs: BAD_RELEASE_FAILS_AFTER_MS } };
    return {
      release: { name: 'good', failsAfterMs: BAD_RELEASE_FAILS_AFTER_MS },
      problem: `cannot read ${file}: ${(err as Error).message}`,
    };
  }
  try {
    const json = JSON.parse(text) as { release?: unknown; version?: unknown; failsAfterMs?: unknown };
    const failsAfterMs =
      Number.isInteger(json.failsAfterMs) && (json.failsAfterMs as number) >= 0
        ? (json.failsAfterMs as number)
        : BAD_RELEASE_FAILS_AFTER_MS;
    return {
      release: {
        name: json.release === 'bad' ? 'bad' : 'good',
        ...(typeof json.version === 'string' ? { version: json.version } : {}),
        failsAfterMs,
      },
    };
  } catch {
    return {
      release: { name: 'good', failsAfterMs: BAD_RELEASE_FAILS_AFTER_MS },
      problem: `${file} is not valid JSON`,
    };
  }
}

/** The file's content for a bad release built as `version`. */
export function badReleaseFile(version: string): string {
  return `${JSON.stringify({ release: 'bad', version, failsAfterMs: BAD_RELEASE_FAILS_AFTER_MS }, null, 2)}\n`;
}

/** A release as the running process sees it: good, starting (a bad one before it fails) or broken. */
export class ReleaseState {
  constructor(
    readonly release: Release,
    private readonly startedAt: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** A bad release before its lookups fail: /health says it is warming up. */
  starting(): boolean {
    return this.release.name === 'bad' && this.now() - this.startedAt < this.release.failsAfterMs;
  }

  /** What is wrong once a bad release fails; undefined for a good one. */
  problem(): string | undefined {
    if (this.release.name !== 'bad' || this.starting()) return undefined;
    return `release ${this.release.version ?? 'bad'} reads column ${MISSING_COLUMN}, which the orders database does not have`;
  }
}
