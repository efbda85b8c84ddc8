// The demo tour: the demo app's faults in an order that works one after another with the shipped defaults,
// each with what it leads to. One list for npm start's banner, docs/tour.md and the README (written by
// `npm run docs:config`), and the tour test (test/e2e/tour.test.ts), which runs it and checks each outcome.
// The defaults it describes: a 5 min cooldown per container after each restart, at most 3 restarts of a
// container an hour, the severity table (medium acts, high acts and tells, critical asks).

export interface TourStep {
  /** The demo app's trigger. */
  fault: string;
  /** What it leads to, in words: the banner's and the docs' comment. */
  leadsTo: string;
  /** What the tour test checks: the incident it opens (its alert type), and how it ends. */
  check: {
    alertType: string;
    /** A person approves it (the test does, as the tour says to). */
    approve?: boolean;
    /** It waits for the cooldown of the step before it, then decides again without a person. */
    decidedAgain?: boolean;
    ends: 'RESOLVED' | 'FAILED';
    /** Afterwards, the tour heals it this way before the next step (`DELETE /trigger/<fault>`). */
    thenDelete?: boolean;
  };
  /** It needs a container engine (the engine watch sees what it does), or a memory limit besides. */
  needs?: 'engine' | 'memory-limit';
}

export const TOUR: readonly TourStep[] = [
  {
    fault: 'memory-leak',
    leadsTo: 'medium: the app alerts, restarted without asking (a restart starts the 5 min cooldown)',
    check: { alertType: 'memory-leak', ends: 'RESOLVED' },
  },
  {
    fault: 'cpu-spike',
    leadsTo: 'medium, within the cooldown: waits and says so, then restarts alone when it ends',
    check: { alertType: 'cpu-spike', decidedAgain: true, ends: 'RESOLVED' },
  },
  {
    fault: 'error-storm',
    leadsTo: 'medium: the same, the third restart this hour',
    check: { alertType: 'error-storm', decidedAgain: true, ends: 'RESOLVED' },
  },
  {
    fault: 'db-latency',
    leadsTo: 'high: a 4th restart this hour is over the limit of 3: approve it (or it waits for the hour)',
    check: { alertType: 'db-latency', approve: true, ends: 'RESOLVED' },
  },
  {
    fault: 'hang',
    leadsTo: 'critical: always waits for a person: approve it (an approval waives cooldown and limit)',
    check: { alertType: 'hang', approve: true, ends: 'RESOLVED' },
  },
  {
    fault: 'bad-config',
    leadsTo: 'survives a restart: approve it, the restart does not heal it (FAILED); the DELETE below does',
    check: { alertType: 'bad-config', approve: true, ends: 'FAILED', thenDelete: true },
  },
  {
    fault: 'crash',
    leadsTo: 'exits with no alert: the engine watcher sees the death; approve it (over the hourly limit)',
    check: { alertType: 'crash', approve: true, ends: 'RESOLVED' },
    needs: 'engine',
  },
  {
    fault: 'oom',
    leadsTo: 'the kernel OOM-kills it at its memory limit: the watcher sees it; approve it',
    check: { alertType: 'oom', approve: true, ends: 'RESOLVED' },
    needs: 'memory-limit',
  },
];

/** The tour as curl lines with their comments, aligned; `mode` says which steps cannot work here. */
export function tourLines(demoUrl: string, mode: { engine: boolean; memoryLimitMb?: number }): string[] {
  const rows: Array<[string, string]> = [];
  for (const step of TOUR) {
    const unavailable =
      (step.needs === 'engine' && !mode.engine) || (step.needs === 'memory-limit' && !mode.memoryLimitMb);
    const words = unavailable
      ? 'needs a container engine and the engine watcher (and, for oom, a memory limit): not in this mode'
      : step.leadsTo.replace(
          'its memory limit',
          mode.memoryLimitMb ? `its ${mode.memoryLimitMb} MiB limit` : 'its memory limit',
        );
    rows.push([`curl -X POST ${demoUrl}/trigger/${step.fault}`, words]);
    if (step.check.thenDelete)
      rows.push([`curl -X DELETE ${demoUrl}/trigger/${step.fault}`, 'heals it (the setting is gone)']);
  }
  const width = Math.max(...rows.map(([command]) => command.length)) + 2;
  return rows.map(([command, words]) => `${command.padEnd(width)}# ${words}`);
}
