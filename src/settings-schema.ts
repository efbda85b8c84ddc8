// The zod schema of Medic's settings, built from the settings table: each row names its parser, and
// here each parser is a zod schema. Errors say what is wrong and never repeat a value (it may be a secret).
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { checkHttpUrl, parseNotifyRoutes } from './activities/notify-settings.js';
import { formatDuration, parseDuration } from './domain/duration.js';
import { normaliseHost } from './domain/health-url.js';
import { parseTrustedProxies } from './domain/ip-address.js';
import { HOST_NAME_PATTERN } from './domain/naming.js';
import { parseSeverityPolicy } from './domain/policy.js';

type SeverityTable = ReturnType<typeof parseSeverityPolicy>;

import { parseScopedTokens, parseWebhookSenders } from './domain/sender-scope.js';
import {
  type ParsedSetting,
  SETTINGS,
  type SettingParser,
  type SettingRow,
} from './domain/settings-table.js';
import { parseSlackApprovers } from './domain/slack-approval.js';

/** `host:port` with an IPv4 address, a name or a bracketed IPv6 address. */
const METRICS_ADDRESS = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
/** The words of a `switch` that turn it on. */
const ON = ['on', 'true', '1'];

/** Empty is the same as unset: compose files and .env templates write `NAME=`. */
const emptyIsUnset = (v: unknown) => (v === '' ? undefined : v);

/** Text read by a parser that throws with a message naming what is wrong. */
const parsedWith = <T>(parse: (text: string) => T, fallback = '') =>
  z
    .string()
    .default(fallback)
    .transform((text, ctx) => {
      try {
        return parse(text);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
        return z.NEVER;
      }
    });

/** A comma-separated list, trimmed, without empty items. */
const commaList = (fallback = '') =>
  z
    .string()
    .default(fallback)
    .transform((text) =>
      text
        .split(',')
        .map((item) => item.trim())
        .filter(Boolean),
    );

const namedTokens = z
  .string()
  .default('')
  .transform((text, ctx) => {
    const tokens: Array<{ name: string; token: string }> = [];
    for (const part of text
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean)) {
      const sep = part.indexOf(':');
      const name = part.slice(0, sep).trim();
      const token = part.slice(sep + 1).trim();
      if (sep <= 0 || !/^[\w.@-]{1,64}$/.test(name) || token.length < 16) {
        ctx.addIssue({
          code: 'custom',
          message:
            'expected name:token pairs separated by commas; names are [A-Za-z0-9_.@-], tokens at least 16 characters',
        });
        return z.NEVER;
      }
      tokens.push({ name, token });
    }
    return tokens;
  });

