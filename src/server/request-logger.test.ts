import { Writable } from 'node:stream';
import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';
import { lazyRequestLoggerFactory } from './request-logger.js';

function capture(): { stream: Writable; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString('utf8'));
      done();
    },
  });
  return { stream, lines: () => chunks.join('').split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>) };
}

describe('the per-request logger, made when first used', () => {
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await close?.();
    close = undefined;
  });

  it('writes a request\'s lines with its reqId through the real child, and makes no child for a request that logs nothing', async () => {
    const { stream, lines } = capture();
    const logger = createLogger({ level: 'info', destination: stream });
    let children = 0;
    const child = logger.child.bind(logger);
    logger.child = ((...args: Parameters<typeof logger.child>) => {
      children += 1;
      return child(...args);
    }) as typeof logger.child;
    const app = Fastify({ loggerInstance: logger, disableRequestLogging: true, childLoggerFactory: lazyRequestLoggerFactory, genReqId: () => 'request-one' });
    close = () => app.close();
    app.get('/quiet', () => ({ ok: true }));
    app.get('/talks', (request) => {
      request.log.info({ step: 1 }, 'first');
      request.log.warn('second');
      return { level: request.log.level };
    });
    await app.ready();
    children = 0; // Fastify's own (one per instance, at start)

    expect((await app.inject({ url: '/quiet' })).statusCode).toBe(200);
    expect(children).toBe(0);

    const answer = await app.inject({ url: '/talks' });
    expect(answer.json()).toEqual({ level: 'info' });
    expect(children).toBe(1); // two lines, one child
    const written = lines();
    expect(written.map((line) => [line['msg'], line['reqId']])).toEqual([
      ['first', 'request-one'],
      ['second', 'request-one'],
    ]);
    expect(written[0]).toMatchObject({ step: 1, level: 30 });
    expect(written[1]).toMatchObject({ level: 40 });
  });

  it('keeps a level set before the first line', () => {
    const { stream, lines } = capture();
    const logger = createLogger({ level: 'info', destination: stream });
    const requestLogger = lazyRequestLoggerFactory.call(Fastify(), logger, { reqId: 'r' }, {}, undefined as never);
    requestLogger.level = 'error';
    requestLogger.info('dropped');
    requestLogger.error('kept');
    expect(lines().map((line) => line['msg'])).toEqual(['kept']);
  });
});
