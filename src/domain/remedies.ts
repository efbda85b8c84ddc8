// The remedy catalogue: what Medic can do to a sick container, each with its risk, what it needs from the
// engine, the compare-and-act precondition checked again before acting, its inverse, and its words. Which
// remedies a target has is decided here, from its own labels and what the engine can do: a model may only
// name a remedy in the target's catalogue, never a command or a path. Pure (the workflows import it).
import { defaultNumber } from './settings-table.js';

/** A remedy's name, as the answer schema and plans spell it: `ACTION:<name>` for a declared service action. */
export type RemedyName = 'RESTART' | 'ROLLBACK' | 'RAISE_MEMORY' | 'NOOP' | 'ESCALATE' | `ACTION:${string}`;

export type Risk = 'low' | 'medium' | 'high';
export const RISKS: readonly Risk[] = ['low', 'medium', 'high'];

/** What the engine must be able to do for a remedy. */
export type EngineCapability = 'restart' | 'recreate' | 'update-limits' | 'exec';

/** The labels a managed container may carry to declare what Medic may do to it. */
export const REMEDY_LABELS = {
  /** `medic.action.<name>=<METHOD> <path>`: an HTTP request to the container's own address. */
  actionPrefix: 'medic.action.',
  /** `medic.plan.<alert type>=<remedy>,<remedy>,...`: the plan for that alert type, cheapest first. */
  planPrefix: 'medic.plan.',
  /** `medic.depends-on=<container>`: restarted (by its own incident) when it fails after that one's restart. */
  dependsOn: 'medic.depends-on',
  /** `medic.memory.max=<bytes or 512m>`: the most a memory raise may give. */
  memoryMax: 'medic.memory.max',
} as const;

/** A declared service action: an HTTP request to the container's own address, or an exact command. */
export type ServiceAction =
  | { name: string; kind: 'http'; method: 'GET' | 'POST' | 'PUT' | 'DELETE'; path: string; risk: Risk }
  | { name: string; kind: 'exec'; argv: string[]; risk: Risk };

const ACTION_NAME = /^[a-z0-9][a-z0-9-]{0,39}$/;
const HTTP_PATH = /^\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]{0,200}$/;

/** The service actions a container declares by label; a label that does not parse is refused, with why. */
export function declaredActions(labels: Readonly<Record<string, string>>): {
  actions: ServiceAction[];
  refused: string[];
} {
  const actions: ServiceAction[] = [];
  const refused: string[] = [];
  for (const [key, value] of Object.entries(labels)) {
    if (!key.startsWith(REMEDY_LABELS.actionPrefix) || key.endsWith('.risk')) continue;
    const rest = key.slice(REMEDY_LABELS.actionPrefix.length);
    const exec = rest.endsWith('.exec');
    const name = exec ? rest.slice(0, -'.exec'.length) : rest;
    if (!ACTION_NAME.test(name)) {
      refused.push(`${key}: an action name is lowercase letters, digits and -`);
      continue;
    }
    const riskLabel = labels[`${REMEDY_LABELS.actionPrefix}${name}.risk`];
    const risk: Risk = (RISKS as readonly string[]).includes(riskLabel ?? '')
      ? (riskLabel as Risk)
      : 'medium';
    if (exec) {
      const argv = parseArgv(value);
      if (!argv) refused.push(`${key}: expected a JSON list of strings, e.g. ["/app/bin/flush","--all"]`);
      else actions.push({ name, kind: 'exec', argv, risk });
      continue;
    }
    const [method, path, extra] = value.trim().split(/\s+/);
    if (
      !method ||
      !['GET', 'POST', 'PUT', 'DELETE'].includes(method) ||
      !path ||
      !HTTP_PATH.test(path) ||
      extra
    ) {
      refused.push(`${key}: expected "<GET|POST|PUT|DELETE> /path", e.g. "POST /admin/reset-pool"`);
      continue;
    }
    actions.push({ name, kind: 'http', method: method as 'GET' | 'POST' | 'PUT' | 'DELETE', path, risk });
  }
  return { actions: actions.sort((a, b) => a.name.localeCompare(b.name)), refused };
}

function parseArgv(text: string): string[] | undefined {
  try {
    const value: unknown = JSON.parse(text);
    if (!Array.isArray(value) || value.length === 0 || value.length > 32) return undefined;
    if (!value.every((v) => typeof v === 'string' && v.length > 0 && v.length <= 1000)) return undefined;
    return value as string[];
  } catch {
    return undefined;
  }
}

/** `512m`, `1g`, `268435456`: bytes, or undefined when it does not parse. */
export function parseBytes(text: string | undefined): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([kmg]i?b?|b)?\s*$/i.exec(text ?? '');
  if (!match) return undefined;
  const unit = (match[2] ?? 'b').toLowerCase()[0];
  const factor = unit === 'k' ? 1024 : unit === 'm' ? 1024 ** 2 : unit === 'g' ? 1024 ** 3 : 1;
  const bytes = Math.floor(Number(match[1]) * factor);
  return bytes > 0 ? bytes : undefined;
}

