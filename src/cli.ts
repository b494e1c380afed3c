// The command line: flags → typed options → a command; errors → exit status. Knows no HTTP.

import { readFileSync } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { Chalk } from 'chalk';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { EXIT_WRITE, fetchCommand, type Terminal } from './commands/fetch.js';
import { MODES } from './engines/types.js';
import { resolveSources } from './input.js';
import {
  checkPoolSize,
  DEFAULTS,
  FatalError,
  FORMATS,
  type Format,
  parseDuration,
  parseHeader,
  parseIntFlag,
  parseMethod,
  parseMode,
  parseModes,
  parseSize,
  type RunOptions,
  UsageError,
} from './options.js';
import { escapeControls } from './render/escape.js';
import { type Paint, plain } from './render/paint.js';
import { describeStream, isHandled, writeFailure } from './render/write.js';

// undici's HTTP parser is WebAssembly; V8's optimising tier recompiles it in the background and
// the process waits for that at exit (~0.3 s and ~35 MB on a 1-URL run). The baseline tier is
// plenty for parsing HTTP heads. Must run before undici loads (engines load lazily).
setFlagsFromString('--liftoff-only');

export const VERSION: string = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;

/** Commander calls these with the raw text; a UsageError becomes commander's one-line error. */
function arg<T>(flag: string, parse: (flag: string, v: string) => T) {
  return (value: string): T => {
    try {
      return parse(flag, value);
    } catch (err) {
      // commander already names the flag and the value; keep only the why.
      if (err instanceof UsageError) throw new InvalidArgumentError(err.message.replace(`${flag}: `, '').replace(/, got .*$/, ''));
      throw err;
    }
  };
}

function collectHeader(value: string, previous: [string, string][] = []): [string, string][] {
  return [...previous, arg('--header', parseHeader)(value)];
}

interface RawOptions {
  mode: RunOptions['mode'];
  concurrency: number;
  perHost?: number;
  timeout: number;
  retries: number;
  retryMaxWait: number;
  maxRedirects: number;
  method: string;
  header?: [string, string][];
  userAgent?: string;
  maxSize: number;
  outputDir?: string;
  format: Format;
  quiet?: boolean;
  timeline: boolean;
  color: boolean;
}

/** The options `fetchall` and `fetchall compare` share. */
function addRunOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option('-m, --mode <mode>', 'async: undici; threads: sync-request in a worker pool; inline: sync-request on the event loop')
        .choices(MODES)
        .default('async')
        .argParser(arg('--mode', parseMode)),
    )
    .option(
      '-c, --concurrency <n>',
      'requests in flight (async) / worker threads (threads)',
      arg('--concurrency', (f, v) => parseIntFlag(f, v, 1, 10_000)),
      DEFAULTS.concurrency,
    )
    .option(
      '--per-host <n>',
      'at most n requests in flight per origin',
      arg('--per-host', (f, v) => parseIntFlag(f, v, 1)),
    )
    .option(
      '-t, --timeout <ms>',
      'deadline for the whole request, body included, in ms',
      arg('--timeout', (f, v) => parseIntFlag(f, v, 1, 2_147_483_647)),
      DEFAULTS.timeoutMs,
    )
    .option(
      '--retries <n>',
      'retry network errors, 429 and 5xx (exponential backoff, jitter, Retry-After)',
      arg('--retries', (f, v) => parseIntFlag(f, v, 0, 100)),
      DEFAULTS.retries,
    )
    .addOption(
      new Option(
        '--retry-max-wait <dur>',
        'longest wait before a retry (500ms, 5s, 2m): backoff is capped at it, a longer Retry-After fails the URL',
      )
        .argParser(arg('--retry-max-wait', parseDuration))
        .default(DEFAULTS.retryMaxWaitMs, '10s'),
    )
    .option(
      '--max-redirects <n>',
      'follow at most n redirects; 0 = return the 3xx itself',
      arg('--max-redirects', (f, v) => parseIntFlag(f, v, 0, 100)),
      DEFAULTS.maxRedirects,
    )
    .option('-X, --method <method>', 'HTTP method', arg('--method', parseMethod), DEFAULTS.method)
    .option('-H, --header <header>', 'extra request header "Name: value" (repeatable)', collectHeader)
    .option('-A, --user-agent <ua>', `User-Agent header (default fetchall/${VERSION})`)
    .addOption(
      new Option('--max-size <bytes>', 'fail a response whose body exceeds this (e.g. 512k, 10MB)')
        .argParser(arg('--max-size', parseSize))
        .default(DEFAULTS.maxSize, '100MB'),
    )
    .option('-o, --output-dir <dir>', 'save each body in DIR under a safe name derived from its URL')
    .addOption(new Option('-f, --format <fmt>', 'output format').choices(FORMATS).default('text'))
    .option('-q, --quiet', 'text: summary only; machine formats: no summary on stderr')
    .option('--no-timeline', 'text: skip the timeline chart')
    .option('--no-color', 'no colour (NO_COLOR and FORCE_COLOR are honoured too)');
}

