/**
 * CPU and memory of a process under test, read from /proc (Linux only). CPU time is what the
 * benchmark compares between targets: throughput depends on which process saturates first, but the
 * CPU the target spends per completed request is a property of the target alone.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

let ticksPerSecond;

/** Kernel clock ticks per second (`getconf CLK_TCK`, almost always 100, so 10 ms resolution). */
export function clockTicksPerSecond() {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/**
 * utime + stime of the whole process (all threads: libuv workers and V8's GC threads count too), in
 * clock ticks. The command name in field 2 may contain spaces and parentheses, so fields are counted
 * from the last ')'.
 * @param {number} pid
 */
export function readCpuTicks(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state); utime is field 14, stime field 15.
  return Number(fields[11]) + Number(fields[12]);
}

/** CPU microseconds between two tick readings. @param {number} before @param {number} after */
export function ticksToMicroseconds(before, after) {
  return ((after - before) * 1_000_000) / clockTicksPerSecond();
}

/**
 * Peak and current resident set size in MiB. VmHWM cannot be reset, so the caller starts a fresh
 * process for every scenario whose memory it reports.
 * @param {number} pid
 * @returns {{ peakRssMb: number, rssMb: number } | undefined}
 */
export function readMemory(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kilobytes = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { peakRssMb: kilobytes('VmHWM') / 1024, rssMb: kilobytes('VmRSS') / 1024 };
  } catch {
    return undefined;
  }
}

/**
 * utime + stime per thread of a process, summed by thread name (`node` is the main thread, the
 * `libuv-worker`s run fs and other thread-pool work, the `V8 …` threads GC and compile), in clock ticks.
 * @param {number} pid
 * @returns {Map<string, number>}
 */
export function readThreadTicks(pid) {
  const byName = new Map();
  // Threads in creation order: V8's platform workers (GC, compile) start with the process, the
  // libuv thread pool at the first fs call, so `node#1..4` are V8's and the next four libuv's.
  const tids = readdirSync(`/proc/${pid}/task`).map(Number).sort((first, second) => first - second);
  for (const [rank, tid] of tids.entries()) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = tid === pid ? 'main' : `${stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')).trim()}#${rank}`;
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      byName.set(name, (byName.get(name) ?? 0) + Number(fields[11]) + Number(fields[12]));
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return byName;
}
