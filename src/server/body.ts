// Writing the server's responses: short text and JSON answers, and pattern bodies of any length streamed in bounded memory.

import type { ServerResponse } from 'node:http';

// A multiple of the pattern length, so consecutive chunks continue the pattern seamlessly and
// byte i of any body is always PATTERN[i % PATTERN.length], whatever the chunking.
export const PATTERN = 'abcdefghijklmnopqrstuvwxyz0123456789\n';
const CHUNK = PATTERN.length * Math.floor(65_536 / PATTERN.length);
// One pattern length of slack lets a chunk start at any pattern offset without copying.
const PATTERN_BUF = Buffer.from(PATTERN.repeat(CHUNK / PATTERN.length + 1), 'latin1');

export function sendText(res: ServerResponse, status: number, body: string, extra?: Record<string, string>): void {
  // These statuses must not carry a body; undici would otherwise see a framing error.
  const text = status === 204 || status === 205 || status === 304 ? '' : body;
  res.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': String(Buffer.byteLength(text)),
    ...extra,
  });
  res.end(text);
}

export function sendJson(res: ServerResponse, value: unknown): void {
  const body = `${JSON.stringify(value)}\n`;
  res.writeHead(200, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(body)),
  });
  res.end(body);
}

export interface PatternStream {
  /** Allow bytes up to `n` (clamped to the total) and write what the socket will take. */
  release(n: number): void;
}

/**
 * Writes pattern bytes up to a moving limit, waiting for 'drain' whenever the socket is full,
 * so a 1 GB or endless body costs one 64 KiB buffer instead of n bytes of memory.
 * `total` null means stream until the client goes away.
 */
export function patternStream(res: ServerResponse, total: number | null): PatternStream {
  let pos = 0;
  let limit = 0;
  let waiting = false;
  let gone = false;
  res.once('close', () => {
    gone = true;
  });
  // A write racing the client's disconnect may error; the 'close' above already stops us.
  res.on('error', () => {});
  const pump = (): void => {
    waiting = false;
    while (!gone && pos < limit) {
      const len = Math.min(CHUNK, limit - pos);
      const off = pos % PATTERN.length;
      pos += len;
      if (!res.write(PATTERN_BUF.subarray(off, off + len))) {
        waiting = true;
        res.once('drain', pump);
        return;
      }
    }
    if (!gone && total !== null && pos >= total) res.end();
  };
  return {
    release(n: number): void {
      limit = total === null ? n : Math.min(n, total);
      if (!waiting) pump();
    },
  };
}