function colorLevel(wanted: boolean, isTTY: boolean, env: NodeJS.ProcessEnv): boolean {
  if (!wanted) return false;
  if (env.FORCE_COLOR !== undefined) return env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false';
  if (env.NO_COLOR) return false;
  return isTTY && env.TERM !== 'dumb';
}

function paintFor(on: boolean): Paint {
  if (!on) return plain;
  const c = new Chalk({ level: 1 });
  return { enabled: true, dim: c.dim, bold: c.bold, green: c.green, red: c.red, yellow: c.yellow, cyan: c.cyan };
}

export function terminal(color: boolean): Terminal {
  const env = process.env;
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdoutIsTTY: Boolean(process.stdout.isTTY),
    stderrIsTTY: Boolean(process.stderr.isTTY),
    columns: process.stdout.isTTY ? process.stdout.columns || 80 : 80,
    rows: process.stdout.isTTY ? process.stdout.rows || 24 : 40,
    paint: paintFor(colorLevel(color, Boolean(process.stdout.isTTY), env)),
    errPaint: paintFor(colorLevel(color, Boolean(process.stderr.isTTY), env)),
    ci: Boolean(env.CI) && env.CI !== 'false',
  };
}

export async function toRunOptions(raw: RawOptions): Promise<RunOptions> {
  const outputDir = raw.outputDir;
  if (outputDir !== undefined) {
    try {
      // Not recursive at first: Node 20's recursive mkdir never returns on some paths (/proc/…).
      await mkdir(outputDir).catch(async (e: NodeJS.ErrnoException) => {
        if (e.code === 'EEXIST') {
          if (!(await stat(outputDir)).isDirectory()) throw e;
          return;
        }
        const parentExists = await stat(dirname(outputDir)).then(
          () => true,
          () => false,
        );
        if (e.code !== 'ENOENT' || parentExists) throw e;
        await mkdir(outputDir, { recursive: true });
      });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why = code === 'EEXIST' || code === 'ENOTDIR' ? 'not a directory' : (code ?? (err as Error).message);
      throw new UsageError(`--output-dir: cannot create '${outputDir}': ${why}`);
    }
  }
  return {
    mode: raw.mode,
    concurrency: raw.concurrency,
    perHost: raw.perHost ?? null,
    timeoutMs: raw.timeout,
    retries: raw.retries,
    retryMaxWaitMs: raw.retryMaxWait,
    maxRedirects: raw.maxRedirects,
    method: raw.method,
    headers: raw.header ?? [],
    userAgent: raw.userAgent ?? `fetchall/${VERSION}`,
    maxSize: raw.maxSize,
    outputDir: outputDir ?? null,
    format: raw.format,
    quiet: Boolean(raw.quiet),
    timeline: raw.timeline,
    color: raw.color,
  };
}

