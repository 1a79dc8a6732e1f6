/**
 * Turns per-round measurements into medians, ratios to the floor measured in the same run, and the
 * markdown tables printed at the end (and pasted into docs/benchmarks.md). Only ratios within one
 * run are meaningful: the same target varies by tens of percent between runs on a shared 2-core VM.
 */

/** @param {number[]} values */
export function median(values) {
  const sorted = values.filter((value) => Number.isFinite(value)).sort((left, right) => left - right);
  if (sorted.length === 0) return null;
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/**
 * Medians of each metric over the rounds of one target in one scenario.
 * @param {Array<{ requestsPerSecond: number, p50Ms: number, p99Ms: number, cpuUsPerRequest: number | null, errors: number }>} rounds
 */
export function summarizeRounds(rounds) {
  return {
    requestsPerSecond: median(rounds.map((round) => round.requestsPerSecond)),
    p50Ms: median(rounds.map((round) => round.p50Ms)),
    p99Ms: median(rounds.map((round) => round.p99Ms)),
    cpuUsPerRequest: median(rounds.map((round) => round.cpuUsPerRequest ?? NaN)),
    errors: rounds.reduce((sum, round) => sum + round.errors, 0),
  };
}

/** @param {number | null | undefined} value @param {number | null | undefined} reference */
export const ratio = (value, reference) => (value == null || reference == null || reference === 0 ? null : value / reference);

/** @param {number | null | undefined} value @param {number} digits */
const fixed = (value, digits) => (value == null ? '–' : value.toFixed(digits));
const times = (value) => (value == null ? '–' : `${value.toFixed(2)}×`);

/** Markdown table of throughput scenarios. @param {any[]} scenarios */
export function throughputTable(scenarios) {
  const lines = [
    '| scenario | target | req/s | p50 ms | p99 ms | CPU µs/req | CPU × floor | req/s × floor | p99 × floor | peak RSS MB | errors |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const scenario of scenarios) {
    for (const target of scenario.targets) {
      if (target.skipped) {
        lines.push(`| ${scenario.name} | ${target.name} | skipped: ${target.skipped.replace(/\|/g, '/').replace(/\s+/g, ' ').slice(0, 140)} ||||||||| `);
        continue;
      }
      const summary = target.summary;
      lines.push(
        `| ${scenario.name} | ${target.name} | ${fixed(summary.requestsPerSecond, 0)} | ${fixed(summary.p50Ms, 2)} | ${fixed(summary.p99Ms, 2)} | ` +
          `${fixed(summary.cpuUsPerRequest, 0)} | ${times(target.ratioToFloor?.cpu)} | ${times(target.ratioToFloor?.requestsPerSecond)} | ` +
          `${times(target.ratioToFloor?.p99)} | ${fixed(target.peakRssMb, 0)} | ${summary.errors} |`,
      );
    }
  }
  return lines.join('\n');
}

/**
 * Per-layer cost: CPU per request of the all-layers proxy minus the same with that layer off.
 * @param {any} discovery @param {any | undefined} matrixScenario
 */
export function layerTable(discovery, matrixScenario) {
  const lines = ['| layer | status | CPU µs/req without it | cost µs/req | share of all-on CPU | note |', '|---|---|---:|---:|---:|---|'];
  const allOn = matrixScenario?.targets.find((target) => target.name === 'proxy' && !target.skipped);
  const allOnCpu = allOn?.summary.cpuUsPerRequest ?? null;
  for (const layer of discovery.layers) {
    const off = matrixScenario?.targets.find((target) => target.name === `proxy-no-${layer.name}`);
    const offCpu = off && !off.skipped ? off.summary.cpuUsPerRequest : null;
    const cost = allOnCpu != null && offCpu != null ? allOnCpu - offCpu : null;
    let note = layer.note ?? '';
    if (!layer.offSwitch && layer.status !== 'not built yet') note = `${note ? `${note}; ` : ''}${layer.noOffSwitchReason ?? 'no off switch in the config'}, cost not separable`;
    if (off?.skipped) note = `${note ? `${note}; ` : ''}off variant skipped: ${off.skipped.split('\n')[0].slice(0, 100)}`;
    // The audit and metrics layers were really on while measured: records and counts per request served.
    const field = { audit: 'auditRecords', metrics: 'metricsRequests' }[layer.name];
    const measured = allOn?.layerEvidence;
    if (field && measured) {
      const without = off?.layerEvidence?.[field];
      note = `${note ? `${note}; ` : ''}measured run: ${measured[field]} for ${measured.served} requests served${without === undefined ? '' : `, ${without} without it`}`;
    }
    lines.push(`| ${layer.name} | ${layer.status} | ${fixed(offCpu, 0)} | ${fixed(cost, 0)} | ${cost == null || !allOnCpu ? '–' : `${((cost / allOnCpu) * 100).toFixed(0)}%`} | ${note.replace(/\|/g, '/')} |`);
  }
  return lines.join('\n');
}

/** @param {any[]} rows */
export function slowStreamTable(rows) {
  const lines = [
    '| target | completed | stalled | queued > 5 s | failed | max gap ms | first byte p50 / p99 / max ms | peak RSS MB | CPU µs/stream |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const row of rows) {
    if (row.skipped) {
      lines.push(`| ${row.name} | skipped: ${row.skipped.replace(/\s+/g, ' ').slice(0, 140)} ||||||||`);
      continue;
    }
    const client = row.client;
    lines.push(
      `| ${row.name} | ${client.completed}/${client.count} | ${client.stalled} | ${client.queued} | ${client.failed + client.unfinished} | ${client.maxGapMs} | ` +
        `${fixed(client.firstByteP50Ms, 0)} / ${fixed(client.firstByteP99Ms, 0)} / ${client.firstByteMaxMs ?? '–'} | ${fixed(row.peakRssMb, 0)} | ${fixed(row.cpuUsPerStream, 0)} |`,
    );
  }
  return lines.join('\n');
}

/** @param {any[]} rows */
export function firstByteTable(rows) {
  const lines = [
    '| target | upstream → client p50 ms | p99 ms | time to first byte p50 ms | p99 ms | completed |',
    '|---|---:|---:|---:|---:|---:|',
  ];
  for (const row of rows) {
    if (row.skipped) {
      lines.push(`| ${row.name} | skipped: ${row.skipped.replace(/\s+/g, ' ').slice(0, 140)} |||||`);
      continue;
    }
    const client = row.client;
    lines.push(
      `| ${row.name} | ${fixed(client.transitP50Ms, 2)} | ${fixed(client.transitP99Ms, 2)} | ${fixed(client.firstByteP50Ms, 2)} | ` +
        `${fixed(client.firstByteP99Ms, 2)} | ${client.completed}/${client.count} |`,
    );
  }
  return lines.join('\n');
}

/**
 * The issue's targets, checked against this run (only when the all-layers proxy was measured).
 * @param {any} report
 */
export function targetChecks(report) {
  const proxyIn = (name) => report.scenarios.find((scenario) => scenario.name === name)?.targets.find((target) => target.name === 'proxy' && !target.skipped);
  const rows = [];
  const add = (goal, value, pass) => rows.push(`| ${goal} | ${value} | ${pass == null ? '–' : pass ? 'met' : '**missed**'} |`);
  const check = (scenarioName, goal, metric, limit, atMost) => {
    const target = proxyIn(scenarioName);
    const value = target?.ratioToFloor?.[metric];
    if (value == null) return add(goal, 'not measured', null);
    if (target.summary.errors > 0) return add(goal, `${times(value)}, but ${target.summary.errors} failed requests: not a valid measurement`, null);
    add(goal, times(value), atMost ? value <= limit : value >= limit);
  };
  check('chat-c32', 'pass-through c32: CPU ≤ 2× floor', 'cpu', 2, true);
  check('body100k-c32', '~100 KB body: CPU ≤ 4× floor', 'cpu', 4, true);
  check('structured100k-c32', '~100 KB structured body (issue 11): CPU ≤ 3× floor', 'cpu', 3, true);
  check('anthropic-json-c32', 'translation JSON: CPU ≤ 3× floor', 'cpu', 3, true);
  check('anthropic-stream-c32', 'translated stream (issue 12): CPU ≤ 3× floor', 'cpu', 3, true);
  // Issue 12's 3× the floor cannot hold for a translated ~100 KB body: parsing, checking and writing
  // it again alone cost more (docs/architecture.md, departures). Held to the rewrite floor instead.
  const rewriteGoal = 'translated ~100 KB body (issue 12, a departure): CPU ≤ 2.5× floor-rewrite';
  const rewriteFloor = report.scenarios
    .find((scenario) => scenario.name === 'anthropic-structured100k-c32')
    ?.targets.find((target) => target.name === 'floor-rewrite' && !target.skipped);
  const translatedBody = proxyIn('anthropic-structured100k-c32');
  const overRewrite = ratio(translatedBody?.summary.cpuUsPerRequest, rewriteFloor?.summary.cpuUsPerRequest);
  if (overRewrite == null) add(rewriteGoal, 'not measured', null);
  else if (translatedBody.summary.errors > 0) add(rewriteGoal, `${times(overRewrite)}, but ${translatedBody.summary.errors} failed requests: not a valid measurement`, null);
  else add(rewriteGoal, `${times(overRewrite)} (${times(translatedBody.ratioToFloor?.cpu)} the plain floor)`, overRewrite <= 2.5);
  check('stream-c32', 'stream c32: req/s ≥ 0.70× floor', 'requestsPerSecond', 0.7, false);
  check('chat-c32', 'p99 c32 ≤ 2× floor', 'p99', 2, true);
  const slow = report.slowStreams?.find((row) => row.name === 'proxy' && !row.skipped);
  const slowGoal = '1,000 streams: peak RSS < 200 MB, none stalled (or queued > 5 s)';
  if (slow) {
    const client = slow.client;
    add(
      slowGoal,
      `${fixed(slow.peakRssMb, 0)} MB, ${client.completed}/${client.count} completed, ${client.stalled} stalled, ${client.queued} queued`,
      slow.peakRssMb < 200 && client.stalled === 0 && client.queued === 0 && client.completed === client.count,
    );
  } else add(slowGoal, 'not measured', null);
  const firstByte = report.firstByte?.find((row) => row.name === 'proxy' && !row.skipped);
  const firstByteGoal = 'first streamed chunk reaches the client ≤ 1 ms after leaving the upstream (p50)';
  if (firstByte?.client.transitP50Ms != null) add(firstByteGoal, `${firstByte.client.transitP50Ms.toFixed(2)} ms`, firstByte.client.transitP50Ms <= 1);
  else add(firstByteGoal, 'not measured', null);
  return ['| target (issue 3 unless named) | this run | |', '|---|---|---|', ...rows].join('\n');
}
