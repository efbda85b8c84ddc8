// TEMPORAL_TLS_* and TEMPORAL_API_KEY: what loadConfig accepts and refuses, and the connection options built from it.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { temporalConnectionOptions } from '../../src/temporal/connection.js';

const dir = mkdtempSync(path.join(tmpdir(), 'medic-tls-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const pem = (name: string, label: string) => {
  const file = path.join(dir, name);
  writeFileSync(file, `-----BEGIN ${label}-----\nAAAA\n-----END ${label}-----\n`);
  return file;
};
const cert = pem('client.pem', 'CERTIFICATE');
const key = pem('client.key', 'PRIVATE KEY');
const ca = pem('ca.pem', 'CERTIFICATE');

const temporal = (env: Record<string, string>) => loadConfig(env).temporal;

describe('Temporal connection settings', () => {
  it('is plaintext by default', () => {
    expect(temporalConnectionOptions(temporal({}))).toEqual({ address: '127.0.0.1:7233' });
  });

  it('reads the client certificate, key and CA for mutual TLS', () => {
    const options = temporalConnectionOptions(
      temporal({
        TEMPORAL_ADDRESS: 'temporal.internal:7233',
        TEMPORAL_TLS_CERT: cert,
        TEMPORAL_TLS_KEY: key,
        TEMPORAL_TLS_CA: ca,
        TEMPORAL_TLS_SERVER_NAME: 'temporal',
      }),
    );
    expect(options.address).toBe('temporal.internal:7233');
    expect(options.tls?.serverNameOverride).toBe('temporal');
    expect(options.tls?.clientCertPair?.crt.toString()).toContain('BEGIN CERTIFICATE');
    expect(options.tls?.clientCertPair?.key.toString()).toContain('BEGIN PRIVATE KEY');
    expect(options.tls?.serverRootCACertificate?.toString()).toContain('BEGIN CERTIFICATE');
  });

  it('turns TLS on for an API key (Temporal Cloud) and for TEMPORAL_TLS=on', () => {
    expect(temporalConnectionOptions(temporal({ TEMPORAL_API_KEY: 'secret-key' }))).toEqual({
      address: '127.0.0.1:7233',
      tls: {},
      apiKey: 'secret-key',
    });
    expect(temporalConnectionOptions(temporal({ TEMPORAL_TLS: 'on' })).tls).toEqual({});
    expect(
      temporalConnectionOptions(temporal({ TEMPORAL_TLS_CERT: '', TEMPORAL_TLS_KEY: '' })).tls,
    ).toBeUndefined();
  });

  it('refuses a certificate without its key, and a key without its certificate', () => {
    expect(() => temporal({ TEMPORAL_TLS_CERT: cert })).toThrow(
      /TEMPORAL_TLS_KEY: a client certificate needs its key/,
    );
    expect(() => temporal({ TEMPORAL_TLS_KEY: key })).toThrow(
      /TEMPORAL_TLS_CERT: a client certificate needs its key/,
    );
  });

  it('refuses a file it cannot read or that is not PEM, naming the variable', () => {
    expect(() => temporal({ TEMPORAL_TLS_CA: path.join(dir, 'missing.pem') })).toThrow(
      /TEMPORAL_TLS_CA: cannot read .*missing\.pem \(ENOENT\)/,
    );
    const notPem = path.join(dir, 'not.pem');
    writeFileSync(notPem, 'hello');
    expect(() => temporal({ TEMPORAL_TLS_CA: notPem })).toThrow(/TEMPORAL_TLS_CA: .*not PEM/);
    if (process.getuid?.() !== 0) {
      const locked = pem('locked.pem', 'CERTIFICATE');
      chmodSync(locked, 0);
      expect(() => temporal({ TEMPORAL_TLS_CA: locked })).toThrow(/cannot read .*EACCES/);
    }
  });

  it('refuses TEMPORAL_TLS=off next to settings that need TLS', () => {
    expect(() => temporal({ TEMPORAL_TLS: 'off', TEMPORAL_API_KEY: 'k' })).toThrow(
      /TEMPORAL_TLS: off, but TEMPORAL_API_KEY need TLS/,
    );
    expect(() => temporal({ TEMPORAL_TLS: 'maybe' })).toThrow(/TEMPORAL_TLS/);
  });
});
