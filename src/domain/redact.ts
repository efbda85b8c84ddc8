// Secrets out of text from outside before Medic signals, stores, logs or prompts with it. Patterns err
// on the side of redacting: a lost detail costs less than a leaked key.
//
// Every pattern runs in time linear in its input, whatever the input: a pattern whose run of characters
// is followed by something the match still needs (a `://`, a `.`, an `@`) is anchored where it can only
// start once per run (a lookbehind) and bounded, so a long run is scanned once, not once per position
// in it (repeated `a.` once took 1.9 s at 64 K characters). A run that ends a pattern may be unbounded: the
// match succeeds where it stops and never backtracks into it.

export const REDACTED = '[REDACTED]';

const PATTERNS: ReadonlyArray<[RegExp, string]> = [
  // PEM private keys, whole blocks (to the end of the text when the block was cut).
  [/-----BEGIN [A-Z ]{0,64}PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]{0,64}PRIVATE KEY-----|$)/g, REDACTED],
  // Credentials inside connection strings: scheme://user:password@host keeps the user. Anchored on the
  // `://` (the scheme is looked behind at), so a run of scheme-like text is never scanned from each of
  // its positions; a password longer than 512 characters is not one anybody types.
  [/(?<=[a-z0-9+.-]:\/\/)([^\s:@/'"]{0,256}):[^\s@/'"]{1,512}@/gi, `$1:${REDACTED}@`],
  // Authorization headers and bearer/basic tokens; `=` inside too, so a `key=value` after the word
  // goes whole rather than leaving its value.
  [/\b(bearer|basic|token)\s{1,16}[A-Za-z0-9._~+/=-]{8,}/gi, `$1 ${REDACTED}`],
  // JSON web tokens.
  [/(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{5,8192}\.[A-Za-z0-9_-]{5,8192}\.[A-Za-z0-9_-]{5,}/g, REDACTED],
  // Well-known key shapes: AWS access keys, Google API keys, GitHub, Slack, OpenAI/Anthropic-style, Stripe.
  [/\b(AKIA|ASIA)[0-9A-Z]{16}\b/g, REDACTED],
  [/\bAIza[0-9A-Za-z_-]{35}\b/g, REDACTED],
  [/\bgh[pousr]_[A-Za-z0-9]{20,}\b/g, REDACTED],
  [/\bgithub_pat_[A-Za-z0-9_]{20,}\b/g, REDACTED],
  [/\bxox[abposr]-[A-Za-z0-9-]{10,}/g, REDACTED],
  [/\bsk-[A-Za-z0-9_-]{16,}/g, REDACTED],
  [/\b[rs]k_(live|test)_[A-Za-z0-9]{10,}/g, REDACTED],
  // key=value and "key": "value" where the key names a secret (password, api_key, secret, token ...).
  [
    /((?:pass(?:word|wd|phrase)?|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|client[_-]?secret|credentials?|auth)["']?\s{0,16}[:=]\s{0,16}["']?)(?!\[REDACTED\])[^\s"',;&}]+/gi,
    `$1${REDACTED}`,
  ],
];

/** The text with every secret it recognises replaced by `[REDACTED]`; idempotent. */
export function redactSecrets(text: string): string {
  let out = text;
  for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement);
  return out;
}
