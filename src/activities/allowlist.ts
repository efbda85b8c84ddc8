// The target allowlist: Medic touches only containers that exist under the exact name the alert gave,
// carry the managed label, and are neither the Temporal server nor Medic itself. Checked before
// diagnosis; restartContainer checks the name and label again at the moment of acting.
import { hostname } from 'node:os';
import type { ContainerInfo, ContainerRuntime } from './containers.js';

export type TargetCheck = { allowed: true } | { allowed: false; reason: string };

/** Names Medic never acts on, whatever their labels say: its own parts and Temporal's. */
export const DEFAULT_PROTECTED_CONTAINERS = [
  'temporal',
  'temporal-server',
  'temporal-ui',
  'temporal-admin-tools',
  'medic',
  'medic-api',
  'medic-worker',
];

/** The built-in protected names plus the operator's (MEDIC_PROTECTED_CONTAINERS). */
export function allowlistNames(config: { protectedContainers: readonly string[] }): string[] {
  return [...DEFAULT_PROTECTED_CONTAINERS, ...config.protectedContainers];
}

/** temporalio/server, temporalio/auto-setup, temporal:latest, ghcr.io/x/temporal-server:1.2 ... */
const TEMPORAL_IMAGE = /(^|\/)temporalio\/|(^|\/)temporal(-server)?(:|@|$)/i;

export interface AllowlistOptions {
  /** Only for the message: the runtime already knows whether a container carries it. */
  managedLabel?: { key: string; value: string };
  protectedNames?: readonly string[];
  /** The host name of the process running the check; inside a container it is the container id. */
  selfHostname?: string;
}

function isMedicItself(info: ContainerInfo, self: string): boolean {
  if (!self) return false;
  return info.name === self || (/^[0-9a-f]{12,64}$/.test(self) && info.id.startsWith(self));
}

export function judgeTarget(
  name: string,
  info: ContainerInfo | undefined,
  options: AllowlistOptions,
): TargetCheck {
  const label = options.managedLabel
    ? `the label ${options.managedLabel.key}=${options.managedLabel.value}`
    : 'the managed label';
  const protectedNames = options.protectedNames ?? DEFAULT_PROTECTED_CONTAINERS;
  if (protectedNames.includes(name)) {
    return { allowed: false, reason: `${name} is one of Medic's protected containers (Medic or Temporal)` };
  }
  if (!info) return { allowed: false, reason: `container ${name} does not exist on the engine` };
  // The engine also resolves an id or id prefix: judge the container it resolved, and only ever by
  // the exact name the alert gave, so `abcdef012345` can never stand in for a protected `payments-db`.
  if (info.name !== name) {
    const protectedToo = protectedNames.includes(info.name) ? `, one of Medic's protected containers` : '';
    return {
      allowed: false,
      reason: `${name} is not a container name: the engine resolved it to ${info.name} (${info.id.slice(0, 12)})${protectedToo}; Medic acts only on a container the alert names exactly`,
    };
  }
  if (info.image && TEMPORAL_IMAGE.test(info.image)) {
    return { allowed: false, reason: `container ${name} runs the Temporal server (${info.image})` };
  }
  if (isMedicItself(info, options.selfHostname ?? hostname())) {
    return { allowed: false, reason: `container ${name} is Medic itself` };
  }
  if (!info.managed) {
    return { allowed: false, reason: `container ${name} lacks ${label}; Medic may not touch it` };
  }
  return { allowed: true };
}

export async function checkTarget(
  runtime: ContainerRuntime,
  name: string,
  options: AllowlistOptions,
): Promise<TargetCheck> {
  return judgeTarget(name, await runtime.inspect(name), options);
}
