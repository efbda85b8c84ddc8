// The notification settings: defaults, the route list with its formats, and errors that never repeat a URL.
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

const SLACK = 'https://hooks.slack.com/services/T0/B0/secretpart';

describe('notification settings', () => {
  it('default to the log line only, links to the API and the local Temporal Web UI', () => {
    expect(loadConfig({}).notify).toEqual({
      slackButtons: false,
      pagerdutyEventsUrl: 'https://events.pagerduty.com/v2/enqueue',
      routes: [],
      publicUrl: 'http://127.0.0.1:3000',
      temporalUiUrl: 'http://127.0.0.1:8233',
      namespace: 'default',
      timeoutMs: 5000,
    });
    expect(
      loadConfig({
        MEDIC_HOST: '0.0.0.0',
        MEDIC_PORT: '8000',
        MEDIC_VIEWER_TOKENS: 'viewer:viewer-token-0123456789',
      }).notify.publicUrl,
    ).toBe('http://127.0.0.1:8000');
  });

  it('reads every variable; a route takes its format from a prefix, else from the host', () => {
    const config = loadConfig({
      MEDIC_SLACK_WEBHOOK_URL: SLACK,
      MEDIC_NOTIFY_WEBHOOK_URL: 'http://127.0.0.1:9000/hook',
      MEDIC_NOTIFY_ROUTES: `on-call=${SLACK}, team-lead=http://127.0.0.1:9001/x,manager=slack:http://127.0.0.1:9002/s,on-call=webhook:https://hooks.slack.com/y`,
      MEDIC_PUBLIC_URL: 'https://medic.example.org',
      MEDIC_TEMPORAL_UI_URL: 'https://temporal.example.org',
      MEDIC_NOTIFY_TIMEOUT: '2s',
      TEMPORAL_NAMESPACE: 'ops',
    });
    expect(config.notify).toEqual({
      slackWebhookUrl: SLACK,
      slackButtons: false,
      pagerdutyEventsUrl: 'https://events.pagerduty.com/v2/enqueue',
      webhookUrl: 'http://127.0.0.1:9000/hook',
      routes: [
        { level: 'on-call', format: 'slack', url: SLACK },
        { level: 'team-lead', format: 'webhook', url: 'http://127.0.0.1:9001/x' },
        { level: 'manager', format: 'slack', url: 'http://127.0.0.1:9002/s' },
        { level: 'on-call', format: 'webhook', url: 'https://hooks.slack.com/y' },
      ],
      publicUrl: 'https://medic.example.org',
      temporalUiUrl: 'https://temporal.example.org',
      namespace: 'ops',
      timeoutMs: 2000,
    });
    expect(loadConfig({ MEDIC_SLACK_WEBHOOK_URL: '' }).notify.slackWebhookUrl).toBeUndefined();
  });

  it('refuse what is not an http(s) URL, naming the variable but never repeating the URL', () => {
    const cases: Array<[Record<string, string>, RegExp]> = [
      [
        { MEDIC_SLACK_WEBHOOK_URL: 'ftp://hooks.slack.com/services/secretpart' },
        /MEDIC_SLACK_WEBHOOK_URL: only http and https/,
      ],
      [{ MEDIC_NOTIFY_WEBHOOK_URL: 'hooks.slack.com/secretpart' }, /MEDIC_NOTIFY_WEBHOOK_URL: not a URL/],
      [
        { MEDIC_NOTIFY_ROUTES: 'on-call=file:///secretpart' },
        /MEDIC_NOTIFY_ROUTES: route 1 \(on-call\): not a URL|only http/,
      ],
      [{ MEDIC_NOTIFY_ROUTES: `on call=${SLACK}` }, /MEDIC_NOTIFY_ROUTES: route 1: expected level=URL/],
      [{ MEDIC_NOTIFY_ROUTES: SLACK }, /MEDIC_NOTIFY_ROUTES: route 1: expected level=URL/],
      [{ MEDIC_PUBLIC_URL: 'javascript:secretpart' }, /MEDIC_PUBLIC_URL: only http and https/],
      [{ MEDIC_NOTIFY_TIMEOUT: '30s' }, /MEDIC_NOTIFY_TIMEOUT: between 100ms and 9s/],
    ];
    for (const [env, message] of cases) {
      let thrown: unknown;
      try {
        loadConfig(env);
      } catch (err) {
        thrown = err;
      }
      expect(thrown, JSON.stringify(env)).toBeInstanceOf(ConfigError);
      expect((thrown as Error).message).toMatch(message);
      expect((thrown as Error).message).not.toContain('secretpart');
    }
  });
});
