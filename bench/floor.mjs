// The floor: the least a Node process does to fetch a URL list with undici — its Agent alone (as
// fetchall's async engine loads it), dispatch() with a handler that counts bytes, C loops pulling
// from the list, one short JSON line per result, written at the end.   node bench/floor.mjs LIST C
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

/** @type {typeof import('undici').Agent} */
const Agent = createRequire(import.meta.url)('undici/lib/dispatcher/agent.js');
const urls = readFileSync(process.argv[2], 'utf8').split('\n').filter(Boolean);
const c = Number(process.argv[3] ?? 50);
// The options fetchall's async engine uses: one connection per loop, no undici timeouts.
const agent = new Agent({ connections: c, pipelining: 1, headersTimeout: 0, bodyTimeout: 0, keepAliveTimeout: 4000 });
/** @type {string[]} */
const results = [];
let next = 0;

/** @param {number} i @returns {Promise<void>} */
const get = (i) =>
  new Promise((resolve) => {
    const u = new URL(urls[i]);
    let status = 0;
    let bytes = 0;
    /** @param {Error & { code?: string }} [err] */
    const done = (err) => resolve(void results.push(JSON.stringify({ i, status, bytes, ...(err && { error: err.code ?? err.message }) })));
    agent.dispatch(
      { origin: u.origin, path: u.pathname + u.search, method: 'GET' },
      {
        onRequestStart: () => {}, // undici tells this handler style from the old one by this method
        onResponseStart(_c, code) {
          status = code;
        },
        onResponseData(_c, chunk) {
          bytes += chunk.length;
        },
        onResponseEnd: () => done(),
        onResponseError: (_c, err) => done(err),
      },
    );
  });

await Promise.all(
  Array.from({ length: c }, async () => {
    while (next < urls.length) await get(next++);
  }),
);
await agent.close();
process.stdout.write(results.length ? `${results.join('\n')}\n` : '');
process.exitCode = results.some((l) => l.includes('"error"')) ? 1 : 0;
