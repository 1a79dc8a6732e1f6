import { readdirSync } from 'node:fs';
import type { ExpositionWriter } from './exposition.js';

/**
 * Process basics under the names Prometheus' client libraries use (`process_*`, `nodejs_*`), so
 * existing dashboards read them. Read at scrape time only.
 */

/** Epoch seconds when this process started (performance.timeOrigin is the process's start). */
const startTimeSeconds = Math.round(performance.timeOrigin) / 1000;

/** Open file descriptors (Linux /proc); undefined where there is no /proc. Sockets count: a leak shows here. */
function openFileDescriptors(): number | undefined {
  try {
    return readdirSync('/proc/self/fd').length;
  } catch {
    return undefined;
  }
}

export function writeProcessMetrics(writer: ExpositionWriter): void {
  const cpu = process.cpuUsage();
  const memory = process.memoryUsage();
  writer.family('process_cpu_user_seconds_total', 'counter', 'User CPU time spent, in seconds.').sample('process_cpu_user_seconds_total', [], cpu.user / 1e6);
  writer.family('process_cpu_system_seconds_total', 'counter', 'System CPU time spent, in seconds.').sample('process_cpu_system_seconds_total', [], cpu.system / 1e6);
  writer.family('process_cpu_seconds_total', 'counter', 'User and system CPU time spent, in seconds.').sample('process_cpu_seconds_total', [], (cpu.user + cpu.system) / 1e6);
  writer.family('process_resident_memory_bytes', 'gauge', 'Resident memory size, in bytes.').sample('process_resident_memory_bytes', [], memory.rss);
  writer.family('process_start_time_seconds', 'gauge', 'Start time of the process since the Unix epoch, in seconds.').sample('process_start_time_seconds', [], startTimeSeconds);
  const descriptors = openFileDescriptors();
  if (descriptors !== undefined) writer.family('process_open_fds', 'gauge', 'Open file descriptors (sockets included).').sample('process_open_fds', [], descriptors);
  writer.family('nodejs_heap_size_used_bytes', 'gauge', 'V8 heap in use, in bytes.').sample('nodejs_heap_size_used_bytes', [], memory.heapUsed);
  writer.family('nodejs_heap_size_total_bytes', 'gauge', 'V8 heap reserved, in bytes.').sample('nodejs_heap_size_total_bytes', [], memory.heapTotal);
  writer.family('nodejs_external_memory_bytes', 'gauge', 'Memory of C++ objects bound to JavaScript (buffers), in bytes.').sample('nodejs_external_memory_bytes', [], memory.external);
  writer.family('nodejs_version_info', 'gauge', 'The Node.js version running the gateway.').sample('nodejs_version_info', [['version', process.version]], 1);
}
