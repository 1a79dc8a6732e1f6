import { randomBytes } from 'node:crypto';
import type { ReadonlyConfig } from '../config/schema.js';
import type { EncryptedFileStore } from '../credentials/file-store.js';
import type { SecurityEventSink } from '../credentials/security-events.js';
import { LoginError } from '../login/login-error.js';
import { resolveLoginProvider, runLogin, type LoginCallback, type LoginOptions, type LoginResult } from '../login/login-flow.js';
import { loginKinds, type LoginKind } from '../login/login-kinds.js';
import { redactText } from '../security/redact.js';
import { ManagementRefusal } from './refusal.js';

/**
 * Logins started through the management API (`POST /v0/management/logins`), for a headless server
 * where nobody runs `cliproxyapi login` at a terminal. Each is the CLI's own flow (login/login-flow.ts:
 * PKCE, state, the one-shot loopback callback server, the code exchange, the encrypted write and the
 * `credential-login` event), so a credential stored this way is the record the CLI stores. The admin
 * gets the authorize URL; the login then completes either by the browser reaching the callback port
 * (a forwarded port) or by the admin handing in the URL the provider redirected the browser to
 * (`complete`), which goes through the same state check and one-shot rule as a callback.
 *
 * Bounded: at most `maxPending` logins wait at once (each holds a loopback port), each ends after
 * its timeout, and a finished one is remembered (without tokens: id, account, outcome) for
 * `keepFinishedMs` so the admin can read how it ended.
 */
export interface LoginSessionView {
  login_id: string;
  kind: LoginKind;
  provider: string;
  state: 'pending' | 'succeeded' | 'failed';
  authorize_url: string;
  redirect_uri: string;
  /** ISO time after which a pending login fails with LOGIN_TIMEOUT. */
  expires_at: string;
  credential_id?: string;
  email?: string;
  /** Why it failed: the login's operator code and its message (never a token or a code). */
  error?: { code: string; message: string };
}

interface Session {
  view: LoginSessionView;
  callback: LoginCallback;
  /** Settles when the flow ends (never rejects: the outcome is written into `view`). */
  done: Promise<void>;
}

export interface LoginStartInput {
  kind: LoginKind;
  provider?: string;
  id?: string;
  replace?: boolean;
  /** How long the login waits for its answer, in seconds. */
  timeoutSeconds?: number;
}

export interface LoginSessionsOptions {
  store: EncryptedFileStore | undefined;
  events: SecurityEventSink;
  now?: () => number;
  tokenCall?: LoginOptions['tokenCall'];
  /** Logins waiting at once (default 4). */
  maxPending?: number;
  /** How long a finished login's outcome stays readable, in milliseconds (default 10 minutes). */
  keepFinishedMs?: number;
}

/** The logins the API starts: the CLI's (re-exported for the routes, which do not import login/ themselves). */
export const managementLoginKinds: readonly LoginKind[] = loginKinds;

/** Default wait for the admin's browser: 10 minutes (the CLI's is 5; a remote admin needs longer). */
export const defaultManagementLoginTimeoutSeconds = 600;

export class LoginSessions {
  private readonly sessions = new Map<string, Session>();
  /** login id → when it finished (milliseconds), for forgetting it after `keepFinishedMs`. */
  private readonly finishedTimes = new Map<string, number>();
  private readonly now: () => number;

