// Redaction over the worst shapes of text: what it produces, whatever the input (the time it takes is
// measured by `npm run bench:redaction`, never asserted here).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_LOG_LIMITS, utf8Bytes } from '../../src/domain/log-bounds.js';
import { canonicalSignature, errorSignature } from '../../src/domain/log-signature.js';
import { REDACTED, redactSecrets } from '../../src/domain/redact.js';
import { sanitiseLogLines } from '../../src/domain/sanitise.js';

const alnum = (min: number, max: number) => fc.stringMatching(new RegExp(`^[A-Za-z0-9]{${min},${max}}$`));

/** A secret and the text it sits in. */
const secret = fc.oneof(
  fc
    .tuple(fc.constantFrom('postgres', 'mongodb+srv', 'redis', 'amqp'), alnum(1, 12), alnum(8, 40))
    .map(([scheme, user, pw]) => ({ value: `Pw${pw}`, text: `${scheme}://${user}:Pw${pw}@db:5432/app` })),
  alnum(36, 36).map((t) => ({ value: `ghp_${t}`, text: `ghp_${t}` })),
  alnum(8, 40).map((v) => ({ value: `Pw${v}`, text: `password=Pw${v}` })),
  alnum(20, 40).map((v) => ({ value: v, text: `Authorization: Bearer ${v}` })),
);

/** Runs that once made a pattern backtrack from each of their positions, and nested quotes. */
const worstShape = fc
  .tuple(
    fc.constantFrom(
      'a.',
      'a:',
      'a@',
      '://',
      'a-',
      'eyJ-',
      'eyJaa.',
      'Ab3_',
      'password ',
      'token ',
      `"'`,
      `'"{`,
    ),
    fc.integer({ min: 1, max: 4000 }),
  )
  .map(([unit, times]) => unit.repeat(times));

const separator = fc.constantFrom(' ', '\t', ', ', '; ', ' "', "' ", ' (');

const text = fc
  .array(fc.tuple(worstShape, separator, secret, separator), { minLength: 1, maxLength: 4 })
  .map((parts) => ({
    text: parts.map(([noise, before, s, after]) => `${noise}${before}${s.text}${after}`).join(''),
    secrets: parts.map(([, , s]) => s.value),
  }));

describe('redaction is linear', () => {
  it('removes every secret from the worst shapes, idempotently, with output of bounded length', () => {
    fc.assert(
      fc.property(text, ({ text, secrets }) => {
        const out = redactSecrets(text);
        for (const s of secrets) expect(out).not.toContain(s);
        expect(redactSecrets(out)).toBe(out);
        // Each replacement is at most REDACTED's length longer than what it replaced.
        expect(out.length).toBeLessThanOrEqual(text.length + secrets.length * REDACTED.length);
      }),
      { numRuns: 200 },
    );
  });

  it('keeps the worst shapes at 64 K characters bounded at ingest: cut first, then redacted', () => {
    for (const unit of ['a.', 'a-', 'a:', 'a@', '://', 'eyJ-', 'eyJaa.', 'Ab3_', 'password ', `"'`]) {
      const raw = unit.repeat(Math.ceil((64 * 1024) / unit.length));
      const lines = sanitiseLogLines([raw, `${raw} password=Pw0123456789`], DEFAULT_LOG_LIMITS);
      for (const line of lines) expect(line.length).toBeLessThanOrEqual(DEFAULT_LOG_LIMITS.maxLineChars);
      expect(utf8Bytes(lines.join('\n'))).toBeLessThanOrEqual(DEFAULT_LOG_LIMITS.maxBytes);
      expect(lines.join('\n')).not.toContain('Pw0123456789');
      expect(sanitiseLogLines(lines, DEFAULT_LOG_LIMITS)).toEqual(lines);
    }
  });

  it('still finds a connection string behind a long run of scheme-like text', () => {
    const out = redactSecrets(`${'a.'.repeat(100)}postgres://app:S3cretPassw0rd@db:5432/app`);
    expect(out).not.toContain('S3cretPassw0rd');
    expect(out).toContain(`postgres://app:${REDACTED}@db:5432/app`);
  });
});

describe('fixes learned under old signatures keep matching', () => {
  const raw = '{"level":"error","msg":"connect failed postgres://app:S3cretPassw0rd@db:5432/app"}';
  const oldForm = 'connect failed postgres://app:s<n>cretpassw<n>rd@db:<n>/app';

  it('the signature learned before redaction and the one taken now have one canonical form', () => {
    const now = errorSignature([raw]);
    expect(now).not.toMatch(/cretpassw/i);
    expect(canonicalSignature(oldForm)).toBe(canonicalSignature(now));
    expect(canonicalSignature(oldForm)).not.toMatch(/cretpassw/i);
    expect(canonicalSignature(now)).toBe(now);
  });

  it('a token whose digits were normalised is still recognised as a token', () => {
    const token = `ghp_${'Ab1Cd2Ef3Gh4Ij5Kl6Mn7Op8Qr9St0Uv1Wx2'}`;
    const oldForm = `error: auth failed with ${token.toLowerCase().replace(/\d+/g, '<n>')}`;
    const now = errorSignature([`Error: auth failed with ${token}`]);
    expect(canonicalSignature(oldForm)).toBe(canonicalSignature(now));
    expect(canonicalSignature(oldForm)).not.toContain('ab<n>cd<n>');
  });

  it('leaves signatures without secrets as they are', () => {
    for (const s of [
      'memory usage above threshold',
      'none',
      'error: connect econnrefused <n>.<n>.<n>.<n>:<n>',
    ]) {
      expect(canonicalSignature(s)).toBe(s);
    }
  });
});
