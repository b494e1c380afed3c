// Child processes for the bench: each in its own process group, timed as a whole, bounded by a
// time limit, and killed (the whole group) on exit, on error and on SIGINT/SIGTERM/SIGHUP.

import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './paths.js';

/** Every live child we started: its process group is killed on the way out. */
const live = new Set<number>();
let cleaning = false;

/** True once a signal has asked the bench to stop: nothing half-measured is reported after. */
export const stopping = (): boolean => cleaning;

function killGroup(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig);
  } catch {
    try {
      process.kill(pid, sig);
    } catch {}
  }
}

function cleanup(sig: NodeJS.Signals): void {
  for (const pid of live) killGroup(pid, sig);
}

/** Installed once by the entry: whatever way the bench ends, no child outlives it. */
export function killChildrenOnExit(): void {
  process.on('exit', () => {
    // Synchronous only: whatever is still alive gets SIGTERM, stragglers a SIGKILL.
    cleanup('SIGTERM');
    cleanup('SIGKILL');
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      if (cleaning) return;
      cleaning = true;
      process.stderr.write(`\nbench: ${sig}: stopping ${live.size} child process(es)\n`);
      cleanup('SIGTERM');
      setTimeout(() => {
        cleanup('SIGKILL');
        process.exit(sig === 'SIGINT' ? 130 : 143);
      }, 500);
    });
  }
  const fatal = (err: unknown) => {
    if (cleaning) return;
    process.stderr.write(`bench: ${err instanceof Error ? err.stack : String(err)}\n`);
    cleanup('SIGTERM');
    process.exit(1);
  };
  process.on('uncaughtException', fatal);
  process.on('unhandledRejection', fatal);
}

/** An environment without proxy settings, so nothing can route a loopback request elsewhere. */
export function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of Object.keys(env)) {
    if (/^(https?|all|ftp|socks)_proxy$/i.test(k) || /^no_proxy$/i.test(k) || /^(curl_home)$/i.test(k)) delete env[k];
  }
  env.NO_PROXY = '127.0.0.1,localhost';
  env.no_proxy = '127.0.0.1,localhost';
  // A bench must not pick up a developer's node flags (an inspector, a preload).
  delete env.NODE_OPTIONS;
  return { ...env, ...extra };
}

export interface RunOptions {
  /** A file to feed on stdin (xargs reads its URLs there). */
  stdinFile?: string | null;
  /** A command whose stdout is piped to stdin instead (a list generated on the fly); stopped with the run. */
  stdinCommand?: { cmd: string; args: string[] } | null;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
  /** Poll the peak RSS (VmHWM) every 50 ms… */
  pollRss?: boolean;
  /** …of the process's first child rather than itself (under /usr/bin/time). */
  rssOfChild?: boolean;
}

export interface Timed {
  /** From spawn to exit; null when it could not be spawned. */
  wallMs: number | null;
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  /** The head of its stderr (bounded). */
  stderr: string;
  hwmKB: number | null;
}

let devNull: number | null = null;
const STDERR_CAP = 16 * 1024;

/** Run one command as a timed whole process; stdout goes to /dev/null, stderr is kept (bounded). */
export function runTimed(cmd: string, args: string[], opts: RunOptions = {}): Promise<Timed> {
  const { stdinFile = null, stdinCommand = null, env = cleanEnv(), timeoutMs = 300_000, pollRss = false, rssOfChild = false } = opts;
  devNull ??= openSync('/dev/null', 'w');
  const out = devNull;
  return new Promise((resolvePromise) => {
    const feeder = stdinCommand
      ? spawn(stdinCommand.cmd, stdinCommand.args, { stdio: ['ignore', 'pipe', 'ignore'], env, cwd: ROOT })
      : null;
    if (feeder?.pid) live.add(feeder.pid);
    const stdin = feeder ? feeder.stdout! : stdinFile ? openSync(stdinFile, 'r') : 'ignore';
    const t0 = process.hrtime.bigint();
    const elapsed = () => Number(process.hrtime.bigint() - t0) / 1e6;
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(cmd, args, { stdio: [stdin, out, 'pipe'], env, detached: true, cwd: ROOT });
    } catch (err) {
      feeder?.kill('SIGKILL');
      resolvePromise({ wallMs: null, code: null, signal: null, timedOut: false, stderr: String(err), hwmKB: null });
      return;
    } finally {
      if (typeof stdin === 'number') closeSync(stdin);
    }
    const pid = child.pid;
    if (pid) live.add(pid);
    let stderr = '';
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (d: string) => {
      if (stderr.length < STDERR_CAP) stderr += d.slice(0, STDERR_CAP - stderr.length);
    });
    let hwmKB: number | null = null;
    let target = rssOfChild ? null : (pid ?? null);
    const readHwm = () => {
      if (target === null && pid) {
        try {
          const kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
          if (kids.length > 0) target = Number(kids[0]);
        } catch {}
      }
      if (target === null) return;
      try {
        const m = /VmHWM:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${target}/status`, 'utf8'));
        if (m) hwmKB = Math.max(hwmKB ?? 0, Number(m[1]));
      } catch {}
    };
    // Bounded: stops at exit, and the run itself is bounded by timeoutMs.
    const poller = pollRss ? setInterval(readHwm, 50) : null;
    let timedOut = false;
    const killer = setTimeout(() => {
      timedOut = true;
      if (pid) killGroup(pid, 'SIGKILL');
    }, timeoutMs);
    let exitInfo: Pick<Timed, 'code' | 'signal' | 'wallMs'> | null = null;
    child.on('error', (err) => {
      stderr += `\nspawn error: ${err.message}`;
    });
    child.on('exit', (code, signal) => {
      exitInfo = { code, signal, wallMs: elapsed() };
    });
    child.on('close', (code, signal) => {
      clearTimeout(killer);
      if (poller) clearInterval(poller);
      if (pid) {
        // Anything the tool left behind in its group (xargs' curls, helpers) goes too.
        killGroup(pid, 'SIGKILL');
        live.delete(pid);
      }
      if (feeder?.pid) {
        feeder.kill('SIGKILL');
        live.delete(feeder.pid);
      }
      resolvePromise({ ...(exitInfo ?? { code, signal, wallMs: elapsed() }), timedOut, stderr, hwmKB });
    });
  });
}

/** The first line a command prints for its version, or null when it is absent or fails. */
export function versionOf(cmd: string, args: string[]): string | null {
  try {
    const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 10_000, env: cleanEnv() });
    if (r.error || r.status !== 0) return null;
    return (r.stdout || r.stderr).split('\n')[0]!.trim();
  } catch {
    return null;
  }
}

export function commandPath(name: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(':').filter(Boolean)) {
    const p = join(dir, name);
    if (existsSync(p)) return p;
  }
  return null;
}
