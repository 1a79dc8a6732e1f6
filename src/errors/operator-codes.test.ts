import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../config/config-error.js';
import { CredentialFileError } from '../credentials/crypto.js';
import { RefreshFailure, type RefreshFailureKind } from '../oauth/refresh-errors.js';
import { TlsStartupError } from '../security/tls-material.js';
import { WebhookSecretError } from '../alerts/webhook-secret.js';
import { CredentialStartupError } from '../credentials/startup-checks.js';
import { ClientKeyError } from '../security/client-keys.js';
import { LoginError } from '../login/login-error.js';
import { operatorCodeOf, operatorErrorCatalog, type OperatorErrorClass } from './operator-codes.js';

/** docs/errors.md "Operator errors" and the operator catalog agree both ways, like the gateway codes. */
const documentation = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
const documentedRows = [...documentation.matchAll(/^\|\s*`([A-Z][A-Z_]+)`\s*\|\s*`(\w+)`\s*\|/gm)].map((match) => ({
  code: match[1]!,
  raisedBy: match[2]!,
}));

describe('operator error catalog', () => {
  it('documents every code with the class that raises it', () => {
    for (const [code, entry] of Object.entries(operatorErrorCatalog)) {
      expect(documentedRows, `docs/errors.md lacks ${code}`).toContainEqual({ code, raisedBy: entry.raisedBy });
    }
  });

  it('documents no code that does not exist, and each once', () => {
    for (const row of documentedRows) expect(Object.keys(operatorErrorCatalog)).toContain(row.code);
    const codes = documentedRows.map((row) => row.code);
    expect(new Set(codes).size).toBe(codes.length);
  });

  it('shares no code with the gateway catalog', async () => {
    const { errorCatalog } = await import('./codes.js');
    for (const code of Object.keys(operatorErrorCatalog)) expect(Object.keys(errorCatalog)).not.toContain(code);
  });

  it('every operator error class carries a catalog code raised by that class', () => {
    const refreshKinds: RefreshFailureKind[] = ['timeout', 'rejected', 'unreachable', 'upstream_error', 'not_persisted', 'misconfigured'];
    const fileReasons = ['tampered-or-moved', 'unknown-key', 'malformed', 'unreadable', 'plaintext'] as const;
    const samples: [OperatorErrorClass, Error][] = [
      ['ConfigError', new ConfigError('x.yaml', ['server.port: expected integer'])],
      ['ConfigError', new ConfigError('x.yaml', ['file not found'], 'CONFIG_UNREADABLE')],
      ['CredentialStartupError', new CredentialStartupError(['a: b'], 'CREDENTIAL_KEY_MISSING')],
      ['ClientKeyError', new ClientKeyError('CLIENT_KEY_NOT_FOUND', "no client key 'bob'")],
      ...fileReasons.map((reason): [OperatorErrorClass, Error] => ['CredentialFileError', new CredentialFileError('f.json', reason, 'detail')]),
      ...refreshKinds.map((kind): [OperatorErrorClass, Error] => ['RefreshFailure', new RefreshFailure(kind, 'detail')]),
      ['TlsStartupError', new TlsStartupError('server.tls.key_file is not private', 'TLS_KEY_FILE_UNSAFE')],
      ['TlsStartupError', new TlsStartupError('server.tls: not a pair', 'TLS_CERTIFICATE_INVALID')],
      ['LoginError', new LoginError('LOGIN_STATE_MISMATCH', 'login aborted')],
      ['WebhookSecretError', new WebhookSecretError('no secret', 'ALERT_WEBHOOK_SECRET_MISSING')],
      ['WebhookSecretError', new WebhookSecretError('loose', 'ALERT_WEBHOOK_SECRET_UNSAFE')],
    ];
    for (const [raisedBy, error] of samples) {
      const code = operatorCodeOf(error);
      expect(code, `${error.name} has no catalog code`).toBeDefined();
      expect(operatorErrorCatalog[code!].raisedBy).toBe(raisedBy);
    }
    // Each kind and reason has its own code: an operator can tell them apart.
    expect(new Set(refreshKinds.map((kind) => new RefreshFailure(kind, '').code)).size).toBe(refreshKinds.length);
    expect(new Set(fileReasons.map((reason) => new CredentialFileError('f', reason, '').code)).size).toBe(fileReasons.length);
  });
});
