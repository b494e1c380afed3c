// The one place that knows sync-request's internals: how its index reaches its transport
// (sync-rpc) and what its worker module exports. fetchall replaces sync-rpc with its own relay
// (relay-thread.ts) and runs sync-request's worker there. package.json pins these packages to the
// exact versions checked here; checkInternals() says plainly what changed if an upgrade moves them.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

/** The exact versions whose internals this file relies on (package.json pins them, overrides too). */
export const PINNED = { 'sync-request': '6.1.0', 'sync-rpc': '1.3.7', 'then-request': '6.0.2', 'http-basic': '8.1.3' } as const;

/** sync-request's entry (lib/index.js) and its worker (lib/worker.js), as its index names it. */
function paths(): { index: string; worker: string; rpc: string } {
  const index = require.resolve('sync-request');
  const own = createRequire(index);
  return { index, worker: own.resolve('./worker'), rpc: own.resolve('sync-rpc') };
}

/** sync-request's worker module: init() returns the function that makes one request (then-request). */
export function syncRequestWorker(): unknown {
  const mod = require(paths().worker) as unknown;
  if (typeof mod !== 'function') throw new Error(`sync-request's lib/worker.js no longer exports init(): ${drift()}`);
  return mod;
}

/** sync-request's own request function. */
export type SyncRequestFn = (
  method: string,
  url: string,
  options: Record<string, unknown>,
) => {
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
  body: Uint8Array | string;
};

/**
 * Load a fresh sync-request whose transport is `call` in place of sync-rpc: sync-request's index
 * calls sync-rpc(<its worker's path>) once as it loads and then the returned function per request.
 * No process is started, nothing listens, no key is drawn.
 */
export function loadSyncRequestWith(call: (args: unknown) => unknown): SyncRequestFn {
  const { index, worker, rpc } = paths();
  let named: string | null = null;
  const standIn = (filename: string) => {
    named = filename;
    if (filename !== worker) throw new Error(`sync-request asked its transport for ${filename}, not its worker: ${drift()}`);
    return call;
  };
  const saved = require.cache[rpc];
  delete require.cache[index];
  require.cache[rpc] = { id: rpc, filename: rpc, loaded: true, exports: standIn, children: [], paths: [] } as unknown as NodeJS.Module;
  try {
    const request = require(index) as SyncRequestFn;
    if (named === null) throw new Error(`sync-request no longer starts its transport as it loads: ${drift()}`);
    return request;
  } finally {
    delete require.cache[index];
    if (saved) require.cache[rpc] = saved;
    else delete require.cache[rpc];
  }
}

/** Installed versions that differ from {@link PINNED}, as a sentence; '' when all match. */
function drift(): string {
  const off = checkVersions();
  return off.length > 0
    ? `installed ${off.join(', ')}`
    : `the pinned versions (${Object.entries(PINNED)
        .map(([n, v]) => `${n}@${v}`)
        .join(', ')}) changed on disk`;
}

function installedVersion(name: string, from: string): string | null {
  try {
    let dir = dirname(createRequire(from).resolve(name));
    for (let i = 0; i < 4; i++, dir = dirname(dir)) {
      try {
        const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
        if (pkg.name === name) return pkg.version ?? null;
      } catch {}
    }
  } catch {}
  return null;
}

/** `name@installed (pinned X)` for each package not at its pinned version. */
export function checkVersions(): string[] {
  const { index, worker } = paths();
  const thenRequest = createRequire(worker).resolve('then-request');
  const where: Record<keyof typeof PINNED, string> = {
    'sync-request': import.meta.url,
    'sync-rpc': index,
    'then-request': worker,
    'http-basic': thenRequest,
  };
  const off: string[] = [];
  for (const [name, pinned] of Object.entries(PINNED) as [keyof typeof PINNED, string][]) {
    const got = installedVersion(name, where[name]);
    if (got !== pinned) off.push(`${name}@${got ?? 'missing'} (pinned ${pinned})`);
  }
  return off;
}
