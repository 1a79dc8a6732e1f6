import type { FastifyInstance, FastifyRequest, onRequestHookHandler, preParsingHookHandler } from 'fastify';
import type { ManagementServices } from '../../management/services.js';
import type { ExchangeObservers } from '../exchange.js';
import type { Runtime } from '../runtime.js';
import type { AuthenticationEvents } from './authenticate.js';
import { createClientKeyHook } from './client-key.js';
import { clientAddressOf } from './network.js';
import { createExchangeStartHook } from './exchange-start.js';
import { createCorsHook } from './cors.js';
import { createSecurityHeadersHook, type SecurityHeaderBlock } from './security-headers.js';
import { createManagementAuthHook } from './management-auth.js';
import { createManagementClientCertificateHook } from './management-client-certificate.js';
import { requestIdHook } from './request-id.js';
import { createShutdownGate } from './shutdown-gate.js';

/**
 * The request hooks, in the one order they run: cheapest first (DESIGN.md principle 3), every
 * refusal before the body is read where possible. Each entry is a factory compiled once at start
 * and registered with Fastify's own `addHook` in each scope it names (consecutive onRequest hooks
 * as one, chainOnRequestHooks below), so a scope costs nothing per request and a hook a scope does
 * not list never runs there. docs/architecture.md ("Hook order")
 * shows this list; a test checks the two agree.
 *
 * Adding a layer is one line here. A **slot** is a named place kept for a layer that is not built
 * yet: it is filled from `AppOptions.slotHooks` (main.ts hands in a hook built from what only it
 * has, such as the state backend; tests hand in a recorder), or its line is replaced by an entry
 * whose factory builds the hook. An empty slot installs nothing.
 */

/**
 * The three Fastify scopes (encapsulated plugins, create-app.ts): `public` (`/healthz`, `/readyz`:
 * no key, open to every address), `client` (the OpenAI and Anthropic routes and every unknown path:
 * client-key auth), `management` (`/v0/management/*`, `/metrics`: its own authenticator).
 */
export type Scope = 'public' | 'client' | 'management';

/** The named places kept for layers still to come (issue 11: network security; key governance). */
export type HookSlot = 'ip-filter' | 'ip-rate-limit' | 'key-policy';

/** What the factories compile from; built once in createApp. */
export interface HookContext {
  runtime: () => Runtime;
  isShuttingDown: () => boolean;
  bodyLimitBytes: number;
  observers: ExchangeObservers;
  /** The hooks filling slots; an absent one leaves its slot empty. */
  slotHooks: Readonly<Partial<Record<HookSlot, onRequestHookHandler>>>;
  /** The block built from `server.security.headers` when enabled; absent, no header hook is installed. */
  securityHeaders?: SecurityHeaderBlock;
  /** `server.security.cors.allowed_origins`; empty or absent, no CORS hook is installed. */
  corsAllowedOrigins?: readonly string[];
  /** The audit log's authentication events (both authenticator hooks); absent, none are reported. */
  authenticationEvents?: AuthenticationEvents;
  /** The management API's services: its hook reads the lockout and records refused logins. */
  management: ManagementServices;
  /** True with `server.tls.management_client_ca_file`: the management scope requires a verified client certificate. */
  managementClientCertificate?: boolean;
}

interface EntryBase {
  /** As in docs/architecture.md and in test output. */
  readonly name: string;
  readonly scopes: readonly Scope[];
  /** True for a slot: a place kept for a later layer. */
  readonly slot?: true;
}

/** `onRequest`: before the body is read. `preParsing`: after every onRequest hook, right before the body is read. */
export type RequestHookEntry =
  | (EntryBase & { readonly phase: 'onRequest'; create(context: HookContext): onRequestHookHandler | undefined })
  | (EntryBase & { readonly phase: 'preParsing'; create(context: HookContext): preParsingHookHandler | undefined });

/** The authentication events and the client address (resolved once per request, trusted proxies applied) they carry. */
function authenticationAudit(context: HookContext): { events?: AuthenticationEvents; clientIp?: (request: FastifyRequest) => string | undefined } {
  if (context.authenticationEvents === undefined) return {};
  return { events: context.authenticationEvents, clientIp: (request) => clientAddressOf(request, context.runtime())?.address };
}

const everyScope: readonly Scope[] = ['public', 'client', 'management'];
/** The scopes behind a key: the IP filter and the per-IP limit guard these, never the health checks a load balancer polls. */
const keyedScopes: readonly Scope[] = ['client', 'management'];

function slot(name: HookSlot, scopes: readonly Scope[]): RequestHookEntry {
  return { name, scopes, slot: true, phase: 'onRequest', create: (context) => context.slotHooks[name] };
}

