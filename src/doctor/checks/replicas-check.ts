import { pass, skipWithoutConfig, fail, type CheckResult, type DoctorContext } from '../check-result.js';

/**
 * `replicas`: several copies of the proxy must share their limits, bans, lockouts and refresh
 * locks, which only the Redis state backend does across hosts. `serve --workers N` on one host
 * shares the primary's memory backend over IPC, so workers alone need no Redis.
 */
export function checkReplicas(context: DoctorContext): CheckResult {
  const { config } = context;
  if (config === undefined) return skipWithoutConfig('replicas');
  const backend = config.state.backend;
  const workers = context.workers > 1 ? ` x ${context.workers} workers` : '';
  if (context.replicas > 1 && backend !== 'redis') {
    return fail(
      'replicas',
      `${context.replicas} replicas with state.backend: ${backend}: each replica would keep its own rate limits, IP blocks, lockouts and refresh locks (a client gets ${context.replicas}x its limit, a blocked IP comes back through another replica)`,
      'set state: { backend: redis, url: redis://HOST:6379 } shared by every replica, or run one replica (with serve --workers N for more cores)',
    );
  }
  if (context.replicas > 1) return pass('replicas', `${context.replicas} replicas${workers} sharing the Redis state backend`);
  return pass('replicas', `one replica${workers} (${context.workers > 1 ? 'workers share the primary\'s memory state over IPC' : `state.backend: ${backend}`}); pass --replicas N to check a scaled deployment`);
}