  constructor(private readonly options: LoginSessionsOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Starts a login and answers once its callback server listens, with the URL the admin opens. */
  async start(input: LoginStartInput, config: ReadonlyConfig, actor: string): Promise<LoginSessionView> {
    const store = this.options.store;
    if (store === undefined) throw new ManagementRefusal('GW_MANAGEMENT_CONFLICT', 'the credential store is off (auth.encryption.enabled: false): a login has nowhere to store its tokens');
    this.forgetFinished();
    const pending = [...this.sessions.values()].filter((session) => session.view.state === 'pending').length;
    if (pending >= (this.options.maxPending ?? 4)) throw new ManagementRefusal('GW_MANAGEMENT_CONFLICT', `${pending} logins are already waiting; finish or cancel one first (DELETE /v0/management/logins/{login_id})`);
    const target = refusalOf(() => resolveLoginProvider(config, input.kind, input.provider));
    const timeoutSeconds = input.timeoutSeconds ?? defaultManagementLoginTimeoutSeconds;
    const loginId = randomBytes(16).toString('base64url');

    let announce!: (value: { url: string; callback: LoginCallback }) => void;
    const announced = new Promise<{ url: string; callback: LoginCallback }>((resolve) => (announce = resolve));
    const flow = runLogin({
      kind: input.kind,
      providerName: target.name,
      provider: target.provider,
      store,
      events: this.options.events,
      actor,
      ...(input.id === undefined ? {} : { id: input.id }),
      replace: input.replace === true,
      timeoutMs: timeoutSeconds * 1000,
      print: () => undefined, // the view carries what the CLI prints
      onAuthorizeUrl: (url, callback) => announce({ url, callback }),
      ...(this.options.tokenCall === undefined ? {} : { tokenCall: this.options.tokenCall }),
      now: this.now,
    });
    // Before the URL exists the flow can only fail to start (misconfigured, port busy): that is the caller's answer.
    const first = await Promise.race([announced, flow.then(() => undefined, (error: unknown) => ({ error }))]);
    if (first === undefined || 'error' in first) throw refusalFromLogin(first?.error);

    const view: LoginSessionView = {
      login_id: loginId,
      kind: input.kind,
      provider: target.name,
      state: 'pending',
      authorize_url: first.url,
      redirect_uri: first.callback.redirectUri,
      expires_at: new Date(this.now() + timeoutSeconds * 1000).toISOString(),
    };
    const finishedAt = (): void => void this.finishedTimes.set(loginId, this.now());
    const done = flow.then(
      (result: LoginResult) => {
        view.state = 'succeeded';
        view.credential_id = result.id;
        if (result.email !== undefined) view.email = result.email;
        finishedAt();
      },
      (error: unknown) => {
        view.state = 'failed';
        view.error = error instanceof LoginError ? { code: error.code, message: error.message } : { code: 'GW_INTERNAL', message: redactText(error instanceof Error ? error.message : String(error)) };
        finishedAt();
      },
    );
    this.sessions.set(loginId, { view, callback: first.callback, done });
    return { ...view };
  }

  /** A login's state, or a 404 refusal. */
  view(loginId: string): LoginSessionView {
    return { ...this.session(loginId).view };
  }

  /**
   * The URL the provider redirected the browser to (or its query alone), handed in by the admin:
   * answered like a callback, then waited for (the code exchange has its own 30 s deadline).
   */
  async complete(loginId: string, redirectedTo: string): Promise<LoginSessionView> {
    const session = this.session(loginId);
    const query = queryOf(redirectedTo);
    if (session.view.state !== 'pending' || session.callback.deliver(query) === 'already-answered') {
      throw new ManagementRefusal('GW_MANAGEMENT_CONFLICT', `login ${loginId} already received its answer (state: ${session.view.state}); start a new login if you need one`);
    }
    await session.done;
    return { ...session.view };
  }

  /** Cancels a pending login (it fails with LOGIN_TIMEOUT, "login cancelled"); a finished one is forgotten. */
  async cancel(loginId: string): Promise<LoginSessionView> {
    const session = this.session(loginId);
    session.callback.cancel();
    await session.done;
    this.sessions.delete(loginId);
    return { ...session.view };
  }

  /** At shutdown: every pending login ends and its callback server closes. */
  async closeAll(): Promise<void> {
    const sessions = [...this.sessions.values()];
    for (const session of sessions) session.callback.cancel();
    await Promise.all(sessions.map((session) => session.done));
    this.sessions.clear();
  }

  private session(loginId: string): Session {
    this.forgetFinished();
    const session = this.sessions.get(loginId);
    if (session === undefined) throw new ManagementRefusal('GW_NOT_FOUND', `no login '${loginId}' (finished logins are kept ${Math.round((this.options.keepFinishedMs ?? 600_000) / 60_000)} minutes)`);
    return session;
  }

  private forgetFinished(): void {
    const oldest = this.now() - (this.options.keepFinishedMs ?? 600_000);
    for (const [loginId, at] of this.finishedTimes) {
      if (at > oldest) continue;
      this.finishedTimes.delete(loginId);
      this.sessions.delete(loginId);
    }
  }
}

/** A full redirect URL, or a query string with or without its `?`. */
function queryOf(redirectedTo: string): URLSearchParams {
  const text = redirectedTo.trim();
  if (/^https?:\/\//i.test(text)) {
    try {
      return new URL(text).searchParams;
    } catch {
      throw new ManagementRefusal('GW_INVALID_REQUEST', 'Invalid request: callback_url: not a URL');
    }
  }
  return new URLSearchParams(text.startsWith('?') ? text.slice(1) : text);
}

function refusalOf<T>(run: () => T): T {
  try {
    return run();
  } catch (error) {
    throw refusalFromLogin(error);
  }
}

/**
 * A login that could not start. The input passed its schema, so what refuses it is the server's
 * state (409): the config has no provider for that login, or several and none named, or lacks the
 * client secret; or the callback port is taken. The login's code and message say which.
 */
function refusalFromLogin(error: unknown): Error {
  if (!(error instanceof LoginError)) return error instanceof Error ? error : new Error(String(error));
  return new ManagementRefusal('GW_MANAGEMENT_CONFLICT', `${error.code}: ${error.message.replace(/--provider NAME/g, '"provider"')}`);
}