export const requestHookOrder: readonly RequestHookEntry[] = [
  { name: 'exchange-start', phase: 'onRequest', scopes: everyScope, create: (context) => createExchangeStartHook(context.observers, context.runtime) },
  { name: 'request-id', phase: 'onRequest', scopes: everyScope, create: () => requestIdHook },
  {
    name: 'security-headers',
    phase: 'onRequest',
    scopes: everyScope,
    create: (context) => (context.securityHeaders === undefined ? undefined : createSecurityHeadersHook(context.securityHeaders)),
  },
  slot('ip-filter', keyedScopes),
  slot('ip-rate-limit', keyedScopes),
  { name: 'shutdown-gate', phase: 'onRequest', scopes: keyedScopes, create: (context) => createShutdownGate({ isShuttingDown: context.isShuttingDown }) },
  { name: 'cors', phase: 'onRequest', scopes: ['client'], create: (context) => createCorsHook({ allowedOrigins: context.corsAllowedOrigins ?? [] }) },
  { name: 'client-key', phase: 'onRequest', scopes: ['client'], create: (context) => createClientKeyHook({ authenticator: () => context.runtime().authenticator, ...authenticationAudit(context) }) },
  {
    name: 'management-client-certificate',
    phase: 'onRequest',
    scopes: ['management'],
    create: (context) => (context.managementClientCertificate === true ? createManagementClientCertificateHook(authenticationAudit(context)) : undefined),
  },
  { name: 'management-auth', phase: 'onRequest', scopes: ['management'], create: (context) => createManagementAuthHook({ runtime: context.runtime, services: context.management, ...authenticationAudit(context) }) },
  slot('key-policy', ['client']),
];

type CompiledHook = Pick<EntryBase, 'name' | 'scopes'> &
  ({ readonly phase: 'onRequest'; readonly handler: onRequestHookHandler } | { readonly phase: 'preParsing'; readonly handler: preParsingHookHandler });

/** The hooks of a list, each compiled once, ready to be added to the scopes that list them. */
export interface CompiledRequestHooks {
  /** Adds, in list order, every compiled hook that names `scope`. Called once per scope at start. */
  install(instance: FastifyInstance, scope: Scope): void;
  /** Names of the hooks installed in `scope`, in order (empty slots and layers turned off are absent). */
  installedIn(scope: Scope): string[];
}

/**
 * Compiles every entry of `order` once (so a hook shared by scopes is one function, and its
 * options are checked once), dropping the ones that install nothing.
 */
export function compileRequestHooks(order: readonly RequestHookEntry[], context: HookContext): CompiledRequestHooks {
  const names = new Set<string>();
  const compiled: CompiledHook[] = [];
  for (const entry of order) {
    if (names.has(entry.name)) throw new Error(`request hook '${entry.name}' is listed twice`);
    names.add(entry.name);
    const { name, scopes } = entry;
    if (entry.phase === 'onRequest') {
      const handler = entry.create(context);
      if (handler !== undefined) compiled.push({ name, scopes, phase: 'onRequest', handler });
    } else {
      const handler = entry.create(context);
      if (handler !== undefined) compiled.push({ name, scopes, phase: 'preParsing', handler });
    }
  }
  const inScope = (scope: Scope): CompiledHook[] => compiled.filter((hook) => hook.scopes.includes(scope));
  return {
    install(instance, scope) {
      let run: onRequestHookHandler[] = [];
      const addRun = (): void => {
        if (run.length > 0) instance.addHook('onRequest', chainOnRequestHooks(run));
        run = [];
      };
      for (const hook of inScope(scope)) {
        if (hook.phase === 'onRequest') run.push(hook.handler);
        else {
          addRun();
          instance.addHook('preParsing', hook.handler);
        }
      }
      addRun();
    },
    installedIn: (scope) => inScope(scope).map((hook) => hook.name),
  };
}

/**
 * Consecutive onRequest hooks as one Fastify hook, in the same order. Fastify's runner costs a
 * `hookIterator` call, a `reply.sent` getter and a step of its `next` per hook (the getter alone was
 * ~1.4 µs per request in the profile, with nine hooks in the client scope); here each hook's `done`
 * steps straight to the next one. The contract is Fastify's for callback hooks, which every hook of
 * the list is: call `done()` to go on, `done(error)` to fail the request, or answer and not call
 * `done` (the chain stops there). A hook that throws, now or from an asynchronous `done`, fails the
 * request like in Fastify's runner. An async (promise-returning) hook is not allowed in the list.
 */
export function chainOnRequestHooks(handlers: readonly onRequestHookHandler[]): onRequestHookHandler {
  for (const handler of handlers) {
    if (handler.constructor.name === 'AsyncFunction') throw new Error('request hooks in hook-order.ts use the done callback, not async functions');
  }
  const [only] = handlers;
  if (handlers.length === 1 && only !== undefined) return only;
  return function chainedRequestHooks(this: FastifyInstance, request, reply, done) {
    let index = 0;
    const next = <TError extends Error>(error?: TError): void => {
      if (error !== undefined && error !== null) {
        done(error);
        return;
      }
      const handler = handlers[index++];
      if (handler === undefined) {
        done();
        return;
      }
      try {
        void handler.call(this, request, reply, next);
      } catch (thrown) {
        done(thrown as Error);
      }
    };
    next();
  };
}
