import type { ReadonlyConfig, ReadonlyProviderConfig } from '../config/schema.js';
import type { EncryptedFileStore } from '../credentials/file-store.js';
import { sanitizeCredentialId } from '../credentials/file-store.js';
import type { SecurityEventSink } from '../credentials/security-events.js';
import type { StoredCredentialRecord } from '../credentials/types.js';
import { createTokenHttpCall, type TokenHttpCall } from '../oauth/refresh-http.js';
import { buildAuthorizeUrl, buildCodeExchangeRequest, loginAccountOf } from '../providers/oauth-authorize.js';
import { isTokenGrant, parseTokenResponse, type OAuthProfileId } from '../providers/oauth-grant.js';
import { oauthProfileFor } from '../providers/oauth-profiles.js';
import { redactText, registerSecrets } from '../security/redact.js';
import { startCallbackServer } from './callback-server.js';
import { LoginError } from './login-error.js';
import type { LoginKind } from './login-kinds.js';
import { createPkcePair, createState } from './pkce.js';

/**
 * `cliproxyapi login claude|codex|gemini`: the authorization-code grant with PKCE against the
 * provider's consent page, a one-shot loopback callback, the code exchange, and the result written
 * through the encrypted store as the `kind: 'oauth'` record the refresher keeps fresh. A running
 * server picks the file up by itself (live credential changes). Tokens never reach a printed line,
 * an error or an event: the printer gets the URL and the outcome, events get ids.
 */
const profileOfKind: Readonly<Record<LoginKind, OAuthProfileId>> = { claude: 'anthropic', codex: 'openai-codex', gemini: 'google' };

/** The provider type each login is made for (the upstream its tokens are accepted by). */
const nativeTypeOfKind: Readonly<Record<LoginKind, ReadonlyProviderConfig['type']>> = { claude: 'anthropic', codex: 'codex', gemini: 'gemini' };

/**
 * Which provider under `providers:` the login serves: the named one; else the only one using that
 * login; else, among several, the only one of the login's own type. Codex tokens refresh through the
 * same login as any `type: openai` provider, so a config with an OpenAI API-key provider beside its
 * `type: codex` one would otherwise always need --provider.
 */
export function resolveLoginProvider(config: ReadonlyConfig, kind: LoginKind, name: string | undefined): { name: string; provider: ReadonlyProviderConfig } {
  const wanted = profileOfKind[kind];
  const matching = Object.entries(config.providers).filter(([, provider]) => oauthProfileFor(provider).id === wanted);
  const hint = `a provider with ${kind === 'claude' ? 'type: anthropic' : kind === 'gemini' ? 'type: gemini (or oauth: { profile: google })' : 'type: codex (or type: openai, or oauth: { profile: openai-codex })'}`;
  if (name !== undefined) {
    const provider = config.providers[name];
    if (provider === undefined) throw new LoginError('LOGIN_PROVIDER_UNKNOWN', `--provider ${name}: no such provider under providers: in the config`);
    if (oauthProfileFor(provider).id !== wanted) {
      throw new LoginError('LOGIN_PROVIDER_UNKNOWN', `providers.${name} refreshes with the '${oauthProfileFor(provider).id}' login, not '${wanted}'; its credentials would never refresh. Name ${hint}`);
    }
    return { name, provider };
  }
  if (matching.length === 1) return { name: matching[0]![0], provider: matching[0]![1] };
  if (matching.length === 0) throw new LoginError('LOGIN_PROVIDER_UNKNOWN', `no provider under providers: uses the '${wanted}' login; add ${hint} (the credential serves it)`);
  const native = matching.filter(([, provider]) => provider.type === nativeTypeOfKind[kind]);
  if (native.length === 1) return { name: native[0]![0], provider: native[0]![1] };
  const names = matching.map(([providerName]) => providerName).join(', ');
  const typeNote = native.length === 0 ? `none of them has type: ${nativeTypeOfKind[kind]}` : `${native.length} of them have type: ${nativeTypeOfKind[kind]}`;
  throw new LoginError('LOGIN_PROVIDER_UNKNOWN', `several providers use the '${wanted}' login (${names}) and ${typeNote}; pass --provider NAME`);
}

