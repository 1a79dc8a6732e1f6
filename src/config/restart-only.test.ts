import { readFileSync } from 'node:fs';
import { Type } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import { defaultConfig } from './defaults.js';
import { changedRestartOnlySettings, restartOnly, restartOnlySettings } from './restart-only.js';
import { ConfigSchema } from './schema.js';

const names = restartOnlySettings(ConfigSchema).map((setting) => setting.name);

describe('restart-only settings, derived from the schema', () => {
  it('are the settings the process reads once at start', () => {
    expect(names).toEqual([
      'server.host',
      'server.port',
      'server.body_limit_bytes',
      'server.timeouts.*',
      'server.tls.*',
      'server.max_header_bytes',
      'server.security.headers.*',
      'server.security.cors.*',
      'auth.dir',
      'auth.client_keys_file',
      'auth.encryption.*',
      'upstream.connect_timeout_ms',
      'upstream.first_byte_timeout_ms',
      'upstream.idle_timeout_ms',
      'upstream.max_connections_per_origin',
      'state',
      'audit.*',
      'usage.*',
      'alerting.*',
      'metrics.*',
      'management.keys_file',
      'logging.*',
    ]);
  });

  it('follow a mark placed on a new key, and a mark covers its whole section', () => {
    const schema = Type.Object({
      server: Type.Object({ port: restartOnly(Type.Integer()), new_limit: restartOnly(Type.Integer()), reloadable: Type.Integer() }),
      pool: restartOnly(Type.Object({ size: Type.Integer() })),
    });
    const settings = restartOnlySettings(schema);
    expect(settings.map((setting) => setting.name)).toEqual(['server.port', 'server.new_limit', 'pool.*']);
    const before = { server: { port: 1, new_limit: 2, reloadable: 3 }, pool: { size: 4 } };
    expect(changedRestartOnlySettings(settings, before, { ...before, server: { ...before.server, reloadable: 9 } })).toEqual([]);
    expect(changedRestartOnlySettings(settings, before, { server: { ...before.server, new_limit: 5 }, pool: { size: 6 } })).toEqual(['server.new_limit', 'pool.*']);
  });

  it('name what changed between two full configs, nothing for an identical one', () => {
    const settings = restartOnlySettings(ConfigSchema);
    expect(changedRestartOnlySettings(settings, defaultConfig, structuredClone(defaultConfig))).toEqual([]);
    const changed = structuredClone(defaultConfig);
    changed.state = { backend: 'redis', url: 'redis://127.0.0.1:6379' };
    changed.upstream.max_attempts += 1; // reloadable
    expect(changedRestartOnlySettings(settings, defaultConfig, changed)).toEqual(['state']);
  });

  it('are exactly the config keys docs/configuration.md lists under "needs a restart"', () => {
    const text = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
    const rows = text.split('\n');
    const header = rows.findIndex((row) => row.startsWith('| applied on reload | needs a restart |'));
    expect(header).toBeGreaterThan(-1);
    const documented: string[] = [];
    for (const row of rows.slice(header + 2)) {
      if (!row.startsWith('|')) break;
      const restartCell = row.split('|')[2] ?? '';
      for (const match of restartCell.matchAll(/`([a-z_]+(?:\.[a-z_*]+)*)`/g)) {
        if (/^(server|auth|upstream|state|logging|providers|audit|usage|alerts|alerting|metrics|management)\b/.test(match[1] ?? '')) documented.push(match[1] ?? '');
      }
    }
    expect(documented.sort()).toEqual([...names].sort());
  });
});
