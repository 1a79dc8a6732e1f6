import cluster from 'node:cluster';
import { loadConfig } from '../config/load.js';
import { applyReload, codeField, startGateway } from '../main.js';
import { IpcStateBackend } from '../state/ipc-client.js';
import { createClusterMetricsClient, type ClusterMetricsClient } from './metrics-gathering.js';
import { clusterMessageType, processChannel, providerSwitchesEnvironmentName, providerSwitchesFromEnvironment, type PrimaryToWorkerMessage, type WorkerToPrimaryMessage } from './messages.js';

export interface RunClusterWorkerOptions {
  configPath: string | undefined;
}

/**
 * One worker of `serve --workers N` (forked by primary.ts, which already printed the first client
 * key, repaired permissions and migrated files when asked). It loads the config itself, starts the
 * same gateway as a single process on the port the cluster shares (the primary hands each accepted
 * connection to a worker, round-robin), and:
 * - with `state.backend: memory` uses the primary's store through IPC, so every limit, ban, lock
 *   and cooldown is one across workers; with Redis it connects to Redis itself;
 * - reloads when the primary says the config changed (the primary watches the files: one watch,
 *   one verdict on an invalid edit, every worker switching together);
 * - sends a provider switched through the management API to the primary, which relays it to every
 *   other worker, and applies the switches the primary relays (all of them when it starts);
 * - drains and exits on the primary's `shutdown`, or on its own SIGTERM (then the primary replaces
 *   it). SIGINT is ignored: Ctrl-C reaches the whole process group and the primary coordinates.
 */
export async function runClusterWorker(options: RunClusterWorkerOptions): Promise<void> {
  try {
    await serveAsWorker(options);
  } finally {
    // The IPC channel is what keeps a worker alive once its servers are closed, or when its start
    // failed (the CLI then prints the reason and the primary sees the exit). The cluster's own
    // disconnect marks the exit as intended, so the process ends with its exit code instead of
    // being cut short with 0 (what a plain process.disconnect() makes the cluster do).
    if (process.connected) cluster.worker?.disconnect();
  }
}

async function serveAsWorker(options: RunClusterWorkerOptions): Promise<void> {
  const workerId = cluster.worker?.id ?? 0;
  const load = () => loadConfig(options.configPath === undefined ? {} : { path: options.configPath });
  const loaded = load();
  const channel = processChannel();
  const state = loaded.config.state.backend === 'memory' ? new IpcStateBackend({ channel }) : undefined;
  // /metrics reports every worker's numbers, merged (metrics-gathering.ts); the client exists before
  // the gateway (which serves it) and renders this worker's own part once the gateway is up.
  let renderOwn = (): string => '';
  const metrics: ClusterMetricsClient = createClusterMetricsClient(channel, () => renderOwn());
  const gateway = await startGateway({ loaded, logBase: { worker: workerId }, metricsSource: () => metrics.collect(), ...(state === undefined ? {} : { state }) });
  renderOwn = () => gateway.metrics.gateway?.render() ?? '';
  // The switches in force when the primary forked this worker, then every later one: a provider
  // switched through the management API here is switched in every worker (primary.ts relays it).
  for (const change of providerSwitchesFromEnvironment(process.env[providerSwitchesEnvironmentName])) gateway.providerSwitch.apply(change);
  gateway.providerSwitch.onChange((change) => {
    const message: WorkerToPrimaryMessage = { scope: 'cluster', type: 'provider-switch', change };
    if (process.connected) channel.send(message);
  });
  const listening: WorkerToPrimaryMessage = { scope: 'cluster', type: 'listening', url: gateway.url, port: gateway.port };
  gateway.logger.info({ pid: process.pid, url: gateway.url }, 'worker listening');
  channel.send(listening);

  const ignoreInterrupt = () => undefined;
  process.on('SIGINT', ignoreInterrupt);
  const stop = await new Promise<string>((resolve) => {
    const stopListening = channel.onMessage((message) => {
      const type = clusterMessageType(message);
      if (type === 'shutdown') {
        stopListening();
        resolve('primary');
      } else if (type === 'provider-switch') {
        gateway.providerSwitch.apply((message as Extract<PrimaryToWorkerMessage, { type: 'provider-switch' }>).change);
      } else if (type === 'reload') {
        try {
          applyReload(gateway, load());
        } catch (error) {
          gateway.logger.error({ err_message: (error as Error).message, ...codeField(error) }, 'config reload failed; keeping the running config');
        }
      }
    });
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  gateway.logger.info({ reason: stop }, 'worker shutting down');
  await gateway.close();
  metrics.close();
  gateway.logger.flush();
  process.off('SIGINT', ignoreInterrupt);
}
