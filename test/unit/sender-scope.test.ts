// Who may speak for which containers, as the settings say it: the scope globs, the syntax of
// MEDIC_WEBHOOK_SENDERS, MEDIC_ALERTMANAGER_TOKENS and MEDIC_TRUSTED_PROXIES, and the checks across them.
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { parseTrustedProxies } from '../../src/domain/ip-address.js';
import {
  globMatches,
  inScope,
  parseScope,
  parseScopedTokens,
  parseWebhookSenders,
} from '../../src/domain/sender-scope.js';

const SECRET_A = 'sender-a-secret-0123456789';
const SECRET_B = 'sender-b-secret-0123456789';

describe('scope globs', () => {
  it('match container names with * and ?, and nothing else as a wildcard', () => {
    expect(globMatches('payments-*', 'payments-api')).toBe(true);
    expect(globMatches('payments-*', 'payments-')).toBe(true);
    expect(globMatches('payments-*', 'shop-payments-api')).toBe(false);
    expect(globMatches('shop-api-?', 'shop-api-1')).toBe(true);
    expect(globMatches('shop-api-?', 'shop-api-12')).toBe(false);
    expect(globMatches('a.b', 'axb')).toBe(false);
    expect(globMatches('*', 'anything.at_all-1')).toBe(true);
  });

  it('take the host exactly, or any host for *', () => {
    const scopes = [
      { target: 'payments-*', host: '*' },
      { target: 'medic-demo', host: 'local' },
    ];
    expect(inScope(scopes, 'payments-db', 'web-7')).toBe(true);
    expect(inScope(scopes, 'medic-demo')).toBe(true);
    expect(inScope(scopes, 'medic-demo', 'web-1')).toBe(false);
    expect(inScope(scopes, 'shop', 'local')).toBe(false);
  });

  it('refuse a scope without a host, or with characters no container name has', () => {
    expect(parseScope('payments-*@*')).toEqual({ target: 'payments-*', host: '*' });
    expect(parseScope('payments-*')).toEqual(expect.stringContaining('<target glob>@<host>'));
    expect(parseScope('pay/ments@local')).toEqual(expect.stringContaining('target glob'));
    expect(parseScope('payments@web:1')).toEqual(expect.stringContaining('host'));
  });
});

