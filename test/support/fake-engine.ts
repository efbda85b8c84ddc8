// A container engine in memory for the engine watch's tests: containers to inspect and list, and an
// event stream that yields the given events and then waits for the end of the run.
import type { ContainerInfo, WatchableRuntime } from '../../src/activities/containers.js';
import type { EngineEvent } from '../../src/domain/engine-events.js';

export const T0 = Date.parse('2026-01-01T00:00:00Z');

export function container(name: string, overrides: Partial<ContainerInfo> = {}): ContainerInfo {
  return {
    id: `${name}-id`,
    name,
    labels: {},
    managed: true,
    state: 'exited',
    running: false,
    startedAt: new Date(T0 - 60_000).toISOString(),
    restartCount: 0,
    exitCode: 1,
    oomKilled: false,
    ...overrides,
  };
}

export function death(name: string, atMs: number): EngineEvent {
  return {
    action: 'die',
    containerId: `${name}-id`,
    name,
    attributes: { name },
    timeNano: atMs * 1e6,
    exitCode: 1,
  };
}

/** An engine with the given containers whose stream yields these events, then waits for the end of the run. */
export function fakeEngine(
  containers: ContainerInfo[],
  events: EngineEvent[] = [],
  logs: (name: string) => string[] = (name) => [`last words of ${name}`],
): WatchableRuntime {
  const byId = new Map(containers.flatMap((c) => [[c.id, c] as const, [c.name, c] as const]));
  return {
    kind: 'docker-engine',
    inspect: async (name) => byId.get(name),
    restart: async () => undefined,
    logs: async (name) => logs(byId.get(name)?.name ?? name),
    listManaged: async () => containers,
    resourceCounters: async () => ({}),
    async *events(options) {
      for (const event of events)
        if (event.timeNano >= Math.floor(options.sinceNano / 1e9) * 1e9) yield event;
      await new Promise((resolve) => options.signal.addEventListener('abort', resolve, { once: true }));
    },
  };
}
