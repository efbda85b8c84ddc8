// Who may speak for which containers: a sender's scope is a list of `<target glob>@<host>` pairs. The glob
// is over container names (`*` any run of characters, `?` one character, anything else itself); the host
// is a host name, exactly, or `*` for every host. The webhook's named senders and the Alertmanager tokens
// carry scopes; an alert about a target outside its sender's scope is refused before anything starts.
import { HOST_NAME_PATTERN, LOCAL_HOST } from './naming.js';

export interface SenderScope {
  /** A glob over container names. */
  target: string;
  /** A host name, or `*`. */
  host: string;
}

/** Every target on every host: the plain webhook secret's scope, and a token's without one. */
export const ANY_TARGET: SenderScope = { target: '*', host: '*' };

const TARGET_GLOB = /^[a-zA-Z0-9_.*?-]{1,128}$/;

/** A `<target glob>@<host>` pair, or the reason it is not one (which never repeats a secret). */
export function parseScope(text: string): SenderScope | string {
  const at = text.lastIndexOf('@');
  const target = text.slice(0, at);
  const host = text.slice(at + 1);
  if (at <= 0) return 'a scope is <target glob>@<host>, e.g. payments-*@* or medic-demo@local';
  if (!TARGET_GLOB.test(target))
    return `the target glob ${JSON.stringify(target.slice(0, 130))} may use letters, digits, _ . - and the wildcards * and ?`;
  if (host !== '*' && !HOST_NAME_PATTERN.test(host))
    return `the host ${JSON.stringify(host.slice(0, 70))} must be a host name or *`;
  return { target, host };
}

const globCache = new Map<string, RegExp>();

function globPattern(glob: string): RegExp {
  let pattern = globCache.get(glob);
  if (!pattern) {
    const body = [...glob]
      .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.\\^$+{}()|[\]-]/g, '\\$&')))
      .join('');
    pattern = new RegExp(`^${body}$`, 's');
    if (globCache.size < 1000) globCache.set(glob, pattern);
  }
  return pattern;
}

export function globMatches(glob: string, name: string): boolean {
  return globPattern(glob).test(name);
}

/** Whether any of `scopes` covers the target on the host (`local` when the alert names none). */
export function inScope(scopes: readonly SenderScope[], target: string, host: string = LOCAL_HOST): boolean {
  return scopes.some((s) => (s.host === '*' || s.host === host) && globMatches(s.target, target));
}

export const describeScopes = (scopes: readonly SenderScope[]) =>
  scopes.map((s) => `${s.target}@${s.host}`).join(', ');

/** What a 403 says: who asked about what, and what it may speak for. */
export function outOfScope(
  sender: string,
  scopes: readonly SenderScope[],
  target: string,
  host: string = LOCAL_HOST,
): string {
  return `sender ${sender} may not speak for ${target} on host ${host}; it speaks for ${describeScopes(scopes)}`;
}

/** A named webhook sender (MEDIC_WEBHOOK_SENDERS): its own secret, and the targets it may speak for. */
export interface WebhookSenderSetting {
  name: string;
  secret: string;
  scopes: SenderScope[];
}

/** A named bearer token with the targets it may speak for; none given: every target. */
export interface ScopedToken {
  name: string;
  token: string;
  scopes?: SenderScope[];
}

/** The name the plain MEDIC_WEBHOOK_SECRET speaks under: incidents it opens record it as their sender. */
export const PLAIN_SECRET_SENDER = 'webhook-secret';
export const SENDER_NAME_PATTERN = /^[a-z0-9_-]{1,64}$/;
export const MIN_SENDER_SECRET_LENGTH = 16;

const scopesOf = (text: string, who: string): SenderScope[] => {
  const items = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (items.length === 0) throw new Error(`sender ${who}: name at least one <target glob>@<host>`);
  return items.map((item) => {
    const scope = parseScope(item);
    if (typeof scope === 'string') throw new Error(`sender ${who}: ${scope}`);
    return scope;
  });
};

/**
 * `name:secret:glob@host[,glob@host...]`, entries separated by `;`. The secret is what lies between the
 * first and the last colon, so it may hold colons (never `;`). Errors name the sender, never its secret.
 */
export function parseWebhookSenders(text: string): WebhookSenderSetting[] {
  const senders: WebhookSenderSetting[] = [];
  const entries = text
    .split(';')
    .map((e) => e.trim())
    .filter(Boolean);
  for (const [i, entry] of entries.entries()) {
    const first = entry.indexOf(':');
    const last = entry.lastIndexOf(':');
    if (first <= 0 || last === first)
      throw new Error(
        `entry ${i + 1} is not name:secret:<target glob>@<host>[,...] (entries are separated by ;)`,
      );
    const name = entry.slice(0, first);
    if (!SENDER_NAME_PATTERN.test(name))
      throw new Error(`entry ${i + 1}: a sender name is 1-64 of a-z 0-9 _ -`);
    if (name === PLAIN_SECRET_SENDER)
      throw new Error(`sender ${name}: the name is the plain MEDIC_WEBHOOK_SECRET's; choose another`);
    if (senders.some((s) => s.name === name)) throw new Error(`sender ${name} is named twice`);
    const secret = entry.slice(first + 1, last);
    if (secret.length < MIN_SENDER_SECRET_LENGTH)
      throw new Error(`sender ${name}: its secret needs at least ${MIN_SENDER_SECRET_LENGTH} characters`);
    if (senders.some((s) => s.secret === secret))
      throw new Error(`sender ${name}: its secret is another sender's; give each sender its own`);
    senders.push({ name, secret, scopes: scopesOf(entry.slice(last + 1), name) });
  }
  return senders;
}

const TOKEN_NAME = /^[\w.@-]{1,64}$/;
const LOOKS_LIKE_SCOPE = /^[a-zA-Z0-9_.*?-]+@([a-zA-Z0-9][a-zA-Z0-9_.-]*|\*)$/;

/**
 * `name:token[:glob@host],...`. A last part that reads as `<glob>@<host>` is the scope; without one the
 * token speaks for every target. Errors name the token's name, never the token.
 */
export function parseScopedTokens(text: string): ScopedToken[] {
  const tokens: ScopedToken[] = [];
  const parts = text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  for (const [i, part] of parts.entries()) {
    const sep = part.indexOf(':');
    const name = part.slice(0, sep).trim();
    if (sep <= 0 || !TOKEN_NAME.test(name))
      throw new Error(
        `entry ${i + 1}: expected name:token[:<target glob>@<host>] separated by commas; names are [A-Za-z0-9_.@-]`,
      );
    let token = part.slice(sep + 1).trim();
    let scopes: SenderScope[] | undefined;
    const last = token.lastIndexOf(':');
    if (last > 0 && LOOKS_LIKE_SCOPE.test(token.slice(last + 1))) {
      scopes = scopesOf(token.slice(last + 1), name);
      token = token.slice(0, last);
    }
    if (token.length < MIN_SENDER_SECRET_LENGTH)
      throw new Error(`token ${name}: a token needs at least ${MIN_SENDER_SECRET_LENGTH} characters`);
    tokens.push({ name, token, ...(scopes ? { scopes } : {}) });
  }
  return tokens;
}
