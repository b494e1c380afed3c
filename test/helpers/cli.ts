// Run the built CLI (dist/, through bin/fetchall.js) as a real child process.

import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { kill, processesTagged } from './procs.js';

export const BIN = fileURLToPath(new URL('../../bin/fetchall.js', import.meta.url));

/**
 * The node that runs the CLI: FETCHALL_TEST_NODE when set (another Node's binary, as `npm run test:nodes`
 * gives it: README "Node versions"), else the one running the tests. Every test that starts the CLI
 * starts it with this, vitest itself stays where it is.
 */
export const NODE = process.env.FETCHALL_TEST_NODE || process.execPath;

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
  /**
   * Resolves when stdout (or stderr) has a line matching `re`; rejects with the output so far
   * when the process ends first or `timeoutMs` passes.
   */
  waitFor(re: RegExp, stream?: 'stdout' | 'stderr', timeoutMs?: number): Promise<string>;
  done: Promise<CliResult>;
}

/** The tests talk to loopback servers: a proxy in the caller's environment must not route them (tests that want one set it). */
const NO_PROXY_ENV = Object.fromEntries(
  ['HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY', 'NO_PROXY'].flatMap((n) => [
    [n, undefined],
    [n.toLowerCase(), undefined],
  ]),
);

/** How long a test waits for a line before it fails, rather than hang until the test's timeout. */
export const WAIT_MS = 15_000;

// Every child a test started, so one failed test cannot leave a run going into the next test.
const children = new Map<ChildProcess, string | null>();

/** Register a child spawned without `start` (a shell, `script`), so killAll stops it too. */
export function track<C extends ChildProcess>(child: C, tag: string | null = null): C {
  children.set(child, tag);
  return child;
}

/**
 * Kill every child started since the last call, with anything carrying its tag (its helpers).
 * The setup file calls this after each test, passed or failed.
 */
export function killAll(): void {
  for (const [child, tag] of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    if (tag) kill(processesTagged(tag));
  }
  children.clear();
}

export function start(
  args: string[],
  opts: { input?: string; env?: Record<string, string>; stdin?: 'pipe' | 'ignore'; cwd?: string } = {},
): Running {
  const tag = `fetchall-test-${randomUUID()}`;
  const child = spawn(NODE, [BIN, ...args], {
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
  track(child, tag);
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
    waitFor: (re, stream = 'stdout', timeoutMs = WAIT_MS) =>
      new Promise((resolve, reject) => {
        const waiter = {
          re,
          stream,
          resolve: (line: string) => {
            clearTimeout(timer);
            resolve(line);
          },
        };
        const fail = (why: string) => {
          const i = waiters.indexOf(waiter);
          if (i === -1) return;
          waiters.splice(i, 1);
          reject(new Error(`${why} before ${re} appeared on ${stream}.\nstdout:\n${out}\nstderr:\n${err}`));
        };
        const timer = setTimeout(() => fail(`${timeoutMs} ms passed`), timeoutMs);
        waiters.push(waiter);
        check();
        done.then(() => {
          clearTimeout(timer);
          fail('the process ended');
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
