// What the bench runs: fetchall and each peer as a command line, and what it needs to know of
// the machine to choose them (curl's version, python3, nc on PATH).

import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, NODE, ROOT } from './paths.js';
import { cleanEnv, type RunOptions, versionOf } from './proc.js';

/** One contender: a name for the tables, a command line, how to run it. */
export interface Tool {
  name: string;
  cmd: string;
  args: string[];
  opts: RunOptions & { timeoutMs: number };
}

export const FETCHALL = 'fetchall (async)';
export const FLOOR = 'floor (undici Agent)';
export const CURL_Z = 'curl -Z';

export function fetchallTool(list: string, c: number, timeoutMs: number): Tool {
  return { name: FETCHALL, cmd: NODE, args: [CLI, '-q', '-f', 'ndjson', '-c', String(c), list], opts: { timeoutMs, env: cleanEnv() } };
}

/** The least a Node process does with undici for the same list (bench/floor.mjs). */
export function floorTool(list: string, c: number, timeoutMs: number, name = FLOOR): Tool {
  return { name, cmd: NODE, args: [join(ROOT, 'bench', 'floor.mjs'), list, String(c)], opts: { timeoutMs, env: cleanEnv() } };
}

export type Curl =
  | { ok: true; line: string; version: string; atLeast: (major: number, minor: number) => boolean; why: null }
  | { ok: false; line: string | null; why: string };

export function curlInfo(): Curl {
  const line = versionOf('curl', ['--version']);
  if (!line) return { ok: false, line: null, why: 'curl not found' };
  const m = /^curl (\d+)\.(\d+)\.(\d+)/.exec(line);
  if (!m) return { ok: false, line, why: `cannot parse '${line}'` };
  const [maj, min] = [Number(m[1]), Number(m[2])];
  const atLeast = (a: number, b: number) => maj > a || (maj === a && min >= b);
  const version = `${m[1]}.${m[2]}.${m[3]}`;
  return atLeast(7, 66) ? { ok: true, line, version, atLeast, why: null } : { ok: false, line, why: `curl ${version} < 7.66 (no -Z)` };
}

/** A curl config: one transfer per url line; the output right after its url applies to it. */
export function curlConfig(urls: string[], file: string): void {
  const esc = (s: string) => s.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
  writeFileSync(file, urls.map((u) => `url = "${esc(u)}"\noutput = "/dev/null"\n`).join(''));
}

export function curlZTool(cfg: string, c: number, timeoutMs: number, curl: Curl & { ok: true }): Tool {
  const pmax = Math.min(c, 300);
  // -s alone does not silence the parallel progress meter (seen with 7.88 and -K); the explicit
  // flag does (7.67+). -S keeps real errors visible.
  const quiet = curl.atLeast(7, 67) ? ['--no-progress-meter'] : [];
  return {
    name: CURL_Z,
    cmd: 'curl',
    args: ['-q', '--noproxy', '*', ...quiet, '-Z', '--parallel-max', String(pmax), '-K', cfg, '-s', '-S', '-o', '/dev/null'],
    opts: { timeoutMs, env: cleanEnv() },
  };
}

/** One curl process per URL, C at a time, the list on stdin. */
export const XARGS_CURL = ['-n', '1', 'curl', '-q', '--noproxy', '*', '-s', '-o', '/dev/null'];

export function xargsTool(list: string, c: number, timeoutMs: number): Tool {
  return {
    name: `xargs -P ${c} curl`,
    cmd: 'xargs',
    args: ['-P', String(c), ...XARGS_CURL],
    opts: { timeoutMs, env: cleanEnv(), stdinFile: list },
  };
}

/** The seed's own approach (bench/seed.py): asyncio, a thread pool of C, blocking urllib. */
export function pythonTool(list: string, c: number, timeoutMs: number): Tool {
  return {
    name: `python3 seed (pool ${c})`,
    cmd: 'python3',
    args: [join(ROOT, 'bench', 'seed.py'), list, String(c)],
    opts: { timeoutMs, env: cleanEnv() },
  };
}

/** PATH without any directory holding nc/ncat/netcat, and the directories removed. */
export function pathWithoutNc(): { path: string; removed: string[] } {
  const removed: string[] = [];
  const kept: string[] = [];
  for (const d of (process.env.PATH ?? '').split(':')) {
    if (d && ['nc', 'ncat', 'netcat'].some((n) => existsSync(join(d, n)))) removed.push(d);
    else kept.push(d);
  }
  return { path: kept.join(':'), removed };
}
