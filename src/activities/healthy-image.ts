// Verified healthy: the image a target runs is what a later rollback goes back to, so its guard is told
// (through the HealthyImages port, only when it changed). Best effort: it never fails the check that saw it.
import type { Logger } from '../logger.js';
import type { HealthyImages } from '../temporal/healthy-image-port.js';
import type { ContainerInfo } from './containers.js';

export async function noteHealthyImage(
  deps: { healthyImages?: HealthyImages; logger: Logger },
  info: ContainerInfo | undefined,
): Promise<void> {
  if (!deps.healthyImages || !info?.imageId || !info.managed) return;
  try {
    await deps.healthyImages.verified(info.name, {
      id: info.imageId,
      ...(info.image ? { name: info.image } : {}),
    });
  } catch (err) {
    deps.logger.warn(
      { target: info.name, error: (err as Error).message },
      'could not record the healthy image',
    );
  }
}
