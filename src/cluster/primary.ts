import cluster, { type Worker } from 'node:cluster';
import { fileURLToPath } from 'node:url';
import { loadConfig, type LoadedConfig } from '../config/load.js';
import { watchConfig } from '../config/watch.js';
import { prepareCredentialStore } from '../credentials/startup-checks.js';
import { createStderrSecurityEvents } from '../credentials/security-events.js';
import { announceInitialClientKey, chargeRecordedUsageFromFile, codeField, createLogger } from '../main.js';
import { ProviderSwitch, type ProviderSwitchChange } from '../management/provider-switch.js';
import { registerSecrets } from '../security/redact.js';
import { createStateBackend } from '../state/create-state-backend.js';
import type { MessageChannel } from '../state/ipc-protocol.js';
import { serveStateOverIpc, type IpcStateServer } from '../state/ipc-server.js';
import type { StateBackend } from '../state/types.js';
import { clusterMessageType, providerSwitchesEnvironmentName, workerEnvironmentName, type PrimaryToWorkerMessage, type WorkerToPrimaryMessage } from './messages.js';
import { MetricsGathering, type GatheringTarget } from './metrics-gathering.js';
import { restartDelayMs, stableAfterMs } from './restart-backoff.js';

export interface RunClusterPrimaryOptions {
  configPath: string | undefined;
  /** Number of worker processes (2 or more; `serve --workers`). */
  workers: number;
  fixPermissions?: boolean;
  migrate?: boolean;
  print?: (line: string) => void;
}

/** One place in the cluster: the worker in it now, and how often it died young in a row. */
interface WorkerSlot {
  readonly index: number;
  worker: Worker | undefined;
  stateServer: IpcStateServer | undefined;
  startedAt: number;
  listening: boolean;
  quickExits: number;
  restartTimer: NodeJS.Timeout | undefined;
}

/** The CLI entry the workers run (dist/cli/main.js beside dist/cluster/). */
const cliEntry = fileURLToPath(new URL('../cli/main.js', import.meta.url));

function channelOf(worker: Worker): MessageChannel {
  return {
    send: (message) => void worker.send(message as never),
    onMessage(listener) {
      worker.on('message', listener);
      return () => void worker.off('message', listener);
    },
  };
}

/**
 * `serve --workers N`: the primary process. It does once what must happen once (load and check the
 * config, print a generated client key, repair permissions or migrate plaintext files when asked),
 * holds the memory state backend that the workers share over IPC (state/ipc-server.ts; its budget
 * counters charged from the usage file first, docs/keys.md#usage), forks N
 * workers that each run the whole gateway on the one port, and owns the signals:
 * - hot reload: the primary watches the config and client-key files; an edit it loads without
 *   error is announced to every worker, which loads and applies it (an invalid edit is logged once,
 *   here, and no worker changes);
 * - a worker that exits is replaced, after a delay that grows while replacements keep dying young
 *   (restart-backoff.ts); the others keep serving the port meanwhile. A worker that exits before
 *   the cluster was first up (an unusable TLS key, a port in use) stops the start: exit 1;
 * - SIGTERM or SIGINT: every worker drains (in-flight requests and streams finish within
 *   `server.timeouts.shutdown_grace_ms`), then the primary closes its store and exits.
 */