export interface LoginOptions {
  kind: LoginKind;
  providerName: string;
  provider: ReadonlyProviderConfig;
  store: EncryptedFileStore;
  events: SecurityEventSink;
  /** Who asked, for the event: `cli`, `management:<key id>`. */
  actor: string;
  /** Credential id; default `<provider>-<account email>` or `<provider>-login-<UTC time>`. */
  id?: string;
  /** Overwrite a stored credential with the same id (a re-login). */
  replace?: boolean;
  /** How long to wait for the browser, in milliseconds. */
  timeoutMs: number;
  /** Lines for the user: the URL and the outcome, never a token. */
  print: (line: string) => void;
  /** Opens the URL; returns whether it started a browser. Undefined = print only (`--no-browser`). */
  openBrowser?: (url: string) => boolean;
  /**
   * Tells the caller the authorize URL once the callback server listens, with the way to answer it
   * without a browser reaching that server (the management API hands the URL out, then takes the
   * redirect an admin pasted, or cancels).
   */
  onAuthorizeUrl?: (url: string, callback: LoginCallback) => void;
  tokenCall?: TokenHttpCall;
  now?: () => number;
}

/** The pending login's callback, seen from outside the flow. */
export interface LoginCallback {
  /** Where the provider sends the browser back (`http://localhost:PORT/…`). */
  readonly redirectUri: string;
  /** The redirect's query, as the callback server would have read it (callback-server.ts `deliver`). */
  deliver(query: URLSearchParams): 'taken' | 'already-answered';
  /** Ends the wait: the login fails (LOGIN_TIMEOUT, "login cancelled") and the callback server closes. */
  cancel(): void;
}

export interface LoginResult {
  id: string;
  provider: string;
  email: string | undefined;
  expiresAt: number | undefined;
}

/** Deadline of the code exchange, in milliseconds (the refresh's own is the same 30 s). */
const exchangeTimeoutMs = 30_000;

function defaultId(providerName: string, email: string | undefined, now: number): string {
  const stem = email === undefined ? `login-${new Date(now).toISOString().replace(/[-:]/g, '').replace(/\..*$/, '')}` : email.replace(/[^A-Za-z0-9._-]+/g, '-');
  return sanitizeCredentialId(`${providerName}-${stem}`.replace(/\.{2,}/g, '.').slice(0, 128));
}

export async function runLogin(options: LoginOptions): Promise<LoginResult> {
  const now = options.now ?? Date.now;
  try {
    const result = await login(options, now);
    options.events.record({ event_type: 'credential-login', result: 'success', actor: options.actor, credential_ids: [result.id], detail: `provider ${result.provider}, ${options.kind} login` });
    return result;
  } catch (error) {
    const message = redactText(error instanceof Error ? error.message : String(error));
    options.events.record({ event_type: 'credential-login', result: 'failure', actor: options.actor, ...(options.id === undefined ? {} : { credential_ids: [options.id] }), detail: `provider ${options.providerName}, ${options.kind} login: ${message}` });
    throw error;
  }
}