/** What the catalogue of one target is decided from: its labels, what it runs, what the engine can do. */
export interface RemedyContext {
  labels: Readonly<Record<string, string>>;
  capabilities: readonly EngineCapability[];
  /** The image it runs now, and the image it last ran verified healthy (if another, and still on the engine). */
  image?: {
    id: string;
    previousHealthy?: { id: string; name?: string; verifiedAt: string; present: boolean };
  };
  /** Its memory limit now (undefined: none), and the cap a raise may reach (the label, else the setting). */
  memory?: { limitBytes?: number; capBytes?: number };
}

/** A remedy the target has, and what the workflow needs to do it. */
export interface AvailableRemedy {
  name: RemedyName;
  risk: Risk;
  /** What it does, in words (the Web UI, notifications, the report): "restart payments". */
  words: string;
  /** What is checked again just before acting (compare-and-act), in words. */
  precondition: string;
  /** The remedy that undoes it, if it is not healed by it (rollback: put the bad container back). */
  inverse?: 'put-back' | 'restore-limit';
  /** A raise's new limit; a rollback's image; an action's declaration. */
  raiseTo?: number;
  toImage?: { id: string; name?: string };
  action?: ServiceAction;
  /** Why a person must agree whatever the policy says (a raise without a cap). */
  needsPerson?: string;
}

/** A memory raise multiplies the limit by this (MEDIC_MEMORY_RAISE_FACTOR). */
const RAISE_FACTOR = defaultNumber('MEDIC_MEMORY_RAISE_FACTOR');

/** Every remedy this target has now, by name; `NOOP` and `ESCALATE` always. */
export function catalogueFor(target: string, context: RemedyContext, raiseFactor = RAISE_FACTOR) {
  const remedies = new Map<RemedyName, AvailableRemedy>();
  const can = (c: EngineCapability) => context.capabilities.includes(c);
  if (can('restart')) {
    remedies.set('RESTART', {
      name: 'RESTART',
      risk: 'medium',
      words: `restart ${target}`,
      precondition: 'it still runs the process the diagnosis saw (its start time)',
    });
  }
  const previous = context.image?.previousHealthy;
  if (can('recreate') && context.image && previous && previous.id !== context.image.id && previous.present) {
    remedies.set('ROLLBACK', {
      name: 'ROLLBACK',
      risk: 'high',
      words: `roll ${target} back to the image it last ran healthy (${previous.name ?? previous.id.slice(0, 19)})`,
      precondition: `it still runs the image the diagnosis saw (${context.image.id.slice(0, 19)})`,
      inverse: 'put-back',
      toImage: { id: previous.id, ...(previous.name ? { name: previous.name } : {}) },
    });
  }
  const limit = context.memory?.limitBytes;
  if (can('update-limits') && limit) {
    const cap = context.memory?.capBytes;
    const wanted = Math.floor(limit * raiseFactor);
    const raiseTo = cap ? Math.min(wanted, cap) : wanted;
    if (raiseTo > limit) {
      remedies.set('RAISE_MEMORY', {
        name: 'RAISE_MEMORY',
        risk: 'high',
        words: `raise ${target}'s memory limit from ${mib(limit)} to ${mib(raiseTo)}`,
        precondition: `its limit is still ${mib(limit)}`,
        inverse: 'restore-limit',
        raiseTo,
        ...(cap
          ? {}
          : { needsPerson: `no cap is set (label ${REMEDY_LABELS.memoryMax}), so a person must agree` }),
      });
    }
  }
  for (const action of declaredActions(context.labels).actions) {
    if (action.kind === 'exec' && !can('exec')) continue;
    const how = action.kind === 'http' ? `${action.method} ${action.path}` : action.argv.join(' ');
    remedies.set(`ACTION:${action.name}`, {
      name: `ACTION:${action.name}`,
      risk: action.risk,
      words: `run ${target}'s own ${action.name} (${how})`,
      precondition: 'the container still declares it, and is the one the diagnosis saw',
      action,
    });
  }
  remedies.set('NOOP', {
    name: 'NOOP',
    risk: 'low',
    words: `leave ${target} as it is`,
    precondition: 'none',
  });
  remedies.set('ESCALATE', {
    name: 'ESCALATE',
    risk: 'low',
    words: `hand ${target} to a person`,
    precondition: 'none',
  });
  return remedies;
}

const mib = (bytes: number) => `${Math.round(bytes / 1024 / 1024)} MiB`;

/** A remedy name as a model or a label may write it: `reset-pool` for a declared action, `restart` for RESTART. */
export function remedyName(text: string): RemedyName | undefined {
  const word = text.trim();
  const upper = word.toUpperCase().replace(/-/g, '_');
  if (['RESTART', 'ROLLBACK', 'RAISE_MEMORY', 'NOOP', 'ESCALATE'].includes(upper)) return upper as RemedyName;
  const action = word.startsWith('ACTION:') ? word.slice('ACTION:'.length) : word;
  return ACTION_NAME.test(action) ? `ACTION:${action}` : undefined;
}
