// Approver tokens: named bearer tokens, compared in constant time. The name is who decided.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';
import { HttpError } from './errors.js';

export interface ApproverToken {
  name: string;
  token: string;
}

const digest = (value: string) => createHash('sha256').update(value).digest();

export class ApproverAuth {
  private readonly tokens: Array<{ name: string; digest: Buffer }>;

  constructor(tokens: readonly ApproverToken[]) {
    this.tokens = tokens.map((t) => ({ name: t.name, digest: digest(t.token) }));
  }

  /** The approver's name; 401 without credentials, 403 with wrong ones. */
  authenticate(req: Request): string {
    const header = req.headers.authorization;
    if (!header) {
      throw new HttpError(
        401,
        'unauthenticated',
        'approvals need an approver token: Authorization: Bearer <token>',
        undefined,
        {
          'WWW-Authenticate': 'Bearer realm="medic-approvals"',
        },
      );
    }
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match?.[1]) {
      throw new HttpError(
        401,
        'unauthenticated',
        'Authorization header must be "Bearer <token>"',
        undefined,
        {
          'WWW-Authenticate': 'Bearer realm="medic-approvals"',
        },
      );
    }
    if (this.tokens.length === 0) {
      throw new HttpError(
        403,
        'forbidden',
        'approvals through the API are disabled: no MEDIC_APPROVER_TOKENS configured',
      );
    }
    // Hashing first gives equal-length buffers, so every comparison takes the same time.
    const given = digest(match[1]);
    let name: string | undefined;
    for (const candidate of this.tokens) {
      if (timingSafeEqual(candidate.digest, given) && name === undefined) name = candidate.name;
    }
    if (name === undefined)
      throw new HttpError(403, 'forbidden', 'this token may not approve or reject incidents');
    return name;
  }
}
