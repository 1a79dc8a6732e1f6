import { Type } from '@sinclair/typebox';
import { managementLoginKinds } from '../../management/login-sessions.js';
import { endpoint, type ManagementEndpoint } from './management-endpoint.js';

/**
 * Subscription logins (Claude, Codex, Gemini) started through the API for a headless server: the
 * `cliproxyapi login` flow run by the server itself (management/login-sessions.ts), answered by a
 * browser reaching its callback port or by the admin handing in the URL the provider redirected the
 * browser to. `admin` only: a login adds an upstream account the gateway spends. The answers carry
 * the authorize URL and the outcome, never a token or an authorization code.
 */
const closed = <T extends Parameters<typeof Type.Object>[0]>(properties: T) => Type.Object(properties, { additionalProperties: false });
const LoginParams = closed({ login_id: Type.String({ pattern: '^[A-Za-z0-9_-]{22}$' }) });
const StartBody = closed({
  kind: Type.Union(managementLoginKinds.map((kind) => Type.Literal(kind))),
  provider: Type.Optional(Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{0,31}$' })),
  id: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$' })),
  replace: Type.Optional(Type.Boolean()),
  timeout_seconds: Type.Optional(Type.Integer({ minimum: 30, maximum: 3600 })),
});
/** The URL the browser was redirected to (`http://localhost:PORT/callback?code=…&state=…`), or its query. */
const CallbackBody = closed({ callback_url: Type.String({ minLength: 1, maxLength: 8192 }) });

export const loginEndpoints: readonly ManagementEndpoint[] = [
  endpoint({
    method: 'POST',
    url: '/logins',
    role: 'admin',
    body: StartBody,
    status: 201,
    handle: ({ body, services, runtime, actor }) =>
      services.logins.start(
        {
          kind: body.kind,
          ...(body.provider === undefined ? {} : { provider: body.provider }),
          ...(body.id === undefined ? {} : { id: body.id }),
          ...(body.replace === undefined ? {} : { replace: body.replace }),
          ...(body.timeout_seconds === undefined ? {} : { timeoutSeconds: body.timeout_seconds }),
        },
        runtime.loaded.config,
        actor,
      ),
  }),
  endpoint({ method: 'GET', url: '/logins/:login_id', role: 'admin', params: LoginParams, handle: ({ params, services }) => Promise.resolve(services.logins.view(params.login_id)) }),
  endpoint({
    method: 'POST',
    url: '/logins/:login_id/callback',
    role: 'admin',
    params: LoginParams,
    body: CallbackBody,
    handle: ({ params, body, services }) => services.logins.complete(params.login_id, body.callback_url),
  }),
  endpoint({ method: 'DELETE', url: '/logins/:login_id', role: 'admin', params: LoginParams, handle: ({ params, services }) => services.logins.cancel(params.login_id) }),
];
