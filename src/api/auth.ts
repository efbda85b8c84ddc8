// Named bearer tokens, compared in constant time. The name is who acted: `decidedBy` for approvals,
// the sender for Alertmanager. Each door has its own token set: no token opens another door.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';
import type { ScopedToken } from '../domain/sender-scope.js';
import { HttpError } from './errors.js';

export interface NamedToken {
  name: string;
  token: string;
}
export type ApproverToken = NamedToken;

const digest = (value: string) => createHash('sha256').update(value).digest();

export class BearerTokens<T extends NamedToken = NamedToken> {
  private readonly tokens: Array<{ entry: T; digest: Buffer }>;

  constructor(
    tokens: readonly T[],
    private readonly door: { realm: string; purpose: string; setting: string },
  ) {
    this.tokens = tokens.map((t) => ({ entry: t, digest: digest(t.token) }));
  }

  /** The token's name; 401 without credentials, 403 with wrong ones. */
  authenticate(req: Request): string {
    return this.identify(req).name;
  }

  /** The token's entry (its name and whatever else it carries); 401 without credentials, 403 with wrong ones. */
  identify(req: Request): T {
    const challenge = { 'WWW-Authenticate': `Bearer realm="${this.door.realm}"` };
    const header = req.headers.authorization;
    if (!header) {
      throw new HttpError(
        401,
        'unauthenticated',
        `${this.door.purpose} need a token: Authorization: Bearer <token>`,
        undefined,
        challenge,
      );
    }
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match?.[1]) {
      throw new HttpError(
        401,
        'unauthenticated',
        'Authorization header must be "Bearer <token>"',
        undefined,
        challenge,
      );
    }
    if (this.tokens.length === 0) {
      throw new HttpError(
        403,
        'forbidden',
        `${this.door.purpose} are disabled: no ${this.door.setting} configured`,
      );
    }
    // Hashing first gives equal-length buffers, and every candidate is compared: constant time.
    const given = digest(match[1]);
    let found: T | undefined;
    for (const candidate of this.tokens) {
      if (timingSafeEqual(candidate.digest, given) && found === undefined) found = candidate.entry;
    }
    if (found === undefined)
      throw new HttpError(403, 'forbidden', `this token is not valid for ${this.door.purpose}`);
    return found;
  }
}

/** Who may approve or reject incidents (MEDIC_APPROVER_TOKENS). */
export class ApproverAuth extends BearerTokens {
  constructor(tokens: readonly ApproverToken[]) {
    super(tokens, {
      realm: 'medic-approvals',
      purpose: 'approvals',
      setting: 'MEDIC_APPROVER_TOKENS',
    });
  }
}

/**
 * Who may read incidents, reports, guards and metrics: viewers (MEDIC_VIEWER_TOKENS) and approvers,
 * since whoever may decide must see what they decide on.
 */
export class ViewerAuth extends BearerTokens {
  constructor(viewers: readonly NamedToken[], approvers: readonly ApproverToken[]) {
    super([...viewers, ...approvers], {
      realm: 'medic-read',
      purpose: 'reading incidents, guards and metrics',
      setting: 'MEDIC_VIEWER_TOKENS',
    });
  }
}

/** Who may send Alertmanager notifications (MEDIC_ALERTMANAGER_TOKENS), and for which targets. */
export class AlertmanagerAuth extends BearerTokens<ScopedToken> {
  constructor(tokens: readonly ScopedToken[]) {
    super(tokens, {
      realm: 'medic-alertmanager',
      purpose: 'Alertmanager notifications',
      setting: 'MEDIC_ALERTMANAGER_TOKENS',
    });
  }
}
