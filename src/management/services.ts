import type { UsageEntry } from '../usage/usage-store.js';
import { createCredentialService, type CredentialService } from '../credentials/credential-service.js';
import type { EncryptedFileStore } from '../credentials/file-store.js';
import type { SecurityEventSink } from '../credentials/security-events.js';
import { MemoryStateBackend } from '../state/memory.js';
import type { StateBackend } from '../state/types.js';
import { IpBlockService, type BanWriter } from './ip-blocks.js';
import { ManagementLockout } from './lockout.js';
import { LoginSessions, type LoginSessionsOptions } from './login-sessions.js';
import { ProviderSwitch } from './provider-switch.js';
import { TotpGuard } from './totp-guard.js';
import { TotpStore } from './totp-store.js';

/** The result of a config reload asked for through the API. */
export interface ReloadOutcome {
  readonly applied: boolean;
  /** Why it was refused (the loader's problems: paths and rules, never values). */
  readonly problem?: string;
}

/**
 * What the management API works with, created once per process by the composition root (main.ts)
 * from the parts only it holds: the state backend, the ban mirror, the credential store, the
 * security event sink. The routes (server/routes/management*.ts) call these and nothing else, so the
 * API does what the CLI does through the same functions.
 */
export interface ManagementServices {
  readonly lockout: ManagementLockout;
  readonly totpStore: TotpStore;
  readonly totpGuard: TotpGuard;
  readonly ipBlocks: IpBlockService;
  readonly providers: ProviderSwitch;
  /** Subscription logins started through the API (`cliproxyapi login`'s flow, run by the server). */
  readonly logins: LoginSessions;
  /** Where every management call and refused login is recorded (the audit log once it is wired in main.ts). */
  readonly events: SecurityEventSink;
  /** The CLI's credential service acting as `actor`; undefined while `auth.encryption.enabled` is false. */
  credentials(actor: string): CredentialService | undefined;
  /** Re-reads the config source and applies it like a file change; undefined when there is none to re-read. */
  readonly reloadConfig: (() => ReloadOutcome) | undefined;
  /** Rebuilds the running runtime from the current config (after the API changed the client key file). */
  readonly refreshRuntime: () => void;
  /** Counters for the security summary (network refusals and the like), read as they are. */
  readonly counters: () => Readonly<Record<string, number>>;
  /** Every usage entry: the usage file plus what this process has not flushed yet; undefined while `usage.enabled` is false. */
  readonly usage: (() => Promise<UsageEntry[]>) | undefined;
}

export interface ManagementServicesOptions {
  state: StateBackend;
  /** The ban mirror (net/ban-mirror.ts); without one, bans go to the backend directly. */
  bans?: BanWriter;
  events: SecurityEventSink;
  store?: EncryptedFileStore;
  totpFile: string;
  reloadConfig?: () => ReloadOutcome;
  refreshRuntime?: () => void;
  counters?: () => Readonly<Record<string, number>>;
  usage?: () => Promise<UsageEntry[]>;
  now?: () => number;
  /** The code exchange of API-started logins (tests hand in their own; default: the refresher's HTTP call). */
  tokenCall?: LoginSessionsOptions['tokenCall'];
}

export function createManagementServices(options: ManagementServicesOptions): ManagementServices {
  const now = options.now ?? Date.now;
  const { state, store } = options;
  const bans: BanWriter = options.bans ?? { ban: (address, ttlMs) => state.ban(address, ttlMs), unban: (address) => state.unban(address) };
  return {
    lockout: new ManagementLockout(state, now),
    totpStore: new TotpStore(options.totpFile, () => store?.keyring),
    totpGuard: new TotpGuard(state, now),
    ipBlocks: new IpBlockService(state, bans, now),
    providers: new ProviderSwitch(),
    logins: new LoginSessions({ store, events: options.events, now, ...(options.tokenCall === undefined ? {} : { tokenCall: options.tokenCall }) }),
    events: options.events,
    credentials: (actor) => (store === undefined ? undefined : createCredentialService({ store, events: options.events, actor })),
    reloadConfig: options.reloadConfig,
    refreshRuntime: options.refreshRuntime ?? (() => undefined),
    counters: options.counters ?? (() => ({})),
    usage: options.usage,
  };
}

/**
 * For an app built without the composition root (tests of create-app, tools): an in-process state
 * backend, so the lockout and TOTP replay rules hold there too; no credential store, no reload.
 */
export function createStandaloneManagementServices(events: SecurityEventSink, totpFile: string): ManagementServices {
  return createManagementServices({ state: new MemoryStateBackend(), events, totpFile });
}
