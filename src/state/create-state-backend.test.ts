import { describe, expect, it } from 'vitest';
import { createStateBackend } from './create-state-backend.js';

describe('createStateBackend', () => {
  it('hands a Redis URL password (decoded) to the caller for the redactor, before the client exists', async () => {
    const registered: string[][] = [];
    // Port 1 on loopback: nothing listens, so the client only retries until closed.
    const backend = createStateBackend(
      { backend: 'redis', url: 'redis://gateway:not%40a-real-password-42@127.0.0.1:1/0' },
      { registerSecrets: (secrets) => registered.push([...secrets]) },
    );
    try {
      expect(backend.kind).toBe('redis');
      expect(registered).toEqual([['not@a-real-password-42']]);
    } finally {
      await backend.close();
    }
  });

  it('registers nothing for the memory backend or a Redis URL without a password', async () => {
    const registered: string[][] = [];
    const options = { registerSecrets: (secrets: readonly string[]) => registered.push([...secrets]) };
    const memory = createStateBackend({ backend: 'memory' }, options);
    const redis = createStateBackend({ backend: 'redis', url: 'redis://127.0.0.1:1' }, options);
    await Promise.all([memory.close(), redis.close()]);
    expect(memory.kind).toBe('memory');
    expect(registered).toEqual([]);
  });
});
