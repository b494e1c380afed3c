// One measured run: a tool timed as a whole process, with the server's own count of the
// requests it served and its peak in flight; rounds that alternate the tools; the URL lists.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as Launcher from '../src/server/process.js';
import type { ServerProcess } from '../src/server/process.js';
import { DIST } from './paths.js';
import type { Tool } from './peers.js';
import { runTimed, stopping } from './proc.js';
import type { Run } from './stats.js';
import { firstLines, s3 } from './table.js';

/** The built-in server, checked to be on loopback: every URL list is built from `base`. */
export type Server = ServerProcess & { base: string };

/** The project's own launcher (src/server/process.ts), from the build the bench measures. */
export async function startServer(): Promise<Server> {
  const { spawnServer } = (await import(pathToFileURL(join(DIST, 'server', 'process.js')).href)) as typeof Launcher;
  const server = await spawnServer();
  const u = new URL(server.url);
  if (u.protocol !== 'http:' || u.hostname !== '127.0.0.1' || !u.port) {
    await server.close();
    throw new Error(`server printed '${server.url}', not an http://127.0.0.1:PORT URL`);
  }
  return Object.assign(server, { base: `http://127.0.0.1:${u.port}` });
}

/** What every case is given. */
export interface Context {
  server: Server;
  /** A private temporary directory for lists and configs. */
  tmp: string;
  rounds: number;
}

export const say = (s = ''): void => void process.stdout.write(`${s}\n`);
/** Progress and per-run detail go to stderr, so stdout holds the report alone. */
export const progress = (s: string): void => void process.stderr.write(`${s}\n`);

/** N URLs of /delay/D on the server, numbered so none is a repeat, written one a line. */
export function writeList(tmp: string, name: string, base: string, n: number, delay: number): { file: string; urls: string[] } {
  const urls = Array.from({ length: n }, (_, i) => `${base}/delay/${delay}?i=${i + 1}`);
  if (urls.length > 0 && !urls[0]!.startsWith('http://127.0.0.1:')) throw new Error(`refusing non-loopback URL ${urls[0]}`);
  const file = join(tmp, `${name}.txt`);
  writeFileSync(file, `${urls.join('\n')}\n`);
  return { file, urls };
}

/** One timed run of one tool, with the server's count of requests served and its peak in flight. */
export async function measure(server: Server, tool: Tool, round: number, expected: number | null): Promise<Run> {
  await server.reset();
  const r = await runTimed(tool.cmd, tool.args, tool.opts);
  // Stopping (SIGINT…): the signal handler exits shortly; report nothing half-measured.
  if (stopping()) await new Promise(() => {});
  let stats: { served?: number; peak?: number; error?: string };
  try {
    stats = await server.stats();
  } catch (err) {
    stats = { error: String(err) };
  }
  const problems: string[] = [];
  if (r.timedOut) problems.push(`timed out after ${(tool.opts.timeoutMs / 1000).toFixed(0)} s (killed)`);
  if (r.code !== 0) problems.push(`exit ${r.code ?? r.signal}`);
  if (stats.served !== undefined && expected !== null && stats.served !== expected)
    problems.push(`server saw ${stats.served} of ${expected} requests`);
  if (stats.error) problems.push(`no server stats: ${stats.error}`);
  progress(
    `  [r${round}] ${tool.name.padEnd(30)} ${s3(r.wallMs)} s  served ${stats.served ?? '?'}  peak ${stats.peak ?? '?'}${problems.length ? `  !! ${problems.join('; ')}` : ''}`,
  );
  return {
    tool: tool.name,
    round,
    wallMs: r.wallMs,
    exitCode: r.code,
    signal: r.signal,
    timedOut: r.timedOut,
    served: stats.served ?? null,
    serverPeakInFlight: stats.peak ?? null,
    hwmKB: r.hwmKB,
    stderrHead: firstLines(r.stderr, 6),
    problems,
  };
}

/**
 * Rounds of fetchall then each peer, the same order every round, so a slow spell of a shared
 * machine falls on every tool alike. `each` sees every run as it is made (a case's extra figures).
 */
export async function alternate(
  ctx: Context,
  tools: Tool[],
  expected: (tool: Tool) => number | null,
  each: (run: Run, tool: Tool) => void | Promise<void> = () => {},
  before: (tool: Tool) => void = () => {},
): Promise<Run[]> {
  const runs: Run[] = [];
  for (let round = 1; round <= ctx.rounds; round++) {
    for (const tool of tools) {
      before(tool);
      const run = await measure(ctx.server, tool, round, expected(tool));
      await each(run, tool);
      runs.push(run);
    }
  }
  return runs;
}