export function buildProgram(setExit: (code: number) => void): Command {
  const program = new Command('fetchall')
    .description('Fetch a list of URLs concurrently and see the concurrency: start/finish lines, a timeline, a summary.')
    .version(VERSION, '-V, --version')
    // Options after a subcommand belong to it (`compare -c 8` is compare's -c, not fetch's).
    .enablePositionalOptions()
    .argument('[source...]', 'files of URLs (one per line), - for stdin, or URLs')
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText(
      'after',
      `
Exit status: 0 all ok, 1 one or more failed, 2 usage error, 130 SIGINT, 143 SIGTERM, 141 output closed,
74 output could not be written (full disk, /dev/full).

Examples:
  fetchall urls.txt
  fetchall -m threads -c 8 urls.txt
  cat urls.txt | fetchall -f ndjson -q > results.ndjson
  fetchall compare --modes inline,threads,async urls.txt
  fetchall demo`,
    );
  addRunOptions(program).action(async (args: string[], raw: RawOptions) => {
    checkPoolSize([raw.mode], raw.concurrency);
    const o = await toRunOptions(raw);
    const sources = resolveSources(args, Boolean(process.stdin.isTTY));
    setExit(await fetchCommand(sources, o, terminal(o.color)));
  });

  const compare = new Command('compare')
    .description('fetch the same list in several modes and compare them side by side')
    .argument('[source...]', 'files of URLs, - for stdin, or URLs')
    .option(
      '--modes <list>',
      `comma-separated modes (${MODES.join(', ')})`,
      arg('--modes', parseModes),
      parseModes('--modes', 'threads,async'),
    )
    .option(
      '--runs <n>',
      'runs of each mode (with more than one, mean ± σ)',
      arg('--runs', (f, v) => parseIntFlag(f, v, 1, 100)),
      1,
    )
    .option('--json <file>', 'export every figure of every run to FILE');
  addRunOptions(compare).action(async (args: string[], raw: RawOptions & { modes: RunOptions['mode'][]; runs: number; json?: string }) => {
    checkPoolSize(raw.modes, raw.concurrency);
    const { compareCommand } = await import('./commands/compare.js');
    const o = await toRunOptions(raw);
    const sources = resolveSources(args, Boolean(process.stdin.isTTY));
    setExit(await compareCommand(sources, o, { modes: raw.modes, runs: raw.runs, json: raw.json ?? null }, terminal(o.color)));
  });
  program.addCommand(compare);

  program
    .command('serve')
    .description('run the built-in test server (loopback, deterministic latency); prints its base URL first')
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option(
      '--port <n>',
      'port (0 = any free port)',
      arg('--port', (f, v) => parseIntFlag(f, v, 0, 65535)),
      8080,
    )
    .action(async (opts: { host: string; port: number }) => {
      const { serveCommand } = await import('./server/serve.js');
      await serveCommand(opts);
    });

  program
    .command('demo')
    .description('start the built-in server on a free port and compare the modes on a seed-like list (offline)')
    .option('--modes <list>', 'comma-separated modes', arg('--modes', parseModes), parseModes('--modes', 'inline,threads,async'))
    .option(
      '-c, --concurrency <n>',
      'requests in flight / pool size',
      arg('--concurrency', (f, v) => parseIntFlag(f, v, 1, 1000)),
      10,
    )
    .option(
      '--runs <n>',
      'runs of each mode',
      arg('--runs', (f, v) => parseIntFlag(f, v, 1, 100)),
      1,
    )
    .option('--no-color', 'no colour')
    .action(async (opts: { modes: RunOptions['mode'][]; concurrency: number; runs: number; color: boolean }) => {
      checkPoolSize(opts.modes, opts.concurrency);
      const { demoCommand } = await import('./commands/demo.js');
      setExit(await demoCommand(opts, terminal(opts.color)));
    });

  for (const cmd of [program, ...program.commands]) {
    cmd.exitOverride();
    cmd.configureOutput({
      writeOut: (str) => writeOrNote(process.stdout, 'stdout', str),
      writeErr: (str) => writeOrNote(process.stderr, 'stderr', str),
      // commander quotes the argument it rejects, which may hold control characters.
      outputError: (str, write) =>
        write(
          (str.startsWith('error:') ? `fetchall: ${str}` : str)
            .split('\n')
            .map((l) => escapeControls(l))
            .join('\n'),
        ),
    });
  }
  return program;
}

/** The first write outside a run's session (help, usage errors) that failed, and where. */
let lostWrite: { target: string; error: NodeJS.ErrnoException } | null = null;

/** A write to a file or device throws (ENOSPC on /dev/full): note it for exit 74, never crash. */
function writeOrNote(stream: NodeJS.WriteStream, name: string, text: string): void {
  try {
    stream.write(text);
  } catch (e) {
    lostWrite ??= { target: describeStream(name, stream), error: e as NodeJS.ErrnoException };
  }
  if (stream.errored) lostWrite ??= { target: describeStream(name, stream), error: stream.errored as NodeJS.ErrnoException };
}

/** Run the CLI; sets process.exitCode rather than exiting mid-run. */
export async function main(argv: string[]): Promise<void> {
  let code = 0;
  lostWrite = null;
  // A stream that fails says so by an event (a tick later, even for a file); unheard, that event
  // would crash the process. A run's session takes charge of its own; this catches the rest
  // (help or a usage error to /dev/full).
  const onError = (name: 'stdout' | 'stderr') => (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') lostWrite ??= { target: describeStream(name, process[name]), error: e };
  };
  process.stdout.on('error', onError('stdout'));
  process.stderr.on('error', onError('stderr'));
  const program = buildProgram((c) => {
    code = c;
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (err instanceof CommanderError) {
      code = err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help' ? 0 : 2;
    } else if (err instanceof UsageError || err instanceof FatalError) {
      writeOrNote(process.stderr, 'stderr', `fetchall: ${escapeControls(err.message)}\n`);
      code = err.exitCode;
    } else if (e?.code === 'EPIPE') {
      code = 141;
    } else if (e?.syscall === 'write') {
      // A write nobody caught (serve's first line to /dev/full): one line, not a stack.
      lostWrite ??= { target: 'output', error: e };
    } else {
      writeOrNote(process.stderr, 'stderr', `fetchall: internal error: ${(err as Error)?.stack ?? String(err)}\n`);
      code = 70;
    }
  }
  // Events for the last writes arrive a tick later.
  await new Promise((resolve) => setImmediate(resolve));
  if (lostWrite && !isHandled(lostWrite.error)) {
    const { target, error } = lostWrite;
    if (!target.startsWith('stderr')) writeOrNote(process.stderr, 'stderr', `${writeFailure(target, error)}\n`);
    if (code !== 130 && code !== 143) code = EXIT_WRITE;
  }
  process.exitCode = code;
  // Everything we start is stopped by now; this only guards against a stray handle (a stdin
  // nobody will close) keeping a finished command alive.
  setTimeout(() => process.exit(), 1500).unref();
}