/** An http(s) URL; the message never repeats the value, which may be a secret (a Slack webhook URL). */
const httpUrl = z.string().superRefine((text, ctx) => {
  const problem = checkHttpUrl(text);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

/** A PEM file Medic can read, checked at start: a wrong path fails there, not at the first connection. */
const pemFile = z.preprocess(
  emptyIsUnset,
  z
    .string()
    .superRefine((file, ctx) => {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (err) {
        const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
        ctx.addIssue({ code: 'custom', message: `cannot read ${file} (${reason})` });
        return;
      }
      if (!text.includes('-----BEGIN '))
        ctx.addIssue({ code: 'custom', message: `${file} is not PEM (no -----BEGIN line)` });
    })
    .optional(),
);

const providers = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((text, ctx) => {
      const names = text
        .split(',')
        .map((p) => p.trim())
        .filter(Boolean);
      const unknown = names.filter((n) => n !== 'gemini' && n !== 'ollama');
      if (unknown.length > 0) {
        ctx.addIssue({
          code: 'custom',
          message: `unknown provider ${unknown.join(', ')} (expected gemini, ollama, or empty for rules only)`,
        });
        return z.NEVER;
      }
      return names as Array<'gemini' | 'ollama'>;
    });

const text = (row: SettingRow) => row.default ?? '';
const bound = (row: SettingRow, which: 'min' | 'max'): number => {
  const value = row[which];
  if (value === undefined) throw new Error(`${row.name}: the settings table gives no ${which}`);
  return value;
};
const words = (row: SettingRow): [string, ...string[]] => {
  const [first, ...rest] = row.values ?? [];
  if (first === undefined) throw new Error(`${row.name}: the settings table lists no values`);
  return [first, ...rest];
};

/** One zod schema per parser of the settings table, given the row (its default, bounds and words). */
const PARSERS = {
  text: (row: SettingRow) => z.string().default(text(row)),
  'non-empty-text': (row: SettingRow) => z.string().min(1).default(text(row)),
  'text-or-default': (row: SettingRow) => z.preprocess(emptyIsUnset, z.string().min(1).default(text(row))),
  optional: (_row: SettingRow) => z.string().optional(),
  'optional-text': (_row: SettingRow) => z.preprocess(emptyIsUnset, z.string().optional()),
  int: (row: SettingRow) =>
    z.coerce
      .number()
      .int()
      .min(bound(row, 'min'))
      .max(bound(row, 'max'))
      .default(Number(text(row))),
  number: (row: SettingRow) =>
    z.coerce
      .number()
      .min(bound(row, 'min'))
      .max(bound(row, 'max'))
      .default(Number(text(row))),
  duration: (row: SettingRow) => {
    const schema = parsedWith(parseDuration, text(row));
    if (row.min === undefined && row.max === undefined) return schema;
    const [min, max] = [row.min ?? 0, row.max ?? Number.POSITIVE_INFINITY];
    const range = `between ${formatDuration(min)} and ${formatDuration(max)}`;
    return schema.refine((ms) => ms >= min && ms <= max, row.bounds ? `${range} (${row.bounds})` : range);
  },
  switch: (row: SettingRow) =>
    z
      .enum(words(row))
      .default(text(row))
      .transform((word) => ON.includes(word)),
  enum: (row: SettingRow) => z.enum(words(row)).default(text(row)),
  'optional-enum': (row: SettingRow) => z.preprocess(emptyIsUnset, z.enum(words(row)).optional()),
  'worker-role': (row: SettingRow) =>
    z.enum(words(row), { error: `expected one of ${words(row).join(', ')}` }).default(text(row)),
  'host-name': (row: SettingRow) =>
    z
      .string()
      .default(text(row))
      .refine(
        (name) => HOST_NAME_PATTERN.test(name),
        'expected letters, digits, _ . - (max 64), starting with a letter or digit',
      ),
  list: (row: SettingRow) => commaList(text(row)),
  'label-names': (row: SettingRow) =>
    commaList(text(row)).refine(
      (labels) => labels.length >= (row.min ?? 0) && labels.every((l) => LABEL_NAME.test(l)),
      'expected Prometheus label names separated by commas',
    ),
  'escalation-levels': (row: SettingRow) =>
    commaList(text(row)).refine((levels) => levels.length > 0, 'name at least one escalation level'),
  'health-url-hosts': (row: SettingRow) =>
    commaList(text(row))
      .refine(
        (hosts) => hosts.every((h) => /^(\[?[0-9a-fA-F:.]+\]?|[a-zA-Z0-9.-]{1,253})$/.test(h)),
        'expected host names or IP addresses separated by commas (no scheme, port or path)',
      )
      .transform((hosts) => hosts.map(normaliseHost)),
  'key-value': (row: SettingRow) =>
    z
      .string()
      .default(text(row))
      .refine((s) => /^[\w./-]+=[\w./-]+$/.test(s), 'expected key=value')
      .transform((s) => {
        const [key = '', value = ''] = s.split('=');
        return { key, value };
      }),
  tokens: (_row: SettingRow) => namedTokens,
  'scoped-tokens': (row: SettingRow) => parsedWith(parseScopedTokens, text(row)),
  'webhook-senders': (row: SettingRow) => parsedWith(parseWebhookSenders, text(row)),
  'trusted-proxies': (row: SettingRow) => parsedWith(parseTrustedProxies, text(row)),
  secret: (row: SettingRow) =>
    z.preprocess(
      emptyIsUnset,
      z
        .string()
        .min(bound(row, 'min'), `use at least ${bound(row, 'min')} characters`)
        .optional(),
    ),
  'http-url': (_row: SettingRow) => z.preprocess(emptyIsUnset, httpUrl.optional()),
  url: (_row: SettingRow) => z.url().optional(),
  'base-url': (row: SettingRow) =>
    z
      .url({ protocol: /^https?$/ })
      .default(text(row))
      .transform((url) => url.replace(/\/+$/, '')),
  'pem-file': (_row: SettingRow) => pemFile,
  'metrics-address': (row: SettingRow) =>
    z
      .string()
      .trim()
      .default(text(row))
      .refine((v) => v === '' || METRICS_ADDRESS.test(v), {
        message: 'expected host:port, e.g. 127.0.0.1:9464 (empty turns the exporter off)',
      })
      .transform((v) => v || undefined),
  providers: (row: SettingRow) => providers(text(row)),
  // Severities left out keep the row's own default (each risk's table has its own).
  'severity-policy': (row: SettingRow) =>
    parsedWith((t) => parseSeverityPolicy(t, parseSeverityPolicy(text(row), {} as SeverityTable)), text(row)),
  'notify-routes': (row: SettingRow) => parsedWith(parseNotifyRoutes, text(row)),
  'slack-approvers': (row: SettingRow) => parsedWith(parseSlackApprovers, text(row)),
} satisfies Record<SettingParser, (row: SettingRow) => z.ZodType>;

type Words<R> = R extends { values: readonly (infer W)[] } ? W : never;

/** What a row's variable reads as: its parser's output, narrowed to its words for the enums. */
export type SettingValue<R extends ParsedSetting> = R extends { parser: 'enum' | 'worker-role' }
  ? Words<R>
  : R extends { parser: 'optional-enum' }
    ? Words<R> | undefined
    : z.output<ReturnType<(typeof PARSERS)[R['parser']]>>;

/** Every setting of Medic's own, read and validated, by variable name. */
export type Env = { [R in ParsedSetting as R['name']]: SettingValue<R> };

const isParsed = (row: SettingRow): row is ParsedSetting => row.parser !== undefined;

export const envSchema = z.object(
  Object.fromEntries(
    (SETTINGS as readonly SettingRow[]).filter(isParsed).map((row) => [row.name, PARSERS[row.parser](row)]),
  ),
) as unknown as z.ZodType<Env>;
