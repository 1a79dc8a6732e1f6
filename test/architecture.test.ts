import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The import boundaries of DESIGN.md, enforced: dependencies point down. A translator that
 * imports a provider, or a provider that reaches into the server, fails here.
 */
const sourceRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../src');

function sourceFiles(directory: string): string[] {
  return readdirSync(directory).flatMap((name) => {
    const path = join(directory, name);
    if (statSync(path).isDirectory()) return name === '__fixtures__' ? [] : sourceFiles(path);
    return path.endsWith('.ts') && !path.endsWith('.test.ts') ? [path] : [];
  });
}

interface ImportEdge {
  from: string;
  to: string;
}

function importsOf(file: string): ImportEdge[] {
  const text = readFileSync(file, 'utf8');
  const edges: ImportEdge[] = [];
  for (const match of text.matchAll(/(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)) {
    const specifier = match[1] ?? match[2] ?? '';
    const to = specifier.startsWith('.') ? relative(sourceRoot, resolve(dirname(file), specifier)) : `package:${specifier}`;
    edges.push({ from: relative(sourceRoot, file), to });
  }
  return edges;
}

const edges = sourceFiles(sourceRoot).flatMap(importsOf);
const topFolder = (path: string) => path.split('/')[0] ?? '';

function violations(rule: (edge: ImportEdge) => boolean): string[] {
  return edges.filter(rule).map((edge) => `${edge.from} -> ${edge.to}`);
}

describe('import boundaries (DESIGN.md)', () => {
  it('finds the source files it checks', () => {
    expect(edges.length).toBeGreaterThan(20);
  });

  it('translate/ imports only formats/ and errors/ (and its own folder), and no package', () => {
    const bad = violations((edge) => {
      if (topFolder(edge.from) !== 'translate') return false;
      if (edge.to.startsWith('package:')) return true;
      const target = topFolder(edge.to);
      if (target === 'formats' || target === 'errors') return false;
      return !(target === 'translate' && edge.to.split('/')[1] === edge.from.split('/')[1]);
    });
    expect(bad).toEqual([]);
  });

  it('one translator never imports another translator', () => {
    const bad = violations(
      (edge) => topFolder(edge.from) === 'translate' && topFolder(edge.to) === 'translate' && edge.to.split('/')[1] !== edge.from.split('/')[1],
    );
    expect(bad).toEqual([]);
  });

  it('providers/ imports only formats/, errors/, config types and other provider files', () => {
    const allowed = new Set(['formats', 'errors', 'providers', 'config']);
    const bad = violations((edge) => topFolder(edge.from) === 'providers' && !edge.to.startsWith('package:') && !allowed.has(topFolder(edge.to)));
    expect(bad).toEqual([]);
  });

  it('nothing outside server/ and cli/ imports server/ (main.ts, the composition root, excepted)', () => {
    const bad = violations(
      (edge) => topFolder(edge.to) === 'server' && !['server', 'cli', 'main.ts'].includes(topFolder(edge.from)),
    );
    expect(bad).toEqual([]);
  });

  it('nothing imports cli/ except cli/ itself', () => {
    const bad = violations((edge) => topFolder(edge.to) === 'cli' && topFolder(edge.from) !== 'cli');
    expect(bad).toEqual([]);
  });

  it('formats/ and errors/ depend on nothing of ours but each other', () => {
    const bad = violations(
      (edge) =>
        ['formats', 'errors'].includes(topFolder(edge.from)) &&
        !edge.to.startsWith('package:') &&
        !['formats', 'errors'].includes(topFolder(edge.to)),
    );
    expect(bad).toEqual([]);
  });

  it('files/ (the private-file and secret-path primitives) depends on nothing of ours', () => {
    const bad = violations((edge) => topFolder(edge.from) === 'files' && !edge.to.startsWith('package:') && topFolder(edge.to) !== 'files');
    expect(bad).toEqual([]);
  });

  it('credentials/ (the store) never imports oauth/ (the refresh that uses the store)', () => {
    const bad = violations((edge) => topFolder(edge.from) === 'credentials' && topFolder(edge.to) === 'oauth');
    expect(bad).toEqual([]);
  });

  it('no two source files import each other, directly or through others (no import cycle)', () => {
    const importsByFile = new Map<string, string[]>();
    for (const edge of edges) {
      if (edge.to.startsWith('package:')) continue;
      const list = importsByFile.get(edge.from) ?? [];
      list.push(edge.to.replace(/\.js$/, '.ts'));
      importsByFile.set(edge.from, list);
    }
    const cycles: string[] = [];
    const visiting = new Set<string>();
    const done = new Set<string>();
    const path: string[] = [];
    const visit = (file: string): void => {
      visiting.add(file);
      path.push(file);
      for (const next of importsByFile.get(file) ?? []) {
        if (visiting.has(next)) cycles.push([...path.slice(path.indexOf(next)), next].join(' -> '));
        else if (!done.has(next)) visit(next);
      }
      path.pop();
      visiting.delete(file);
      done.add(file);
    };
    for (const file of importsByFile.keys()) if (!done.has(file)) visit(file);
    expect(cycles).toEqual([]);
  });
});
