// Where a target's last healthy image is kept: its guard workflow (`guard:<host>:<target>`), which outlives
// every worker. Host workers read it for a diagnosis's evidence (what a rollback would go back to) and tell
// it when they verify a target healthy on another image, after an incident or on the sweep: only when it
// changed, so a sweep every 15 s sends nothing while nothing is deployed.
import { type Client, WorkflowNotFoundError } from '@temporalio/client';
import type { HealthyImage } from '../domain/guard.js';
import { guardWorkflowId } from '../domain/naming.js';
import { guardStateQuery, healthyImageSignal } from '../workflows/messages.js';
import { WORKFLOW_TYPES } from '../workflows/workflow-types.js';
import type { HealthyImages } from './healthy-image-port.js';

const DEADLINE_MS = 5000;
/** Targets whose last told image is remembered in this process (the guard is the record; this saves calls). */
const REMEMBERED = 1000;

export class HealthyImageGateway implements HealthyImages {
  private readonly told = new Map<string, string>();

  constructor(
    private readonly client: Client,
    /** The queue the guards run on: the central one. */
    private readonly taskQueue: string,
    private readonly host: string,
  ) {}

  async lastHealthy(target: string): Promise<HealthyImage | undefined> {
    try {
      const snapshot = await this.client.withDeadline(Date.now() + DEADLINE_MS, () =>
        this.client.workflow.getHandle(guardWorkflowId(target, this.host)).query(guardStateQuery),
      );
      if (snapshot.healthyImage) this.remember(target, snapshot.healthyImage.id);
      return snapshot.healthyImage;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError || (err as { code?: number }).code === 5) return undefined;
      throw err;
    }
  }

  async verified(target: string, image: { id: string; name?: string }): Promise<void> {
    if (this.told.get(target) === image.id) return;
    const known = await this.lastHealthy(target);
    if (known?.id === image.id) return;
    const record: HealthyImage = {
      id: image.id,
      ...(image.name ? { name: image.name } : {}),
      verifiedAt: new Date().toISOString(),
    };
    await this.client.withDeadline(Date.now() + DEADLINE_MS, () =>
      this.client.workflow.signalWithStart(WORKFLOW_TYPES.guard, {
        workflowId: guardWorkflowId(target, this.host),
        taskQueue: this.taskQueue,
        args: [{ target }],
        signal: healthyImageSignal,
        signalArgs: [record],
        staticSummary: `guard · ${target}: one action at a time, cooldown, hourly limit, breaker`,
      }),
    );
    this.remember(target, image.id);
  }

  private remember(target: string, imageId: string) {
    this.told.delete(target);
    this.told.set(target, imageId);
    if (this.told.size > REMEMBERED) this.told.delete(this.told.keys().next().value as string);
  }
}
