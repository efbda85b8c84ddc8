// End-to-end tests need a container engine. Without one they skip with a message, but only when
// CI is unset: in CI a missing engine is a failure, never a silent skip.
import { inject } from 'vitest';
import type { Engine } from '../../scripts/engine.js';
import { createDockerClient } from '../../src/activities/containers.js';

export function engineOrSkip(): { engine?: Engine; skipReason?: string } {
  const dockerHost = inject('dockerHost');
  const demoImage = inject('demoImage');
  if (dockerHost && demoImage) {
    return {
      engine: {
        dockerHost,
        docker: createDockerClient(dockerHost),
        product: 'test engine',
        stop: async () => {},
      },
    };
  }
  const problem = inject('engineProblem') ?? 'no container engine';
  if (process.env.CI) throw new Error(`end-to-end tests need a container engine in CI: ${problem}`);
  console.warn(`[e2e] skipping end-to-end tests: ${problem} (set up one with npm run setup:engine)`);
  return { skipReason: problem };
}