export async function runClusterPrimary(options: RunClusterPrimaryOptions): Promise<void> {
  const print = options.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  const load = () => loadConfig(options.configPath === undefined ? {} : { path: options.configPath });
  const loaded = load();
  const config = loaded.config;
  const logger = createLogger({ level: config.logging.level, base: { role: 'primary' } });
  announceInitialClientKey(loaded, print);
  // Once, before any worker exists: N workers repairing or migrating the same files would race.
  const prepared = await prepareCredentialStore(loaded, {
    fixPermissions: options.fixPermissions === true,
    migrate: options.migrate === true,
    events: createStderrSecurityEvents(),
    actor: 'serve',
  });
  for (const warning of prepared.warnings) logger.warn(warning);
  const state: StateBackend | undefined = config.state.backend === 'memory' ? createStateBackend(config.state, { registerSecrets }) : undefined;
  // The workers' budget counters live here: charged with the day's and month's recorded usage, as a
  // single process charges its own, so a full restart of the pool does not hand keys their budgets back.
  if (state !== undefined) await chargeRecordedUsageFromFile(config, state, Date.now());

  cluster.setupPrimary({ exec: cliEntry, args: workerArguments(options.configPath, options.workers), serialization: 'advanced' });
  const slots: WorkerSlot[] = Array.from({ length: options.workers }, (_, index) => ({
    index, worker: undefined, stateServer: undefined, startedAt: 0, listening: false, quickExits: 0, restartTimer: undefined,
  }));
  let clusterUp = false;
  let stopping = false;
  let resolveAllExited: () => void = () => undefined;
  const allExited = new Promise<void>((resolve) => (resolveAllExited = resolve));
  let resolveFinished: (code: number) => void = () => undefined;
  const finished = new Promise<number>((resolve) => (resolveFinished = resolve));

  // /metrics answered for the whole cluster: the worker a scrape reached gathers every worker's numbers through here.
  const targetOf = (slot: WorkerSlot): GatheringTarget => ({
    get listening() {
      return slot.listening && slot.worker?.isConnected() === true;
    },
    send: (message) => void slot.worker?.send(message),
  });
  const gathering = new MetricsGathering(() => slots.map(targetOf), options.workers);
  // The providers switched off through any worker's management API: relayed to every other worker,
  // and to each worker when it starts listening (a replacement, or one that started after the switch).
  const providerSwitch = new ProviderSwitch();
  const relaySwitch = (from: WorkerSlot | undefined, change: ProviderSwitchChange): void => {
    const message: PrimaryToWorkerMessage = { scope: 'cluster', type: 'provider-switch', change };
    for (const slot of slots) if (slot !== from && slot.worker?.isConnected() === true) slot.worker.send(message);
  };

  const fork = (slot: WorkerSlot): void => {
    slot.restartTimer = undefined;
    const worker = cluster.fork({ [workerEnvironmentName]: '1', [providerSwitchesEnvironmentName]: JSON.stringify(providerSwitch.changes()) });
    slot.worker = worker;
    slot.startedAt = Date.now();
    slot.listening = false;
    slot.stateServer = state === undefined ? undefined : serveStateOverIpc(state, channelOf(worker));
    worker.on('message', (message: unknown) => {
      if (gathering.handle(targetOf(slot), message)) return;
      const type = clusterMessageType(message);
      if (type === 'provider-switch') {
        const { change } = message as Extract<WorkerToPrimaryMessage, { type: 'provider-switch' }>;
        providerSwitch.apply(change);
        relaySwitch(slot, change);
        logger.info({ worker: worker.id, provider: change.action === 'disable' ? change.entry.name : change.name, action: change.action }, 'provider switched; every worker follows');
        return;
      }
      if (type !== 'listening') return;
      // Again now that it listens for messages: a switch made while it was starting reached it only here.
      for (const change of providerSwitch.changes()) worker.send({ scope: 'cluster', type: 'provider-switch', change } satisfies PrimaryToWorkerMessage);
      slot.listening = true;
      if (!clusterUp && slots.every((each) => each.listening)) {
        clusterUp = true;
        const { url } = message as Extract<WorkerToPrimaryMessage, { type: 'listening' }>;
        logger.info({ url, config: loaded.configPath ?? 'embedded default', workers: options.workers }, 'cliproxyapi listening');
      }
    });
    worker.on('exit', (code, signal) => onExit(slot, worker, code, signal));
    // A send racing the worker's death fails with EPIPE on this emitter; its exit is handled above.
    worker.on('error', (error: Error) => logger.debug({ worker: worker.id, err_message: error.message }, 'a message to a worker was not delivered'));
  };

  const onExit = (slot: WorkerSlot, worker: Worker, code: number | null, signal: string | null): void => {
    if (slot.worker !== worker) return;
    slot.worker = undefined;
    void slot.stateServer?.close();
    slot.stateServer = undefined;
    if (slots.every((each) => each.worker === undefined)) resolveAllExited();
    if (stopping) return;
    if (!clusterUp) {
      logger.error({ worker: worker.id, exit_code: code, signal }, 'a worker exited before the cluster was up (its error is above); stopping');
      void stop(1);
      return;
    }
    slot.quickExits = Date.now() - slot.startedAt < stableAfterMs ? slot.quickExits + 1 : 0;
    const delay = restartDelayMs(slot.quickExits);
    logger.warn({ worker: worker.id, exit_code: code, signal, restart_in_ms: delay }, 'a worker exited; starting a replacement');
    slot.restartTimer = setTimeout(() => {
      if (!stopping) fork(slot);
    }, delay);
  };

  const send = (message: PrimaryToWorkerMessage): void => {
    for (const slot of slots) if (slot.worker?.isConnected() === true) slot.worker.send(message);
  };

  const stop = async (code: number): Promise<void> => {
    if (stopping) return;
    stopping = true;
    for (const slot of slots) clearTimeout(slot.restartTimer);
    watcher.close();
    send({ scope: 'cluster', type: 'shutdown' });
    if (slots.every((slot) => slot.worker === undefined)) resolveAllExited();
    // A worker that has not finished within its grace period (plus time to close) is killed.
    const killer = setTimeout(() => {
      for (const slot of slots) slot.worker?.process.kill('SIGKILL');
    }, config.server.timeouts.shutdown_grace_ms + 5_000);
    await allExited;
    clearTimeout(killer);
    await state?.close();
    resolveFinished(code);
  };

  const watcher = watchFiles(loaded, options.configPath, load, (next) => {
    for (const warning of next.warnings) logger.warn(warning);
    send({ scope: 'cluster', type: 'reload' });
    logger.info({ workers: options.workers }, 'config changed; workers reload it');
  }, (error) => logger.error({ err_message: (error as Error).message, ...codeField(error) }, 'config reload failed; keeping the running config'));

  const onSignal = (signal: NodeJS.Signals) => {
    logger.info({ signal }, 'shutting down');
    void stop(0);
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  for (const slot of slots) fork(slot);
  const exitCode = await finished;
  process.off('SIGTERM', onSignal);
  process.off('SIGINT', onSignal);
  logger.info({ exit_code: exitCode }, 'stopped');
  logger.flush();
  // The CLI prints this and exits non-zero; the worker's own error is already on stderr.
  if (exitCode !== 0) throw new Error(`serve --workers ${options.workers}: a worker failed to start; nothing is listening`);
}

/** What a worker runs: `serve` of the same config (absolute, resolved by the CLI), marked by the environment. */
function workerArguments(configPath: string | undefined, workers: number): string[] {
  return ['serve', '--workers', String(workers), ...(configPath === undefined ? [] : ['--config', configPath])];
}

/** The same files a single process watches (the config, and the client-key file `keys create|revoke` writes). */
function watchFiles(
  loaded: LoadedConfig,
  configPath: string | undefined,
  load: () => LoadedConfig,
  onReload: (next: LoadedConfig) => void,
  onError: (error: unknown) => void,
): { close(): void } {
  const keysFile = loaded.config.auth.client_keys_file;
  try {
    return watchConfig({ path: configPath ?? keysFile, extraPaths: configPath === undefined ? [] : [keysFile], load, onReload, onError });
  } catch (error) {
    onError(error);
    return { close: () => undefined };
  }
}