describe('MEDIC_WEBHOOK_SENDERS', () => {
  it('reads name:secret:scopes entries separated by ;', () => {
    expect(
      parseWebhookSenders(
        `demo:${SECRET_A}:medic-demo@local; payments:${SECRET_B}:payments-*@*,billing@web-1`,
      ),
    ).toEqual([
      { name: 'demo', secret: SECRET_A, scopes: [{ target: 'medic-demo', host: 'local' }] },
      {
        name: 'payments',
        secret: SECRET_B,
        scopes: [
          { target: 'payments-*', host: '*' },
          { target: 'billing', host: 'web-1' },
        ],
      },
    ]);
    // The secret is what lies between the first and the last colon.
    expect(parseWebhookSenders(`x:${SECRET_A}:with:colons:a@local`)[0]?.secret).toBe(
      `${SECRET_A}:with:colons`,
    );
  });

  it('names what is wrong, and never the secret', () => {
    const cases: Array<[string, RegExp]> = [
      [`Demo:${SECRET_A}:a@local`, /a-z 0-9/],
      ['demo:short:a@local', /at least 16/],
      [`demo:${SECRET_A}`, /name:secret/],
      [`demo:${SECRET_A}:a`, /<target glob>@<host>/],
      [`demo:${SECRET_A}:a@local;demo:${SECRET_B}:b@local`, /named twice/],
      [`demo:${SECRET_A}:a@local;other:${SECRET_A}:b@local`, /another sender's/],
      [`webhook-secret:${SECRET_A}:a@local`, /plain MEDIC_WEBHOOK_SECRET/],
    ];
    for (const [text, message] of cases) {
      let error: Error | undefined;
      try {
        parseWebhookSenders(text);
      } catch (err) {
        error = err as Error;
      }
      expect(error?.message, text).toMatch(message);
      expect(error?.message).not.toContain(SECRET_A);
    }
  });
});

describe('MEDIC_ALERTMANAGER_TOKENS', () => {
  it('reads an optional scope after the token; without one the token speaks for every target', () => {
    expect(parseScopedTokens(`am:${SECRET_A}:payments-*@*, ops:${SECRET_B}`)).toEqual([
      { name: 'am', token: SECRET_A, scopes: [{ target: 'payments-*', host: '*' }] },
      { name: 'ops', token: SECRET_B },
    ]);
    // A colon in the token is the token's, unless what follows it reads as a scope.
    expect(parseScopedTokens(`am:${SECRET_A}:more`)).toEqual([{ name: 'am', token: `${SECRET_A}:more` }]);
    expect(() => parseScopedTokens('am:short:x@local')).toThrow(/at least 16/);
  });
});

describe('MEDIC_TRUSTED_PROXIES', () => {
  it('takes addresses and CIDR ranges only', () => {
    expect(parseTrustedProxies('10.0.0.5, 10.0.0.0/8,fd00::/8, ::1')).toEqual([
      '10.0.0.5',
      '10.0.0.0/8',
      'fd00::/8',
      '::1',
    ]);
    for (const bad of ['loopback', '10.0.0.0/33', '10.0.0.1/8/9', 'proxy.internal', 'fd00::/129'])
      expect(() => parseTrustedProxies(bad), bad).toThrow(/not an IP address or a CIDR range/);
  });
});

describe('the configuration', () => {
  it('reads senders, scoped tokens and trusted proxies', () => {
    const config = loadConfig({
      MEDIC_WEBHOOK_SENDERS: `demo:${SECRET_A}:medic-demo@local`,
      MEDIC_ALERTMANAGER_TOKENS: `am:${SECRET_B}:payments-*@*`,
      MEDIC_TRUSTED_PROXIES: '10.1.0.0/16',
    });
    expect(config.webhookSecret).toBeUndefined();
    expect(config.webhookSenders.map((s) => s.name)).toEqual(['demo']);
    expect(config.ingest.alertmanagerTokens[0]?.scopes).toEqual([{ target: 'payments-*', host: '*' }]);
    expect(config.api.trustedProxies).toEqual(['10.1.0.0/16']);
    expect(loadConfig({}).api.trustedProxies).toEqual([]);
  });

  it("refuses a sender's secret that opens another door, without repeating it", () => {
    const reused: Array<[NodeJS.ProcessEnv, RegExp]> = [
      [
        { MEDIC_WEBHOOK_SENDERS: `demo:${SECRET_A}:a@local`, MEDIC_WEBHOOK_SECRET: SECRET_A },
        /MEDIC_WEBHOOK_SENDERS: a sender's secret is also used in MEDIC_WEBHOOK_SECRET/,
      ],
      [
        { MEDIC_WEBHOOK_SENDERS: `demo:${SECRET_A}:a@local`, MEDIC_ALERTMANAGER_TOKENS: `am:${SECRET_A}` },
        /also used in MEDIC_ALERTMANAGER_TOKENS/,
      ],
      [
        { MEDIC_WEBHOOK_SENDERS: `demo:${SECRET_A}:a@local`, MEDIC_APPROVER_TOKENS: `alice:${SECRET_A}` },
        /approver token is also used in MEDIC_WEBHOOK_SENDERS/,
      ],
      [
        { MEDIC_WEBHOOK_SENDERS: `demo:${SECRET_A}:a@local`, MEDIC_VIEWER_TOKENS: `eve:${SECRET_A}` },
        /viewer token is also used in MEDIC_WEBHOOK_SENDERS/,
      ],
    ];
    for (const [env, message] of reused) {
      let error: Error | undefined;
      try {
        loadConfig(env);
      } catch (err) {
        error = err as Error;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect(error?.message).toMatch(message);
      expect(error?.message).not.toContain(SECRET_A);
    }
  });
});
