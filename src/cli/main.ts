#!/usr/bin/env node
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { runCli } from './program.js';

export { buildProgram, runCli } from './program.js';

/**
 * True when this file is the process entry (the `cliproxyapi` bin, possibly through npm's symlink),
 * false when imported (tests), so importing never parses the test runner's argv.
 */
function isEntryPoint(): boolean {
  const entry = process.argv[1];
  if (entry === undefined) return false;
  try {
    return pathToFileURL(realpathSync(entry)).href === import.meta.url;
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  process.exitCode = await runCli(process.argv.slice(2));
}
