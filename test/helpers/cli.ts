// Run the built CLI (dist/, through bin/fetchall.js) as a real child process.

import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../bin/fetchall.js', import.meta.url));

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** The tag put in the child's environment; helper processes inherit it (see procs.ts). */
  tag: string;
}

export interface Running {
  child: ChildProcess;
  tag: string;
  stdout(): string;
  stderr(): string;
  /** Resolves when stdout (or stderr) has a line matching `re`. */
  waitFor(re: RegExp, stream?: 'stdout' | 'stderr'): Promise<string>;
  done: Promise<CliResult>;
}

/** The tests talk to loopback servers: a proxy in the caller's environment must not route them (tests that want one set it). */
const NO_PROXY_ENV = Object.fromEntries(
  ['HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY', 'NO_PROXY'].flatMap((n) => [
    [n, undefined],
    [n.toLowerCase(), undefined],
  ]),
);

export function start(
  args: string[],
  opts: { input?: string; env?: Record<string, string>; stdin?: 'pipe' | 'ignore'; cwd?: string } = {},
): Running {
  const tag = `fetchall-test-${randomUUID()}`;
  const child = spawn(process.execPath, [BIN, ...args], {
    env: {
      ...process.env,
      ...NO_PROXY_ENV,
      NO_COLOR: '1',
      FORCE_COLOR: undefined,
      CI: 'true',
      FETCHALL_TEST_TAG: tag,
      ...opts.env,
    } as NodeJS.ProcessEnv,
    stdio: [opts.stdin ?? 'pipe', 'pipe', 'pipe'],
    cwd: opts.cwd,
  });
  let out = '';
  let err = '';
  const waiters: { re: RegExp; stream: 'stdout' | 'stderr'; resolve: (s: string) => void }[] = [];
  const check = () => {
    for (const w of [...waiters]) {
      const text = w.stream === 'stdout' ? out : err;
      const line = text.split('\n').find((l) => w.re.test(l));
      if (line !== undefined) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  };
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    out += d;
    check();
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    err += d;
    check();
  });
  if (child.stdin) {
    child.stdin.on('error', () => {});
    if (opts.input !== undefined) child.stdin.end(opts.input);
  }
  const done = new Promise<CliResult>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal, stdout: out, stderr: err, tag }));
  });
  return {
    child,
    tag,
    stdout: () => out,
    stderr: () => err,
    waitFor: (re, stream = 'stdout') =>
      new Promise((resolve, reject) => {
        waiters.push({ re, stream, resolve });
        check();
        done.then(() => {
          if (waiters.some((w) => w.resolve === resolve))
            reject(new Error(`process ended before ${re} appeared.\nstdout:\n${out}\nstderr:\n${err}`));
        });
      }),
    done,
  };
}

/** Run to completion. */
export function run(args: string[], opts: { input?: string; env?: Record<string, string>; cwd?: string } = {}): Promise<CliResult> {
  return start(args, { ...opts, stdin: opts.input === undefined ? 'ignore' : 'pipe' }).done;
}

export function ndjson(stdout: string): Record<string, unknown>[] {
  return stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l));
}
