// Secrets out of log text before it goes anywhere near a model. Patterns err on the side of
// redacting: a lost detail costs less than a leaked key.

const REDACTED = '[REDACTED]';

const PATTERNS: ReadonlyArray<[RegExp, string]> = [
  // PEM private keys, whole blocks.
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z ]*PRIVATE KEY-----|$)/g, REDACTED],
  // Credentials inside connection strings: scheme://user:password@host keeps the user.
  [/\b([a-z][a-z0-9+.-]*:\/\/[^\s:@/'"]*):[^\s@/'"]+@/gi, `$1:${REDACTED}@`],
  // Authorization headers and bearer/basic tokens.
  [/\b(bearer|basic|token)\s+[A-Za-z0-9._~+/-]{8,}=*/gi, `$1 ${REDACTED}`],
  // JSON web tokens.
  [/\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}/g, REDACTED],
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
    /((?:pass(?:word|wd|phrase)?|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|client[_-]?secret|credentials?|auth)["']?\s*[:=]\s*["']?)(?!\[REDACTED\])[^\s"',;&}]+/gi,
    `$1${REDACTED}`,
  ],
];

export function redactSecrets(text: string): string {
  let out = text;
  for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement);
  return out;
}