async function login(options: LoginOptions, now: () => number): Promise<LoginResult> {
  const profile = oauthProfileFor(options.provider);
  if (profile.id === 'google' && profile.clientSecret === undefined) {
    throw new LoginError('LOGIN_MISCONFIGURED', `providers.${options.providerName}.oauth.client_secret is not set: Google's token endpoint needs the Gemini CLI's client secret for the code exchange (and every refresh)`);
  }
  if (options.id !== undefined) sanitizeCredentialId(options.id);
  const { login: loginProfile } = profile;
  const pkce = createPkcePair();
  const state = createState();
  const callback = await startCallbackServer({ port: loginProfile.redirectPort, path: loginProfile.redirectPath, expectedState: state, timeoutMs: options.timeoutMs });
  let code: string;
  const redirectUri = `http://${loginProfile.redirectHost}:${callback.port}${loginProfile.redirectPath}`;
  try {
    const url = buildAuthorizeUrl(profile, loginProfile, { redirectUri, state, codeChallenge: pkce.challenge });
    options.onAuthorizeUrl?.(url, { redirectUri, deliver: (query) => callback.deliver(query), cancel: () => void callback.close() });
    const opened = options.openBrowser?.(url) ?? false;
    options.print(opened ? 'Your browser should open the sign-in page. If it does not, open this URL:' : 'Open this URL in a browser on this machine to sign in:');
    options.print('');
    options.print(`    ${url}`);
    options.print('');
    options.print(`Waiting for the sign-in to return to ${redirectUri} (at most ${Math.round(options.timeoutMs / 1000)} s; Ctrl-C cancels).`);
    options.print(`On another machine, forward the port first: ssh -L ${callback.port}:127.0.0.1:${callback.port} THIS-HOST`);
    code = await callback.code;
  } finally {
    await callback.close();
  }

  const signal = AbortSignal.timeout(exchangeTimeoutMs);
  let response;
  try {
    response = await (options.tokenCall ?? createTokenHttpCall())(buildCodeExchangeRequest(profile, loginProfile, { code, codeVerifier: pkce.verifier, redirectUri, state }), signal);
  } catch (error) {
    throw new LoginError('LOGIN_EXCHANGE_FAILED', `the code exchange failed: ${signal.aborted ? `no answer from the token endpoint within ${exchangeTimeoutMs / 1000} s` : (error as Error).message}; nothing was stored`);
  }
  const grant = parseTokenResponse(response.status, response.bodyText, now());
  if (!isTokenGrant(grant)) {
    throw new LoginError('LOGIN_EXCHANGE_FAILED', `the token endpoint refused the code exchange: ${grant.status}${grant.oauthError === undefined ? '' : ` (${grant.oauthError})`}; nothing was stored`);
  }
  registerSecrets([grant.accessToken, grant.refreshToken, grant.idToken].filter((token): token is string => token !== undefined));
  const account = loginAccountOf(response.bodyText, grant.idToken);
  if (grant.refreshToken === undefined) options.print('warning: the provider returned no refresh token; the credential works until it expires and must then be logged in again');

  const timestamp = new Date(now()).toISOString();
  const record: StoredCredentialRecord = {
    id: options.id ?? defaultId(options.providerName, account.email, now()),
    provider: options.providerName,
    kind: 'oauth',
    ...(account.email === undefined ? {} : { email: account.email }),
    access_token: grant.accessToken,
    ...(grant.refreshToken === undefined ? {} : { refresh_token: grant.refreshToken }),
    ...(grant.idToken === undefined ? {} : { id_token: grant.idToken }),
    ...(grant.expiresAt === undefined ? {} : { expires_at: grant.expiresAt }),
    created_at: timestamp,
    updated_at: timestamp,
    // `type` as the Go proxies' auth files name the login, so an export reads like theirs.
    extra: { type: options.kind, login: profile.id, ...(account.accountId === undefined ? {} : { account_id: account.accountId }) },
  };
  try {
    await options.store.write(record, { mustNotExist: options.replace !== true });
  } catch (error) {
    throw new LoginError('LOGIN_NOT_STORED', `signed in, but the credential was not stored: ${(error as Error).message}`);
  }
  const expires = record.expires_at === undefined ? 'no expiry given' : `access token valid until ${new Date(record.expires_at).toISOString()}`;
  options.print(`Signed in${record.email === undefined ? '' : ` as ${record.email}`}: credential '${record.id}' stored for provider '${record.provider}' (${expires}; refreshed automatically).`);
  options.print('A running server picks it up without a restart.');
  return { id: record.id, provider: record.provider, email: record.email, expiresAt: record.expires_at };
}
