// sync-request's internals that the one blocking transport relies on (src/sync/internals.ts): an
// upgrade that moves them fails here, saying what changed, before any mode misbehaves.

import { describe, expect, it } from 'vitest';

const internals: typeof import('../src/sync/internals.js') = await import(new URL('../dist/sync/internals.js', import.meta.url).href);

describe('sync-request internals', () => {
  it('are the pinned versions', () => {
    expect(internals.checkVersions(), 'package.json pins these; an upgrade must re-check src/sync/internals.ts').toEqual([]);
  });

  it("sync-request's index asks its transport for its own worker once, and calls the returned function per request", () => {
    const calls: unknown[] = [];
    const request = internals.loadSyncRequestWith((args) => {
      calls.push(args);
      return { s: 201, h: { 'x-a': 'b' }, b: new Uint8Array(0), u: 'http://x/' };
    });
    const res = request('GET', 'http://x/', { headers: { a: '1' } });
    expect(res.statusCode).toBe(201);
    expect(res.headers['x-a']).toBe('b');
    expect(calls).toEqual([{ m: 'GET', u: 'http://x/', o: { headers: { a: '1' } } }]);
  });

  it("sync-request's worker module exports init(), which returns the request function", () => {
    const init = internals.syncRequestWorker() as () => unknown;
    expect(typeof init).toBe('function');
    expect(typeof init()).toBe('function');
  });
});
