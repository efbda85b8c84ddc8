// Who signs webhooks: named senders (MEDIC_WEBHOOK_SENDERS), each with its own secret and the targets it
// may speak for, and the plain MEDIC_WEBHOOK_SECRET, the sender `webhook-secret` that speaks for every
// target. A request names its sender in X-Medic-Sender (the plain secret needs none), and its signature is
// checked with that sender's secret only.
import type { Request } from 'express';
import {
  ANY_TARGET,
  PLAIN_SECRET_SENDER,
  SENDER_NAME_PATTERN,
  type SenderScope,
  type WebhookSenderSetting,
} from '../domain/sender-scope.js';
import { HttpError } from './errors.js';
import {
  checkSignatureHeaders,
  SENDER_HEADER,
  SIGNATURE_HEADER,
  signatureMatches,
  TIMESTAMP_HEADER,
} from './webhook-signature.js';

export interface WebhookSender {
  name: string;
  scopes: readonly SenderScope[];
}

/** A request whose headers passed: the sender it names and its signature, not yet checked against the body. */
export interface SignedClaim {
  sender: WebhookSender & { secret: string };
  signature: string;
  timestampSeconds: number;
}

const refuse = (code: string, message: string) => new HttpError(401, code, message);

export class WebhookSenders {
  private readonly byName = new Map<string, WebhookSender & { secret: string }>();
  private readonly plain: (WebhookSender & { secret: string }) | undefined;

  constructor(senders: readonly WebhookSenderSetting[], plainSecret?: string) {
    for (const s of senders) this.byName.set(s.name, { name: s.name, secret: s.secret, scopes: s.scopes });
    this.plain = plainSecret
      ? { name: PLAIN_SECRET_SENDER, secret: plainSecret, scopes: [ANY_TARGET] }
      : undefined;
  }

  get configured(): boolean {
    return this.plain !== undefined || this.byName.size > 0;
  }

  /** Before the body is read: the sender named, and signature headers present, well formed and fresh. */
  claim(req: Request, nowMs: number): SignedClaim {
    const named = req.header(SENDER_HEADER);
    const sender = named === undefined ? this.plain : this.named(named);
    if (!sender) {
      throw refuse(
        'missing_sender',
        `missing ${SENDER_HEADER} header: name the sender whose secret signed the request (MEDIC_WEBHOOK_SENDERS)`,
      );
    }
    const headers = checkSignatureHeaders({
      signature: req.header(SIGNATURE_HEADER),
      timestamp: req.header(TIMESTAMP_HEADER),
      nowMs,
    });
    if (!headers.ok) throw refuse('invalid_signature', headers.reason);
    return { sender, signature: headers.signature, timestampSeconds: headers.timestampSeconds };
  }

  /** The claim against the body, with the named sender's secret only. */
  verify(claim: SignedClaim, rawBody: Buffer): WebhookSender {
    if (!signatureMatches(claim.sender.secret, claim.timestampSeconds, rawBody, claim.signature)) {
      throw refuse(
        'invalid_signature',
        `signature does not match the body; sign it with the secret of sender ${claim.sender.name}`,
      );
    }
    return { name: claim.sender.name, scopes: claim.sender.scopes };
  }

  private named(name: string): (WebhookSender & { secret: string }) | undefined {
    if (name === PLAIN_SECRET_SENDER && this.plain) return this.plain;
    const sender = SENDER_NAME_PATTERN.test(name) ? this.byName.get(name) : undefined;
    if (!sender)
      throw refuse(
        'unknown_sender',
        `${SENDER_HEADER} names no sender this Medic knows (MEDIC_WEBHOOK_SENDERS)`,
      );
    return sender;
  }
}
