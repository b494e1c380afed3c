// The built-in server in a child process (`fetchall serve --port 0`), reached over HTTP: an
// independent witness whose work is not counted as fetchall's and is not stalled by inline mode.

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import type { ServerStats } from './index.js';

export interface ServerProcess {
  url: string;
  stats(): Promise<ServerStats>;
  reset(): Promise<void>;
  close(): Promise<void>;
}

const BIN = fileURLToPath(new URL('../../bin/fetchall.js', import.meta.url));

export async function spawnServer(): Promise<ServerProcess> {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const killOnExit = () => child.kill('SIGKILL');
  process.on('exit', killOnExit);
  const url = await new Promise<string>((resolve, reject) => {
    let text = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      text += d;
      const nl = text.indexOf('\n');
      if (nl >= 0) resolve(text.slice(0, nl).trim());
    });
    child.once('exit', (code) => reject(new Error(`the built-in server exited (code ${code}) before printing its URL`)));
    child.once('error', reject);
  });
  child.stdout!.resume();
  const get = async (path: string) => {
    const res = await request(`${url}${path}`);
    return res.body.text();
  };
  return {
    url,
    stats: async () => JSON.parse(await get('/stats')) as ServerStats,
    reset: async () => {
      await get('/reset-stats');
    },
    close: async () => {
      process.off('exit', killOnExit);
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
