import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serializeEventFields, type AuditEvent } from '../audit-record.js';
import { AuditFileWriter, type AuditWriterOptions } from '../audit-writer.js';

/** A fresh private directory for one test's audit files. */
export function auditTestDirectory(): string {
  return realpathSync(mkdtempSync(join(tmpdir(), 'cliproxy-audit-')));
}

/** A writer with test-sized settings; errors are collected instead of logged. */
export function testWriter(file: string, overrides: Partial<AuditWriterOptions> = {}): AuditFileWriter & { errors: Error[] } {
  const errors: Error[] = [];
  const writer = new AuditFileWriter({ file, key: undefined, maxFileBytes: 1024 * 1024, flushIntervalMs: 5_000, onError: (error) => errors.push(error), ...overrides });
  return Object.assign(writer, { errors });
}

/** Queues and writes `count` numbered events. */
export async function writeEvents(writer: AuditFileWriter, count: number, label = 'event'): Promise<void> {
  for (let index = 0; index < count; index++) writer.enqueue(serializeEventFields(testEvent(`${label}-${index}`), Date.now()));
  await writer.flush();
}

export function testEvent(detail: string, extra: Partial<AuditEvent> = {}): AuditEvent {
  return { event_type: 'test-event', result: 'success', actor: 'test', detail, ...extra };
}

export function readLines(file: string): string[] {
  return readFileSync(file, 'utf8').split('\n').filter((line) => line !== '');
}

export function writeLines(file: string, lines: readonly string[]): void {
  writeFileSync(file, lines.map((line) => `${line}\n`).join(''), { mode: 0o600 });
}

/** A random value shaped like nothing real, to look for in the files afterwards. */
export function canary(label: string): string {
  return `canary-${label}-${randomBytes(12).toString('hex')}`;
}
