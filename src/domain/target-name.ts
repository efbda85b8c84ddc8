// What a sender may name as a target. A name outside Docker's own alphabet never reaches an id, a
// query or the engine: the incident runs under a sanitised stand-in and escalates with the reason.
import { TARGET_NAME_PATTERN } from './naming.js';
import { redactSecrets } from './redact.js';

export type TargetName = { ok: true; name: string } | { ok: false; standIn: string; reason: string };

const CONTROL = /[\p{Cc}\p{Cf}]/u;
const PATH = /[/\\]|\.\./;
const SHELL = /[;&|`$<>(){}[\]*?!~'"#\s]/;
const SHOWN_CHARS = 80;

/** FNV-1a: a short, stable tag so the same bad name always maps to the same incident. */
function fnv1a(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, '0');
}

/** The name as it can be shown safely: JSON-escaped (control characters visible) and truncated. */
export function showUntrusted(text: string): string {
  const cut = text.length > SHOWN_CHARS ? `${text.slice(0, SHOWN_CHARS)}...` : text;
  // JSON escapes C0 controls only; DEL, C1 controls and invisible format characters (bidi overrides)
  // are escaped too, so a shown name cannot rewrite a terminal or reorder the text around it.
  return JSON.stringify(cut).replace(
    /[\p{Cc}\p{Cf}]/gu,
    (c) => `\\u${(c.codePointAt(0) ?? 0).toString(16).padStart(4, '0')}`,
  );
}

function whatIsWrong(raw: string): string {
  if (raw.length === 0) return 'is empty';
  if (CONTROL.test(raw)) return 'contains control characters';
  if (PATH.test(raw)) return 'contains path characters';
  if (SHELL.test(raw)) return 'contains shell characters or spaces';
  if (raw.length > 128) return 'is longer than 128 characters';
  return 'is not a container name (letters, digits, _ . - and starting with a letter or digit)';
}

export function checkTargetName(
  raw: string | undefined,
  missingReason = 'the alert names no target',
): TargetName {
  if (raw !== undefined && TARGET_NAME_PATTERN.test(raw)) return { ok: true, name: raw };
  if (raw === undefined) return { ok: false, standIn: 'unnamed-target', reason: missingReason };
  return {
    ok: false,
    standIn: `rejected-target-${fnv1a(raw)}`,
    // Redacted before it is cut for showing: a cut secret would slip past the patterns.
    reason: `target name ${showUntrusted(redactSecrets(raw))} ${whatIsWrong(raw)}; Medic never acts on it`,
  };
}
