import type { ManagementRole } from '../security/principal.js';

/**
 * Who may do what in the management API. Three roles, each including the one below it:
 *
 * | role | may |
 * |---|---|
 * | `auditor` | read: blocks, providers, credentials (listing, no secrets), key ids, audit log, redacted config, security summary |
 * | `operator` | the auditor's reads, plus the day-to-day responses: block and unblock an IP, disable and enable a provider, reload the config |
 * | `admin` | everything: export and delete credentials, create and revoke client keys, enroll TOTP |
 *
 * A ladder rather than a permission matrix: every action names the lowest role that may run it, so
 * the table in docs/operations.md is the whole truth and a new action cannot be reachable by a
 * role by accident (it must name one).
 */
const rank: Readonly<Record<ManagementRole, number>> = { auditor: 0, operator: 1, admin: 2 };

/** True when `role` is `required` or above it. */
export function roleAllows(role: ManagementRole | undefined, required: ManagementRole): boolean {
  return role !== undefined && rank[role] >= rank[required];
}

/** Every role, lowest first (tests walk them per endpoint). */
export const managementRoles: readonly ManagementRole[] = ['auditor', 'operator', 'admin'];
