/**
 * The catalog of operator-facing errors: what the CLI prints and the server logs when a config, a
 * credential file, a client key or an OAuth refresh is wrong. They never reach an API client as
 * such (a refresh failure becomes a gateway code from `codes.ts`), so they have no HTTP status;
 * what they have is a stable code an operator can search for in `docs/errors.md`.
 *
 * Codes are stable and never reused, like the gateway codes. `raisedBy` names the error class
 * that carries the code; `src/errors/operator-codes.test.ts` checks this table and the docs agree
 * both ways.
 */
export interface OperatorErrorEntry {
  raisedBy: OperatorErrorClass;
  summary: string;
}

export type OperatorErrorClass = 'ConfigError' | 'CredentialStartupError' | 'CredentialFileError' | 'ClientKeyError' | 'ManagementKeyError' | 'RefreshFailure' | 'TlsStartupError' | 'LoginError' | 'WebhookSecretError';

export const operatorErrorCatalog = {
  CONFIG_INVALID: { raisedBy: 'ConfigError', summary: 'The config (file or CLIPROXY_* overrides) breaks the schema or a semantic rule.' },
  CONFIG_UNREADABLE: { raisedBy: 'ConfigError', summary: 'The config path is missing, not a regular file, unreadable or too large.' },
  CONFIG_YAML_INVALID: { raisedBy: 'ConfigError', summary: 'The config file is not valid YAML.' },
  CLIENT_KEY_FILE_UNSAFE: { raisedBy: 'ConfigError', summary: 'The client key file is a symlink or not a regular file, readable by others, owned by another user, or in a directory others can write.' },
  CLIENT_KEY_FILE_INVALID: { raisedBy: 'ConfigError', summary: 'The client key file cannot be read, is too large, or is not { "v": 1, "keys": [...] }.' },
  MANAGEMENT_KEY_FILE_UNSAFE: { raisedBy: 'ConfigError', summary: 'The management key file is a symlink or not a regular file, readable by others, owned by another user, or in a directory others can write.' },
  MANAGEMENT_KEY_FILE_INVALID: { raisedBy: 'ConfigError', summary: 'The management key file cannot be read, is too large, or is not { "v": 1, "keys": [...] }.' },
  CREDENTIAL_PERMISSIONS_UNSAFE: { raisedBy: 'CredentialStartupError', summary: 'A secret path has a loose mode, a foreign owner or is a symlink.' },
  CREDENTIAL_KEY_MISSING: { raisedBy: 'CredentialStartupError', summary: 'No encryption key is available for the credential store.' },
  CREDENTIAL_PLAINTEXT_FOUND: { raisedBy: 'CredentialStartupError', summary: 'auth.dir holds a credential in clear while encryption is on.' },
  CREDENTIAL_MIGRATION_FAILED: { raisedBy: 'CredentialStartupError', summary: '--migrate could not encrypt a plaintext credential file.' },
  CREDENTIAL_FILE_TAMPERED_OR_MOVED: { raisedBy: 'CredentialFileError', summary: 'A credential file fails authentication: edited, renamed or moved to another provider.' },
  CREDENTIAL_FILE_UNKNOWN_KEY: { raisedBy: 'CredentialFileError', summary: 'A credential file is encrypted under a key id the keyring does not hold.' },
  CREDENTIAL_FILE_MALFORMED: { raisedBy: 'CredentialFileError', summary: 'A credential file is not a credential envelope, or decrypts to something else.' },
  CREDENTIAL_FILE_UNREADABLE: { raisedBy: 'CredentialFileError', summary: 'A credential file is missing or cannot be read.' },
  CREDENTIAL_FILE_PLAINTEXT: { raisedBy: 'CredentialFileError', summary: 'A credential file holds an unencrypted credential.' },
  CLIENT_KEY_INVALID_ID: { raisedBy: 'ClientKeyError', summary: 'A client key id does not match the allowed pattern.' },
  CLIENT_KEY_DUPLICATE_ID: { raisedBy: 'ClientKeyError', summary: 'A client key with this id already exists (in the key file or the config).' },
  CLIENT_KEY_NOT_FOUND: { raisedBy: 'ClientKeyError', summary: 'No client key has this id.' },
  CLIENT_KEY_INVALID_FIELDS: { raisedBy: 'ClientKeyError', summary: 'A client key field given to keys create|update or the management API is unknown or invalid (a bad pattern list, date or limit).' },
  CLIENT_KEY_IN_CONFIG: { raisedBy: 'ClientKeyError', summary: 'The client key is defined in the config file; the CLI does not edit it.' },
  MANAGEMENT_KEY_INVALID_ID: { raisedBy: 'ManagementKeyError', summary: 'A management key id does not match the allowed pattern.' },
  MANAGEMENT_KEY_INVALID_ROLE: { raisedBy: 'ManagementKeyError', summary: 'A management key role is not admin, operator or auditor.' },
  MANAGEMENT_KEY_DUPLICATE_ID: { raisedBy: 'ManagementKeyError', summary: 'A management key with this id already exists (in the key file or the config).' },
  MANAGEMENT_KEY_NOT_FOUND: { raisedBy: 'ManagementKeyError', summary: 'No management key has this id.' },
  MANAGEMENT_KEY_IN_CONFIG: { raisedBy: 'ManagementKeyError', summary: 'The management key is defined in the config file; the CLI does not edit it.' },
  OAUTH_REFRESH_TIMEOUT: { raisedBy: 'RefreshFailure', summary: 'The token endpoint (or the replica holding the lock) did not answer in time.' },
  OAUTH_REFRESH_REJECTED: { raisedBy: 'RefreshFailure', summary: 'The token endpoint refused the refresh token (invalid_grant and the like).' },
  OAUTH_REFRESH_UNREACHABLE: { raisedBy: 'RefreshFailure', summary: 'The token endpoint could not be reached.' },
  OAUTH_REFRESH_UPSTREAM_ERROR: { raisedBy: 'RefreshFailure', summary: 'The token endpoint failed, or the refresh by another replica failed.' },
  OAUTH_REFRESH_NOT_PERSISTED: { raisedBy: 'RefreshFailure', summary: 'New tokens were obtained but could not be written to the store.' },
  OAUTH_REFRESH_MISCONFIGURED: { raisedBy: 'RefreshFailure', summary: 'The credential or provider lacks what a refresh needs (refresh token, provider, client secret).' },
  TLS_KEY_FILE_UNSAFE: { raisedBy: 'TlsStartupError', summary: 'server.tls.key_file has a loose mode, a foreign owner or is a symlink out of its directory.' },
  LOGIN_PROVIDER_UNKNOWN: { raisedBy: 'LoginError', summary: 'No provider (or several) under providers: uses this login, or --provider names one that refreshes with another login.' },
  LOGIN_MISCONFIGURED: { raisedBy: 'LoginError', summary: 'The provider lacks what the login needs (Google: oauth.client_secret).' },
  LOGIN_CALLBACK_PORT_BUSY: { raisedBy: 'LoginError', summary: 'The loopback callback server could not listen (the registered redirect port is in use).' },
  LOGIN_STATE_MISMATCH: { raisedBy: 'LoginError', summary: 'The callback carried a wrong or missing state: not the browser this login started.' },
  LOGIN_DENIED: { raisedBy: 'LoginError', summary: 'The provider answered the callback with an error (consent denied) or without a code.' },
  LOGIN_TIMEOUT: { raisedBy: 'LoginError', summary: 'No callback arrived within the login timeout.' },
  LOGIN_EXCHANGE_FAILED: { raisedBy: 'LoginError', summary: 'The token endpoint refused the authorization code, or could not be reached.' },
  LOGIN_NOT_STORED: { raisedBy: 'LoginError', summary: 'The sign-in succeeded but the credential could not be written (an existing id without --replace, a store failure).' },
  TLS_CERTIFICATE_INVALID: { raisedBy: 'TlsStartupError', summary: 'The TLS certificate or key cannot be read or parsed, or the key does not match the certificate.' },
  TLS_CLIENT_CA_INVALID: { raisedBy: 'TlsStartupError', summary: 'server.tls.management_client_ca_file is writable by others, owned by another user, not a regular file, or holds no CA certificate.' },
  ALERT_WEBHOOK_SECRET_MISSING: { raisedBy: 'WebhookSecretError', summary: 'alerting.webhook.url is set but no usable signing secret is available (file missing or unreadable, or shorter than 32 characters).' },
  ALERT_WEBHOOK_SECRET_UNSAFE: { raisedBy: 'WebhookSecretError', summary: 'alerting.webhook.secret_file has a loose mode or a foreign owner.' },
} as const satisfies Record<string, OperatorErrorEntry>;

export type OperatorErrorCode = keyof typeof operatorErrorCatalog;

/** True for an Error carrying an operator code (the CLI prints it after the message). */
export function operatorCodeOf(value: unknown): OperatorErrorCode | undefined {
  if (!(value instanceof Error)) return undefined;
  const code: unknown = (value as { code?: unknown }).code;
  return typeof code === 'string' && Object.hasOwn(operatorErrorCatalog, code) ? (code as OperatorErrorCode) : undefined;
}

/** The codes one error class may carry, e.g. `OperatorCodeFor<'ConfigError'>`. */
export type OperatorCodeFor<Class extends OperatorErrorClass> = {
  [Code in OperatorErrorCode]: (typeof operatorErrorCatalog)[Code]['raisedBy'] extends Class ? Code : never;
}[OperatorErrorCode];
