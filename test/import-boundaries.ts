import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/**
 * The one table of allowed imports between the top-level parts of `src/`: each folder (and
 * `main.ts`, the composition root) with the folders it may import and the packages it may use.
 * `test/architecture.test.ts` checks every import of every source file against it, and checks that
 * `docs/architecture.md` shows the same table. A part of `src/` without a row fails the test, so a
 * new folder states its place in the graph when it is created. Imports inside one folder are
 * always allowed. `node:*` stands for Node's built-in modules.
 *
 * Dependencies point down: the table itself must have no cycle (checked too).
 */
export interface ImportRule {
  /** Other parts of src/ this part may import, as written in the table (`errors`, `main.ts`). */
  readonly folders: readonly string[];
  /** Packages this part may import (the package name, without a subpath), and `node:*`. */
  readonly packages: readonly string[];
}

export const allowedImports: Readonly<Record<string, ImportRule>> = {
  errors: { folders: [], packages: [] },
  formats: { folders: ['errors'], packages: ['@sinclair/typebox'] },
  files: { folders: [], packages: ['node:*'] },
  lifecycle: { folders: [], packages: [] },
  egress: { folders: [], packages: ['node:*'] },
  config: { folders: ['egress', 'errors', 'files'], packages: ['@sinclair/typebox', 'yaml', 'node:*'] },
  security: { folders: ['config', 'errors', 'files'], packages: ['@sinclair/typebox', 'node:*'] },
  state: { folders: ['config'], packages: ['ioredis', 'node:*'] },
  net: { folders: ['state'], packages: ['node:*'] },
  limits: { folders: ['errors', 'state'], packages: [] },
  usage: { folders: ['files'], packages: ['node:*'] },
  alerts: { folders: ['config', 'egress', 'errors', 'files'], packages: ['undici', 'node:*'] },
  metrics: { folders: [], packages: ['node:*'] },
  translate: { folders: ['errors', 'formats'], packages: [] },
  providers: { folders: ['config', 'errors', 'formats'], packages: [] },
  routing: { folders: ['config', 'errors', 'providers'], packages: [] },
  upstream: { folders: ['egress', 'errors'], packages: ['undici', 'node:*'] },
  credentials: { folders: ['config', 'errors', 'files', 'security'], packages: ['node:*'] },
  audit: { folders: ['config', 'files', 'security'], packages: ['node:*'] },
  oauth: { folders: ['config', 'credentials', 'egress', 'errors', 'providers', 'security', 'state'], packages: ['undici'] },
  login: { folders: ['config', 'credentials', 'errors', 'oauth', 'providers', 'security'], packages: ['node:*'] },
  management: { folders: ['audit', 'config', 'credentials', 'errors', 'files', 'login', 'net', 'security', 'state', 'usage'], packages: ['@sinclair/typebox', 'node:*'] },
  server: {
    folders: ['config', 'credentials', 'errors', 'formats', 'limits', 'management', 'metrics', 'net', 'oauth', 'providers', 'routing', 'security', 'translate', 'upstream', 'usage'],
    packages: ['@sinclair/typebox', 'fastify', 'pino', 'secure-json-parse', 'node:*'],
  },
  'main.ts': { folders: ['alerts', 'audit', 'config', 'credentials', 'lifecycle', 'limits', 'management', 'net', 'oauth', 'security', 'server', 'state', 'upstream', 'usage'], packages: ['fastify', 'pino', 'node:*'] },
  cluster: { folders: ['config', 'credentials', 'main.ts', 'management', 'metrics', 'security', 'state'], packages: ['node:*'] },
  doctor: { folders: ['audit', 'config', 'credentials', 'files', 'management', 'security'], packages: ['@sinclair/typebox', 'undici', 'node:*'] },
  cli: { folders: ['audit', 'cluster', 'config', 'credentials', 'doctor', 'errors', 'files', 'login', 'main.ts', 'management', 'security', 'usage'], packages: ['commander', 'node:*'] },
};

/** One import: the importing file and what it names, both relative to `src/` (`package:<name>` for packages). */
export interface ImportEdge {
  readonly from: string;
  readonly to: string;
}

