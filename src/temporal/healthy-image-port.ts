// The healthy-image port: what host activities need from where a target's last healthy image is kept (its
// guard). HealthyImageGateway is the real one; kept apart so activities depend on the port only.
import type { HealthyImage } from '../domain/guard.js';

/** Read for a diagnosis; told when a target is verified healthy on another image. */
export interface HealthyImages {
  /** The image the target last ran verified healthy, if any is known. */
  lastHealthy(target: string): Promise<HealthyImage | undefined>;
  /** The target is healthy on this image now: its guard is told when that is news. */
  verified(target: string, image: { id: string; name?: string }): Promise<void>;
}
