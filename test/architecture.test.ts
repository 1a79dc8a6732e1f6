import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  allowedImports,
  boundaryViolations,
  importsOf,
  sourceEdges,
  sourceParts,
  sourceRoot,
  tableCycle,
  type ImportRule,
} from './import-boundaries.js';

/**
 * The import boundaries, enforced from one table (test/import-boundaries.ts) that docs/architecture.md
 * shows: dependencies point down. A translator that imports a provider, a provider that reaches into
 * the server, or a new folder nobody placed in the graph fails here.
 */
const edges = sourceEdges();

/** The table as docs/architecture.md shows it: the rows under the header `| part of src/ | may import | packages |`. */
function documentedTable(): Record<string, ImportRule> {
  const lines = readFileSync(join(sourceRoot, '../docs/architecture.md'), 'utf8').split('\n');
  const header = lines.findIndex((line) => line.startsWith('| part of src/ | may import | packages |'));
  expect(header, 'docs/architecture.md has the import table').toBeGreaterThan(-1);
  const names = (cell: string): string[] =>
    cell.trim() === '—'
      ? []
      : cell.split(',').map((name) => name.trim().replaceAll('`', '').replace(/\/$/, ''));
  const table: Record<string, ImportRule> = {};
  for (const line of lines.slice(header + 2)) {
    if (!line.startsWith('|')) break;
    const [part = '', folders = '', packages = ''] = line.split('|').slice(1);
    table[names(part)[0] ?? ''] = { folders: names(folders), packages: names(packages) };
  }
  return table;
}

const sorted = (table: Readonly<Record<string, ImportRule>>) =>
  Object.fromEntries(
    Object.entries(table)
      .sort(([left], [right]) => left.localeCompare(right))
      .map(([part, rule]) => [part, { folders: [...rule.folders].sort(), packages: [...rule.packages].sort() }]),
  );

describe('import boundaries (one table: test/import-boundaries.ts, shown in docs/architecture.md)', () => {
  it('finds the source files it checks', () => {
    expect(edges.length).toBeGreaterThan(100);
  });

  it('gives every part of src/ a row, and no row to a part that does not exist', () => {
    expect(sourceParts().sort()).toEqual(Object.keys(allowedImports).sort());
  });

  it('allows only imports that point down: the table has no cycle', () => {
    expect(tableCycle()).toBeUndefined();
    expect(tableCycle({ a: { folders: ['b'], packages: [] }, b: { folders: ['a'], packages: [] } })).toEqual(['a', 'b', 'a']);
  });

  it('every import of every source file is allowed by the table', () => {
    expect(boundaryViolations(edges)).toEqual([]);
  });

  it('docs/architecture.md shows the same table', () => {
    expect(sorted(documentedTable())).toEqual(sorted(allowedImports));
  });

  it('refuses a new cross-folder import the table does not allow (synthetic files)', () => {
    const translator = join(sourceRoot, 'translate/openai-to-anthropic/request.ts');
    const synthetic = [
      ...importsOf(translator, "import { runChat } from '../../server/chat-pipeline.js';\nimport { Agent } from 'undici';\n"),
      ...importsOf(join(sourceRoot, 'state/redis.ts'), "import { redactText } from '../security/redact.js';"),
      ...importsOf(join(sourceRoot, 'errors/codes.ts'), "export { x } from '../config/schema.js';\nimport('../server/runtime.js');"),
      ...importsOf(join(sourceRoot, 'scratch/registry.ts'), "import { Type } from '@sinclair/typebox/value';"),
    ];
    expect(boundaryViolations(synthetic)).toEqual([
      'translate/openai-to-anthropic/request.ts -> server/chat-pipeline.ts: translate may not import server',
      'translate/openai-to-anthropic/request.ts -> undici: translate may not import the package undici',
      'state/redis.ts -> security/redact.ts: state may not import security',
      'errors/codes.ts -> config/schema.ts: errors may not import config',
      'errors/codes.ts -> server/runtime.ts: errors may not import server',
      'scratch/registry.ts: src/scratch has no row in the import table (test/import-boundaries.ts)',
    ]);
    // The same imports inside their own folder, and allowed ones, pass.
    expect(
      boundaryViolations([
        ...importsOf(translator, "import { x } from './request-messages.js';\nimport type { GatewayError } from '../../errors/gateway-error.js';"),
        ...importsOf(join(sourceRoot, 'config/load.ts'), "import { parseDocument } from 'yaml';\nimport { readFileSync } from 'node:fs';"),
      ]),
    ).toEqual([]);
  });

  it('one translator never imports another translator', () => {
    const pairOf = (path: string) => path.split('/')[1];
    const bad = edges.filter((edge) => edge.from.startsWith('translate/') && edge.to.startsWith('translate/') && pairOf(edge.to) !== pairOf(edge.from));
    expect(bad).toEqual([]);
  });

  it('no two source files import each other, directly or through others (no import cycle)', () => {
    const importsByFile = new Map<string, string[]>();
    for (const edge of edges) {
      if (edge.to.startsWith('package:')) continue;
      importsByFile.set(edge.from, [...(importsByFile.get(edge.from) ?? []), edge.to]);
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
