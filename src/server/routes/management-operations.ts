import { Type } from '@sinclair/typebox';
import { readAuditPage } from '../../management/audit-view.js';
import { KeyId } from '../../config/schema.js';
import { redactedConfigView } from '../../management/config-view.js';
import { maxBlockSeconds } from '../../management/ip-blocks.js';
import { ManagementRefusal } from '../../management/refusal.js';
import { listManagementKeys } from '../../security/management-key-file.js';
import { parseSince, summarizeUsage } from '../../usage/usage-query.js';
import { endpoint, type ManagementEndpoint } from './management-endpoint.js';

/**
 * The operational endpoints: who am I, IP blocks, provider switches, the running config and the
 * security summary. Read-only ones are open to every role; the day-to-day responses (block,
 * unblock, disable, enable, reload) need `operator`. Inputs are closed TypeBox objects.
 */
const closed = <T extends Parameters<typeof Type.Object>[0]>(properties: T) => Type.Object(properties, { additionalProperties: false });
const IpParams = closed({ ip: Type.String({ minLength: 2, maxLength: 64 }) });
const ProviderParams = closed({ name: Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{0,31}$' }) });
/**
 * The audit query: every parameter a bounded string (repeated parameters arrive as arrays and are
 * refused); dates and numbers are read by management/audit-view.ts, which names the parameter.
 */
const eventTypeName = '[a-z][a-z0-9-]{0,63}';
const AuditQuery = closed({
  since: Type.Optional(Type.String({ maxLength: 40 })),
  until: Type.Optional(Type.String({ maxLength: 40 })),
  event_type: Type.Optional(Type.String({ pattern: `^${eventTypeName}(,${eventTypeName}){0,15}$` })),
  request_id: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
  user_id: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
  ip: Type.Optional(Type.String({ minLength: 2, maxLength: 64 })),
  result: Type.Optional(Type.Union([Type.Literal('success'), Type.Literal('failure')])),
  after_seq: Type.Optional(Type.String({ maxLength: 16 })),
  limit: Type.Optional(Type.String({ maxLength: 8 })),
});
/** The usage query (`cliproxyapi usage` has the same options): a key id, how far back, and a split. */
const UsageQuery = closed({
  key: Type.Optional(KeyId),
  since: Type.Optional(Type.String({ pattern: '^[0-9]{1,6}(d|h|m)$' })),
  by: Type.Optional(Type.Union([Type.Literal('provider'), Type.Literal('model'), Type.Literal('credential')])),
});
const BlockBody = closed({
  ip: Type.String({ minLength: 2, maxLength: 64 }),
  ttl_seconds: Type.Integer({ minimum: 1, maximum: maxBlockSeconds }),
});

export const operationEndpoints: readonly ManagementEndpoint[] = [
  endpoint({
    method: 'GET',
    url: '/usage',
    role: 'auditor',
    query: UsageQuery,
    handle: async ({ query, services }) => {
      if (services.usage === undefined) throw new ManagementRefusal('GW_MANAGEMENT_CONFLICT', 'usage accounting is off (usage.enabled: false)');
      const since = Date.now() - (parseSince(query.since ?? '7d') ?? 0);
      const rows = summarizeUsage(await services.usage(), { since, ...(query.key === undefined ? {} : { key: query.key }), ...(query.by === undefined ? {} : { by: query.by }) });
      return { since: new Date(since).toISOString(), ...(query.by === undefined ? {} : { by: query.by }), usage: rows };
    },
  }),
  endpoint({
    method: 'GET',
    url: '/whoami',
    role: 'auditor',
    handle: async ({ principal, services }) => ({ id: principal.id, role: principal.role, totp_enrolled: await services.totpStore.isEnrolled(principal.id) }),
  }),
  endpoint({ method: 'GET', url: '/ip-blocks', role: 'auditor', handle: async ({ services }) => ({ ip_blocks: await services.ipBlocks.list() }) }),
  endpoint({
    method: 'POST',
    url: '/ip-blocks',
    role: 'operator',
    body: BlockBody,
    status: 201,
    handle: async ({ body, services }) => services.ipBlocks.block(body.ip, body.ttl_seconds),
  }),
  endpoint({
    method: 'DELETE',
    url: '/ip-blocks/:ip',
    role: 'operator',
    params: IpParams,
    handle: async ({ params, services }) => {
      await services.ipBlocks.unblock(params.ip);
      return { ip: params.ip, unblocked: true };
    },
  }),
  endpoint({
    method: 'GET',
    url: '/providers',
    role: 'auditor',
    handle: ({ runtime, services }) =>
      Promise.resolve({
        providers: [...runtime.providers.values()].map((provider) => ({
          name: provider.name,
          type: provider.config.type,
          models: provider.config.models.map((model) => model.alias ?? model.name),
          credentials: provider.pool.size,
          disabled: services.providers.isDisabled(provider.name),
          ...(services.providers.entry(provider.name) ?? {}),
        })),
      }),
  }),
  endpoint({
    method: 'POST',
    url: '/providers/:name/disable',
    role: 'operator',
    destructive: true,
    params: ProviderParams,
    handle: ({ params, runtime, services, actor }) => {
      if (!runtime.providers.has(params.name)) throw new ManagementRefusal('GW_NOT_FOUND', `no provider '${params.name}'`);
      const changed = services.providers.disable(params.name, actor);
      return Promise.resolve({ name: params.name, disabled: true, changed });
    },
  }),
  endpoint({
    method: 'POST',
    url: '/providers/:name/enable',
    role: 'operator',
    params: ProviderParams,
    handle: ({ params, runtime, services }) => {
      if (!runtime.providers.has(params.name)) throw new ManagementRefusal('GW_NOT_FOUND', `no provider '${params.name}'`);
      const changed = services.providers.enable(params.name);
      return Promise.resolve({ name: params.name, disabled: false, changed });
    },
  }),
  endpoint({
    method: 'GET',
    url: '/audit',
    role: 'auditor',
    query: AuditQuery,
    handle: async ({ runtime, query }) => {
      const page = await readAuditPage(runtime.loaded.config, query);
      return { chain: page.chain, records: page.records, next_after_seq: page.nextAfterSeq };
    },
  }),
  endpoint({ method: 'GET', url: '/config', role: 'auditor', handle: ({ runtime }) => Promise.resolve({ config: redactedConfigView(runtime.loaded.config) }) }),
  endpoint({
    method: 'POST',
    url: '/config/reload',
    role: 'operator',
    handle: ({ services }) => {
      if (services.reloadConfig === undefined) throw new ManagementRefusal('GW_MANAGEMENT_CONFLICT', 'this gateway was started without a config source to re-read');
      const outcome = services.reloadConfig();
      // A refused reload keeps the running config; the problems (paths and rules, never values) are the answer.
      if (!outcome.applied) throw new ManagementRefusal('GW_MANAGEMENT_CONFLICT', `config reload refused; the running config is kept: ${outcome.problem ?? 'see the log'}`);
      return Promise.resolve({ reloaded: true });
    },
  }),
  endpoint({
    method: 'GET',
    url: '/security/summary',
    role: 'auditor',
    handle: async ({ runtime, services }) => {
      const config = runtime.loaded.config;
      const roles = { admin: 0, operator: 0, auditor: 0 };
      for (const key of listManagementKeys(config.management)) roles[key.role] += 1;
      const credentials = await services.credentials('management:summary')?.list();
      return {
        generated_at: new Date().toISOString(),
        tls: config.server.tls.enabled,
        host: config.server.host,
        client_keys: runtime.authenticator.size,
        management: { allow_remote: config.management.allow_remote, keys_by_role: roles, lockouts_started: services.lockout.lockoutsStarted },
        ip_filter: { allowlist_enabled: config.server.security.ip_allowlist.enabled, denylist_entries: config.server.security.ip_denylist.length, dynamic_blocks: (await services.ipBlocks.list()).length },
        rate_limit: config.server.security.rate_limit.enabled,
        providers: { configured: runtime.providers.size, disabled: [...runtime.providers.keys()].filter((name) => services.providers.isDisabled(name)) },
        credentials: credentials === undefined ? { encryption: false } : { encryption: true, stored: credentials.credentials.length, unreadable: credentials.unreadable.length, plaintext: credentials.plaintext.length },
        audit: config.audit.enabled,
        counters: services.counters(),
      };
    },
  }),
];
