import fastify, { type onRequestHookHandler } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { chainOnRequestHooks, compileRequestHooks, type HookContext, type RequestHookEntry } from './hook-order.js';

/** One Fastify app with `hooks` installed through compileRequestHooks (so chained), and a route that says it ran. */
async function appWith(hooks: onRequestHookHandler[]) {
  const entries: RequestHookEntry[] = hooks.map((handler, index) => ({ name: `hook-${index}`, phase: 'onRequest', scopes: ['client'], create: () => handler }));
  const compiled = compileRequestHooks(entries, {} as HookContext);
  const app = fastify();
  let handled = 0;
  app.register((scope, _options, registered) => {
    compiled.install(scope, 'client');
    scope.get('/probe', () => {
      handled += 1;
      return { handled: true };
    });
    registered();
  });
  await app.ready();
  return { app, handled: () => handled };
}

let apps: { close(): Promise<unknown> }[] = [];
afterEach(async () => {
  await Promise.all(apps.map((app) => app.close()));
  apps = [];
});

describe('chainOnRequestHooks (consecutive onRequest hooks as one Fastify hook)', () => {
  it('runs every hook in list order, then the route', async () => {
    const seen: string[] = [];
    const { app, handled } = await appWith(['a', 'b', 'c'].map((name): onRequestHookHandler => (_request, _reply, done) => (seen.push(name), done())));
    apps.push(app);
    const response = await app.inject({ method: 'GET', url: '/probe' });
    expect(response.statusCode).toBe(200);
    expect(seen).toEqual(['a', 'b', 'c']);
    expect(handled()).toBe(1);
  });

  it('stops at a hook that answers without calling done: no later hook and no route run', async () => {
    const seen: string[] = [];
    const refusing: onRequestHookHandler = (_request, reply) => {
      seen.push('refuse');
      void reply.code(403).send({ refused: true });
    };
    const later: onRequestHookHandler = (_request, _reply, done) => (seen.push('later'), done());
    const { app, handled } = await appWith([(_request, _reply, done) => (seen.push('first'), done()), refusing, later]);
    apps.push(app);
    const response = await app.inject({ method: 'GET', url: '/probe' });
    expect(response.statusCode).toBe(403);
    expect(response.json()).toEqual({ refused: true });
    expect(seen).toEqual(['first', 'refuse']);
    expect(handled()).toBe(0);
  });

  it('fails the request on done(error), on a throw, and on a throw after an asynchronous done', async () => {
    const failing = (hook: onRequestHookHandler) => [(_request, _reply, done) => done(), hook, (_request, _reply, done) => done()] as onRequestHookHandler[];
    const cases: onRequestHookHandler[] = [
      (_request, _reply, done) => done(Object.assign(new Error('refused by done'), { statusCode: 418 })),
      () => {
        throw Object.assign(new Error('thrown'), { statusCode: 418 });
      },
    ];
    for (const hook of cases) {
      const { app, handled } = await appWith(failing(hook));
      apps.push(app);
      const response = await app.inject({ method: 'GET', url: '/probe' });
      expect(response.statusCode).toBe(418);
      expect(handled()).toBe(0);
    }
    // The Redis-backed limiter calls done from a promise: a hook after it that throws must still fail the request (not an unhandled rejection).
    const asynchronous: onRequestHookHandler = (_request, _reply, done) => void Promise.resolve().then(() => done());
    const throwing: onRequestHookHandler = () => {
      throw Object.assign(new Error('thrown later'), { statusCode: 418 });
    };
    const { app, handled } = await appWith([asynchronous, throwing]);
    apps.push(app);
    const response = await app.inject({ method: 'GET', url: '/probe' });
    expect(response.statusCode).toBe(418);
    expect(handled()).toBe(0);
  });

  it('returns a lone hook as it is, and refuses an async hook (its promise would be dropped)', () => {
    const lone: onRequestHookHandler = (_request, _reply, done) => done();
    expect(chainOnRequestHooks([lone])).toBe(lone);
    const asyncHook = (async () => {
      await Promise.resolve();
    }) as unknown as onRequestHookHandler;
    expect(() => chainOnRequestHooks([lone, asyncHook])).toThrow(/done callback/);
  });
});
