// Start the built-in server for a test, and list URLs on it.

import { afterAll, beforeAll } from 'vitest';
import { startServer, type TestServer } from '../../src/server/index.js';

/** A server started before the file's tests and stopped after them. */
export function useServer(): { readonly server: TestServer } {
  const holder = {} as { server: TestServer };
  beforeAll(async () => {
    holder.server = await startServer({ port: 0 });
  });
  afterAll(async () => {
    await holder.server?.close();
  });
  return holder;
}

export function urls(base: string, path: string, n: number, tag = ''): string[] {
  return Array.from({ length: n }, (_, i) => `${base}${path}?i=${i}${tag}`);
}
