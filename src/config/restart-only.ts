import { CloneType, type TSchema } from '@sinclair/typebox';

/**
 * Settings the running process reads once at start (the listening socket, the upstream client's
 * pools, the credential store and its keyring, the state backend, the logger) carry the schema
 * option `restartOnly: true`. This file derives the list from that mark, so the reload warning and
 * docs/configuration.md (checked by a test) cannot drift from the schema: a new key is declared
 * restart-only where it is declared.
 */
export function restartOnly<T extends TSchema>(schema: T): T {
  return CloneType(schema, { restartOnly: true });
}

/** One marked setting: its key path, and how docs and logs name it (`server.tls.*` for a whole section). */
export interface RestartOnlySetting {
  readonly path: readonly string[];
  readonly name: string;
}

function isObjectSchema(schema: TSchema): schema is TSchema & { properties: Record<string, TSchema> } {
  return schema.type === 'object' && typeof schema.properties === 'object' && schema.properties !== null;
}

/**
 * Every marked setting of `schema`, in schema order. A mark covers everything below it. Marks are
 * read through objects only: a map keyed by user names (`providers`) or a union has no fixed paths
 * to name, so a mark must sit on the map or union itself.
 */
export function restartOnlySettings(schema: TSchema): RestartOnlySetting[] {
  const settings: RestartOnlySetting[] = [];
  const walk = (node: TSchema, path: readonly string[]): void => {
    if (node.restartOnly === true) {
      const dotted = path.join('.');
      settings.push({ path, name: isObjectSchema(node) ? `${dotted}.*` : dotted });
      return;
    }
    if (!isObjectSchema(node)) return;
    for (const [key, child] of Object.entries(node.properties)) walk(child, [...path, key]);
  };
  walk(schema, []);
  return settings;
}

function valueAt(root: unknown, path: readonly string[]): unknown {
  let node = root;
  for (const key of path) node = typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[key] : undefined;
  return node;
}

/**
 * The names of the marked settings whose values differ between two configs, compared as JSON text
 * (the loader merges over the defaults, so a section's keys come in the same order each time).
 * Names only, never values: they can be secrets (`auth.encryption.key`, a Redis URL's password).
 */
export function changedRestartOnlySettings(settings: readonly RestartOnlySetting[], before: unknown, after: unknown): string[] {
  return settings
    .filter((setting) => JSON.stringify(valueAt(before, setting.path)) !== JSON.stringify(valueAt(after, setting.path)))
    .map((setting) => setting.name);
}
