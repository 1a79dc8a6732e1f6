import type { ClientKeyPolicy } from './key-policy.js';

/**
 * Who a request acts as, once an authenticator accepted it: the one place scopes, budgets, the
 * per-request record and the audit log read the caller from. Built once per key when the
 * authenticator is compiled (a config load or reload), so authenticating a request allocates
 * nothing: every request of one key carries the same frozen object.
 */

/** Which authenticator accepted the request: a client key (client API) or a management key (management scope). */
export type PrincipalSource = 'client-key' | 'management-key';

/**
 * What the principal may do beyond being authenticated: a client key's scopes, expiry, limits and
 * budgets (key-policy.ts), compiled from config with the key and read by the key-policy hook and
 * the routes, never parsed per request. Management keys carry the unrestricted policy.
 */
export type PrincipalPolicy = ClientKeyPolicy;

/**
 * What a management key may do (src/management/roles.ts has the table): `admin` everything,
 * `operator` the day-to-day responses (block and unblock, disable a provider, reload), `auditor`
 * read-only. The config's `viewer` is read as `auditor`.
 */
export type ManagementRole = 'admin' | 'operator' | 'auditor';

export interface Principal {
  /** The key's id from the config or key file (`alice`): safe in logs, audit records and metric labels. */
  readonly id: string;
  readonly source: PrincipalSource;
  readonly policy: PrincipalPolicy;
  /** Management keys only: the key's role. A client-key principal never has one. */
  readonly role?: ManagementRole;
}

/** The policy of a key with no restrictions configured. */
export const unrestrictedPolicy: PrincipalPolicy = Object.freeze({ scoped: false, limited: false });

/** A principal for one key, frozen so a later layer cannot change who every request of the key is. */
export function createPrincipal(id: string, source: PrincipalSource, policy: PrincipalPolicy = unrestrictedPolicy, role?: ManagementRole): Principal {
  return Object.freeze(role === undefined ? { id, source, policy } : { id, source, policy, role });
}
