// The one bound on log text: each line's start, the newest lines, the bytes of all of them.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { alertFromWebhook, webhookAlertSchema } from '../../src/domain/alert.js';
import { boundLogLines, cutLine, DEFAULT_LOG_LIMITS, utf8Bytes } from '../../src/domain/log-bounds.js';
import { sanitiseAlert } from '../../src/domain/sanitise.js';
import { alertFor } from '../support/medic.js';

const limits = { maxLineChars: 300, maxLines: 5, maxBytes: 1024 };

describe('one bound on log text wherever it is gathered', () => {
  it('keeps the start of a long line and says how much it cut', () => {
    const line = `Error: pool exhausted ${'x'.repeat(5000)}`;
    const cut = cutLine(line, 300);
    expect(cut.length).toBeLessThanOrEqual(300);
    expect(cut.startsWith('Error: pool exhausted')).toBe(true);
    expect(cut).toMatch(/… \[cut \d+ chars\]$/);
  });

  it('drops a word split by the cut, so a secret cut in half leaves nothing for the patterns to miss', () => {
    const line = `${'y '.repeat(140)}postgres://app:S3cretPassw0rd@db:5432/app and more text after it`;
    const cut = cutLine(line, 300);
    expect(cut).not.toMatch(/S3cr|postgres/);
  });

  it('keeps the newest lines within the line count and the byte total', () => {
    const lines = Array.from({ length: 50 }, (_, i) => `line ${i} ${'é'.repeat(200)}`);
    const kept = boundLogLines(lines, limits);
    expect(kept.at(-1)?.startsWith('line 49 ')).toBe(true);
    expect(kept.length).toBeLessThanOrEqual(limits.maxLines);
    expect(utf8Bytes(kept.join('\n'))).toBeLessThanOrEqual(limits.maxBytes);
  });

  it('keeps part of a newest line too big for the byte total rather than nothing', () => {
    const kept = boundLogLines(['older', '€'.repeat(300)], { ...limits, maxBytes: 400 });
    expect(kept).toHaveLength(1);
    expect(utf8Bytes(kept[0] ?? '')).toBeLessThan(400);
  });

  it('holds for any lines: within every limit, idempotent (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ unit: 'grapheme', maxLength: 800 }), { maxLength: 30 }),
        fc.record({
          maxLineChars: fc.integer({ min: 200, max: 1000 }),
          maxLines: fc.integer({ min: 1, max: 20 }),
          maxBytes: fc.integer({ min: 1024, max: 8192 }),
        }),
        (lines, l) => {
          const kept = boundLogLines(lines, l);
          expect(kept.length).toBeLessThanOrEqual(l.maxLines);
          for (const line of kept) expect(line.length).toBeLessThanOrEqual(l.maxLineChars);
          expect(utf8Bytes(kept.join('\n'))).toBeLessThanOrEqual(l.maxBytes);
          expect(boundLogLines(kept, l)).toEqual(kept);
        },
      ),
    );
  });

  it('takes a webhook with a line of any length: the alert keeps the line start, not a 400', () => {
    const parsed = webhookAlertSchema.safeParse({
      container_name: 'svc',
      alert_type: 'crash',
      severity: 'high',
      logs: ['ok', `Error: boom ${'z'.repeat(20_000)}`],
      timestamp: '2026-11-25T10:00:00.000Z',
    });
    expect(parsed.success).toBe(true);
    const alert = alertFromWebhook(parsed.data!, new Date());
    expect(alert.logs.at(-1)?.startsWith('Error: boom')).toBe(true);
    expect(alert.logs.at(-1)?.length).toBeLessThanOrEqual(DEFAULT_LOG_LIMITS.maxLineChars);
  });

  it('bounds an engine alert with a 1 MB line far below the 2 MB payload limit', () => {
    const alert = alertFor('svc', {
      source: 'engine',
      logs: Array.from({ length: 50 }, () => 'x'.repeat(1024 * 1024)),
      evidence: {
        via: 'event',
        check: 'die',
        containerId: 'abc',
        detail: `exited ${'d'.repeat(1024 * 1024)}`,
      },
    });
    const size = utf8Bytes(JSON.stringify(sanitiseAlert(alert, DEFAULT_LOG_LIMITS)));
    expect(size).toBeLessThanOrEqual(DEFAULT_LOG_LIMITS.maxBytes + 8 * 1024);
  });
});
