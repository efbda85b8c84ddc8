// The demo tour: the demo app's faults, and a bad deploy, in an order that works one after another with the
// shipped defaults, each with what it leads to. One list for npm start's banner, docs/tour.md and the README
// (written by `npm run docs:config`), and the tour test (test/e2e/tour.test.ts), which runs it and checks each
// outcome. The defaults it describes: a 5 min cooldown per container after each plan, at most 3 actions on a
// container an hour, and the policy by severity and risk (a low-risk action the container declares runs
// alone from medium severity; a restart acts at medium, acts and tells at high, asks at critical; ROLLBACK
// and RAISE_MEMORY always ask a person).

export interface TourStep {
  /** The demo app's trigger (`POST /trigger/<fault>`); or else */
  fault?: string;
  /** a deploy of the demo container from another image (`npm run demo:deploy -- <release>`). */
  deploy?: 'bad' | 'good';
  /**
   * What it leads to, in words: the banner's and the docs' comment. `{limit}`, `{raised}` and `{cap}` are
   * the container's memory limit, 1.5 x it, and the cap its label allows (2 x it).
   */
  leadsTo: string;
  /** What the tour test checks: the incident it opens (its alert type), and how it ends. */
  check: {
    alertType: string;
    /** A person approves it (the test does, as the tour says to). */
    approve?: boolean;
    /** It waits for the cooldown of the step before it, then decides again without a person. */
    decidedAgain?: boolean;
    /** NONE: no incident, the fault passes by itself (the oom job fits; GET / says it finished). */
    ends: 'RESOLVED' | 'FAILED' | 'NONE';
    /** The remedy of the step that healed it, when it is not a restart. */
    remedy?: 'ACTION:reset-pool' | 'ROLLBACK' | 'RAISE_MEMORY';
    /** It heals without a restart: the container's start time stays. */
    sameStart?: boolean;
    /** Afterwards, the tour heals it this way before the next step (`DELETE /trigger/<fault>`). */
    thenDelete?: boolean;
  };
  /** It needs a container engine (the engine watch sees what it does), or a memory limit besides. */
  needs?: 'engine' | 'memory-limit';
}

export const TOUR: readonly TourStep[] = [
  {
    fault: 'db-latency',
    leadsTo:
      'high: its plan starts with its own reset-pool, a low-risk action that runs without asking: healed without a restart (its start time stays)',
    check: { alertType: 'db-latency', ends: 'RESOLVED', remedy: 'ACTION:reset-pool', sameStart: true },
  },
  {
    fault: 'memory-leak',
    leadsTo:
      'medium, within the 5 min cooldown of that action: waits and says so, then restarts alone when it ends',
    check: { alertType: 'memory-leak', decidedAgain: true, ends: 'RESOLVED' },
  },
  {
    fault: 'cpu-spike',
    leadsTo: 'medium: the same, the third action this hour',
    check: { alertType: 'cpu-spike', decidedAgain: true, ends: 'RESOLVED' },
  },
  {
    fault: 'error-storm',
    leadsTo: 'medium: a 4th action this hour is over the limit of 3: approve it (or it waits for the hour)',
    check: { alertType: 'error-storm', approve: true, ends: 'RESOLVED' },
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
    deploy: 'bad',
    leadsTo:
      'a bad release of the same build: it alerts bad-release seconds after start; Medic proposes a ROLLBACK to the image it last ran healthy, naming the image change: approve it (a rollback always asks)',
    check: { alertType: 'bad-release', approve: true, ends: 'RESOLVED', remedy: 'ROLLBACK' },
    needs: 'engine',
  },
  {
    fault: 'oom',
    leadsTo:
      'the kernel OOM-kills it at {limit}: the watcher sees it, and Medic proposes RAISE_MEMORY to {raised} (under {cap}): approve it (a raise always asks)',
    check: { alertType: 'oom', approve: true, ends: 'RESOLVED', remedy: 'RAISE_MEMORY' },
    needs: 'memory-limit',
  },
  {
    fault: 'oom',
    leadsTo: 'fits under the raised limit now: the job ends and frees its memory, nothing to heal',
    check: { alertType: 'oom', ends: 'NONE' },
    needs: 'memory-limit',
  },
];

/** Where the demo's memory figures go in a step's words. */
function memoryWords(text: string, memoryLimitMb: number | undefined): string {
  const mib = (factor: number) => `${Math.round((memoryLimitMb ?? 0) * factor)} MiB`;
  return text
    .replace('{limit}', memoryLimitMb ? `its ${mib(1)} limit` : 'its memory limit')
    .replace('{raised}', memoryLimitMb ? mib(1.5) : '1.5 x')
    .replace('{cap}', memoryLimitMb ? `its ${mib(2)} cap` : 'its cap');
}

/** The step's command: the trigger, or the deploy (naming the container when it is not the default). */
export function tourCommand(step: TourStep, demoUrl: string, demoName = 'medic-demo'): string {
  if (step.deploy) {
    const name = demoName === 'medic-demo' ? '' : `DEMO_CONTAINER_NAME=${demoName} `;
    return `${name}npm run demo:deploy -- ${step.deploy}`;
  }
  return `curl -X POST ${demoUrl}/trigger/${step.fault}`;
}

/** The tour as command lines with their comments, aligned; `mode` says which steps cannot work here. */
export function tourLines(
  demoUrl: string,
  mode: { engine: boolean; memoryLimitMb?: number; demoName?: string },
): string[] {
  const rows: Array<[string, string]> = [];
  for (const step of TOUR) {
    const unavailable =
      (step.needs === 'engine' && !mode.engine) || (step.needs === 'memory-limit' && !mode.memoryLimitMb);
    const words = unavailable
      ? 'needs a container engine and the engine watcher (and, for oom, a memory limit): not in this mode'
      : memoryWords(step.leadsTo, mode.memoryLimitMb);
    rows.push([tourCommand(step, demoUrl, mode.demoName), words]);
    if (step.check.thenDelete)
      rows.push([`curl -X DELETE ${demoUrl}/trigger/${step.fault}`, 'heals it (the setting is gone)']);
  }
  const width = Math.max(...rows.map(([command]) => command.length)) + 2;
  return rows.map(([command, words]) => `${command.padEnd(width)}# ${words}`);
}