export const sourceRoot = resolve(dirname(new URL(import.meta.url).pathname), '../src');

/** Every source file under `directory` (tests and `__fixtures__` are not part of the graph). */
export function sourceFiles(directory: string): string[] {
  return readdirSync(directory).flatMap((name) => {
    const path = join(directory, name);
    if (statSync(path).isDirectory()) return name === '__fixtures__' ? [] : sourceFiles(path);
    return path.endsWith('.ts') && !path.endsWith('.test.ts') ? [path] : [];
  });
}

/** `import … from`, `export … from`, a bare `import 'x'` and a literal `import('x')`. */
const importPattern = /(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

/**
 * The imports of one file. `file` is an absolute path under `root`; `text` its source. Relative
 * specifiers become paths relative to `root` with `.js` read as `.ts` (ESM imports name the output).
 */
export function importsOf(file: string, text: string, root: string = sourceRoot): ImportEdge[] {
  const from = relative(root, file);
  return [...text.matchAll(importPattern)].map((match) => {
    const specifier = match[1] ?? match[2] ?? match[3] ?? '';
    if (!specifier.startsWith('.')) return { from, to: `package:${specifier}` };
    return { from, to: relative(root, resolve(dirname(file), specifier)).replace(/\.js$/, '.ts') };
  });
}

/** The part of src/ a path belongs to: its top folder, or the file itself at the top (`main.ts`). */
export function partOf(path: string): string {
  return path.split('/')[0] ?? '';
}

/** `@scope/name/sub` → `@scope/name`, `name/sub` → `name`, `node:fs` → `node:*`. */
export function packageName(specifier: string): string {
  if (specifier.startsWith('node:')) return 'node:*';
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? specifier);
}

/** Every import the table does not allow, as readable lines naming the rule that refuses it. */
export function boundaryViolations(edges: readonly ImportEdge[], table: Readonly<Record<string, ImportRule>> = allowedImports): string[] {
  const problems: string[] = [];
  for (const edge of edges) {
    const part = partOf(edge.from);
    const rule = table[part];
    if (rule === undefined) {
      problems.push(`${edge.from}: src/${part} has no row in the import table (test/import-boundaries.ts)`);
      continue;
    }
    if (edge.to.startsWith('package:')) {
      const name = packageName(edge.to.slice('package:'.length));
      if (!rule.packages.includes(name)) problems.push(`${edge.from} -> ${name}: ${part} may not import the package ${name}`);
      continue;
    }
    const target = partOf(edge.to);
    if (target !== part && !rule.folders.includes(target)) problems.push(`${edge.from} -> ${edge.to}: ${part} may not import ${target}`);
  }
  return problems;
}

/** A cycle in the table itself (a folder that may import, through others, itself), or undefined. */
export function tableCycle(table: Readonly<Record<string, ImportRule>> = allowedImports): string[] | undefined {
  const done = new Set<string>();
  const path: string[] = [];
  const visit = (part: string): string[] | undefined => {
    if (path.includes(part)) return [...path.slice(path.indexOf(part)), part];
    if (done.has(part)) return undefined;
    path.push(part);
    for (const next of table[part]?.folders ?? []) {
      const cycle = visit(next);
      if (cycle !== undefined) return cycle;
    }
    path.pop();
    done.add(part);
    return undefined;
  };
  for (const part of Object.keys(table)) {
    const cycle = visit(part);
    if (cycle !== undefined) return cycle;
  }
  return undefined;
}

/** Every import edge of the real source tree. */
export function sourceEdges(root: string = sourceRoot): ImportEdge[] {
  return sourceFiles(root).flatMap((file) => importsOf(file, readFileSync(file, 'utf8'), root));
}

/** The top-level parts of `src/`: its folders and its `.ts` files. */
export function sourceParts(root: string = sourceRoot): string[] {
  return readdirSync(root).filter((name) => statSync(join(root, name)).isDirectory() || (name.endsWith('.ts') && !name.endsWith('.test.ts')));
}
