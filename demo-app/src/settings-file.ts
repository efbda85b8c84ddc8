// The app's settings file: the one piece of state that outlives the process. POST /trigger/bad-config
// writes an invalid value into it, so a restart does not help; deleting the file (or
// DELETE /trigger/bad-config) heals the app. Read on every health check and monitor round.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface SettingsCheck {
  /** Undefined when the settings are valid (or the file does not exist: defaults apply). */
  problem: string | undefined;
}

/** The setting bad-config breaks; named in logs so a person can find it. */
export const BROKEN_SETTING = 'db.poolSize';

export function checkSettings(file: string): SettingsCheck {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { problem: undefined };
    return { problem: `cannot read ${file}: ${(err as Error).message}` };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { problem: `${file} is not valid JSON` };
  }
  const poolSize = (json as { db?: { poolSize?: unknown } })?.db?.poolSize;
  if (poolSize !== undefined && !(Number.isInteger(poolSize) && (poolSize as number) > 0)) {
    return {
      problem: `${BROKEN_SETTING} must be a positive integer (got ${JSON.stringify(poolSize)} in ${file})`,
    };
  }
  return { problem: undefined };
}

export function writeBadSettings(file: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(
    file,
    `${JSON.stringify({ db: { poolSize: 0 }, writtenBy: 'POST /trigger/bad-config' }, null, 2)}\n`,
  );
}

export function clearSettings(file: string): void {
  rmSync(file, { force: true });
}
