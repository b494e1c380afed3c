// The command line: flags → typed options → a command; errors → exit status. Knows no HTTP.

import { mkdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { Chalk } from 'chalk';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { fetchCommand } from './commands/fetch.js';
import type { Terminal } from './commands/session.js';
import { FatalError, UsageError } from './core/errors.js';
import { MODES } from './core/types.js';
import { VERSION } from './core/version.js';
import { CLEAN, getExitCode, type Outcome } from './exit.js';
import { resolveSources } from './input.js';
import {
  checkBodyMethod,
  checkPoolSize,
  type DataPiece,
  DEFAULTS,
  FORMATS,
  type Format,
  parseCacert,
  parseData,
  parseDuration,
  parseHeader,
  parseHeaderFile,
  parseIntFlag,
  parseMethod,
  parseMode,
  parseModes,
  parseSize,
  proxySettings,
  type RunOptions,
  requestBody,
} from './options.js';
import { escapeControls } from './render/escape.js';
import { type Paint, plain } from './render/paint.js';
import { describeStream, isHandled, writeFailure } from './render/write.js';

// undici's HTTP parser is WebAssembly; V8's optimising tier recompiles it in the background and
// the process waits for that at exit (~0.3 s and ~35 MB on a 1-URL run). The baseline tier is
// plenty for parsing HTTP heads. Must run before undici loads (engines load lazily).
setFlagsFromString('--liftoff-only');

/** The User-Agent header unless -A says otherwise. */
const USER_AGENT = `fetchall/${VERSION}`;

/** Commander calls these with the raw text; a UsageError becomes commander's one-line error. */
function arg<T>(flag: string, parse: (flag: string, v: string) => T) {
  return (value: string): T => {
    try {
      return parse(flag, value);
    } catch (err) {
      // commander already names the flag and the value; add only the why.
      if (err instanceof UsageError) throw new InvalidArgumentError(err.reason);
      throw err;
    }
  };
}

function collectHeader(value: string, previous: [string, string][] = []): [string, string][] {
  if (value.startsWith('@')) return [...previous, ...arg('--header', parseHeaderFile)(value)];
  return [...previous, arg('--header', parseHeader)(value)];
}

/** -d and --data-binary pieces keep their order across both flags (curl joins them with '&'). */
let dataSeq = 0;
function collectData(flag: string, binary: boolean) {
  return (value: string, previous: DataPiece[] = []): DataPiece[] => [
    ...previous,
    { seq: dataSeq++, bytes: arg(flag, (f, v) => parseData(f, v, binary))(value) },
  ];
}

interface RawOptions {
  mode: RunOptions['mode'];
  concurrency: number;
  perHost?: number;
  timeout: number;
  retries: number;
  retryMaxWait: number;
  maxRedirects: number;
  method?: string;
  header?: [string, string][];
  userAgent?: string;
  maxSize: number;
  outputDir?: string;
  format: Format;
  quiet?: boolean;
  timeline: boolean;
  color: boolean;
  data?: DataPiece[];
  dataBinary?: DataPiece[];
  proxy?: string | false;
  insecure?: boolean;
  cacert?: string;
}

/** The options `fetchall` and `fetchall compare` share. */
function addRunOptions(cmd: Command): Command {
  return addOutputOptions(addNetworkOptions(addRequestOptions(addSchedulingOptions(cmd))));
}

/** The request's body, the way to the server (proxy) and whom to trust there (TLS). */
function addNetworkOptions(cmd: Command): Command {
  return cmd
    .option(
      '-d, --data <str|@file>',
      'request body (@file: its CR/LF removed); implies POST and a form Content-Type',
      collectData('--data', false),
    )
    .option('--data-binary <str|@file>', 'request body, a file byte for byte; as -d otherwise', collectData('--data-binary', true))
    .option('--proxy <url>', 'proxy every request through this http:// proxy (NO_PROXY still applies)')
    .option('--no-proxy', 'no proxy, whatever HTTP_PROXY/HTTPS_PROXY say (default: honour them and NO_PROXY)')
    .option('-k, --insecure', 'do not verify TLS certificates')
    .option('--cacert <file>', 'trust the CA certificates in this PEM file, besides the system ones', arg('--cacert', parseCacert));
}

/** How many run at once, and how long and how often each may be tried. */
function addSchedulingOptions(cmd: Command): Command {
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
    );
}

/** What each request sends and accepts. */
function addRequestOptions(cmd: Command): Command {
  return cmd
    .option(
      '--max-redirects <n>',
      'follow at most n redirects; 0 = return the 3xx itself',
      arg('--max-redirects', (f, v) => parseIntFlag(f, v, 0, 100)),
      DEFAULTS.maxRedirects,
    )
    .option('-X, --method <method>', 'HTTP method (default GET; POST with -d)', arg('--method', parseMethod))
    .option('-H, --header <header>', 'extra request header "Name: value" (repeatable; @file: one a line)', collectHeader)
    .option('-A, --user-agent <ua>', `User-Agent header (default fetchall/${VERSION})`)
    .addOption(
      new Option('--max-size <bytes>', 'fail a response whose body exceeds this (e.g. 512k, 10MB)')
        .argParser(arg('--max-size', parseSize))
        .default(DEFAULTS.maxSize, '100MB'),
    );
}

/** Where bodies and results go, and how they look. */
function addOutputOptions(cmd: Command): Command {
  return cmd
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

/** The run options from commander's parsed values, creating --output-dir on the way. */
export async function toRunOptions(raw: RawOptions): Promise<RunOptions> {
  if (raw.outputDir !== undefined) await makeOutputDir(raw.outputDir);
  const body = requestBody([...(raw.data ?? []), ...(raw.dataBinary ?? [])], raw.header ?? []);
  return {
    mode: raw.mode,
    concurrency: raw.concurrency,
    perHost: raw.perHost ?? null,
    timeoutMs: raw.timeout,
    retries: raw.retries,
    retryMaxWaitMs: raw.retryMaxWait,
    maxRedirects: raw.maxRedirects,
    method: raw.method ?? (body ? 'POST' : DEFAULTS.method),
    headers: raw.header ?? [],
    userAgent: raw.userAgent ?? USER_AGENT,
    maxSize: raw.maxSize,
    outputDir: raw.outputDir ?? null,
    format: raw.format,
    quiet: Boolean(raw.quiet),
    timeline: raw.timeline,
    color: raw.color,
    body,
    proxy: proxySettings(raw.proxy, process.env),
    insecure: Boolean(raw.insecure),
    cacert: raw.cacert ?? null,
  };
}

async function makeOutputDir(outputDir: string): Promise<void> {
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
    throw new UsageError({ flag: '--output-dir', reason: `cannot create '${outputDir}': ${why}` });
  }
}

/** Each command's action reports how it ended here; main turns that into the exit status. */
type Report = (outcome: Outcome) => void;

const HELP_AFTER = `
Exit status: 0 all ok, 1 one or more failed, 2 usage error, 130 SIGINT, 143 SIGTERM, 141 output closed,
74 output could not be written (full disk, /dev/full).

Examples:
  fetchall urls.txt
  fetchall -m threads -c 8 urls.txt
  cat urls.txt | fetchall -f ndjson -q > results.ndjson
  fetchall compare --modes inline,threads,async urls.txt
  fetchall demo`;

/** `fetchall [options] [source...]`, with compare, serve and demo as subcommands. */
export function buildProgram(report: Report): Command {
  const program = new Command('fetchall')
    .description('Fetch a list of URLs concurrently and see the concurrency: start/finish lines, a timeline, a summary.')
    .version(VERSION, '-V, --version')
    // Options after a subcommand belong to it (`compare -c 8` is compare's -c, not fetch's).
    .enablePositionalOptions()
    .argument('[source...]', 'files of URLs (one per line), - for stdin, or URLs')
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText('after', HELP_AFTER);
  addRunOptions(program).action(async (args: string[], raw: RawOptions) => {
    checkPoolSize([raw.mode], raw.concurrency);
    const o = await toRunOptions(raw);
    checkBodyMethod([o.mode], o.method, o.body);
    const sources = resolveSources(args, Boolean(process.stdin.isTTY));
    report(await fetchCommand(sources, o, terminal(o.color)));
  });
  program.addCommand(compareProgram(report));
  program.addCommand(serveProgram());
  program.addCommand(demoProgram(report));
  for (const cmd of [program, ...program.commands]) configureOutput(cmd);
  return program;
}

function compareProgram(report: Report): Command {
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
  return addRunOptions(compare).action(
    async (args: string[], raw: RawOptions & { modes: RunOptions['mode'][]; runs: number; json?: string }) => {
      checkPoolSize(raw.modes, raw.concurrency);
      const { compareCommand } = await import('./commands/compare.js');
      const o = await toRunOptions(raw);
      checkBodyMethod(raw.modes, o.method, o.body);
      const sources = resolveSources(args, Boolean(process.stdin.isTTY));
      report(await compareCommand(sources, o, { modes: raw.modes, runs: raw.runs, json: raw.json ?? null }, terminal(o.color)));
    },
  );
}

function serveProgram(): Command {
  return new Command('serve')
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
}

function demoProgram(report: Report): Command {
  return new Command('demo')
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
      report(await demoCommand({ ...opts, userAgent: USER_AGENT }, terminal(opts.color)));
    });
}

/** Help and commander's errors go through the same guarded writes; a rejected argument is escaped. */
function configureOutput(cmd: Command): void {
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

/** How a command that threw ended, saying so in one line where the user needs to know. */
function thrownOutcome(err: unknown): Outcome {
  const e = err as NodeJS.ErrnoException;
  if (err instanceof CommanderError) {
    const shown = err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help';
    return { ...CLEAN, usage: !shown };
  }
  if (err instanceof UsageError || err instanceof FatalError) {
    writeOrNote(process.stderr, 'stderr', `fetchall: ${escapeControls(err.message)}\n`);
    return { ...CLEAN, usage: err instanceof UsageError, fatal: err instanceof FatalError };
  }
  if (e?.code === 'EPIPE') return { ...CLEAN, stop: 'EPIPE' };
  // A write nobody caught (serve's first line to /dev/full): one line, not a stack.
  if (e?.syscall === 'write') {
    lostWrite ??= { target: 'output', error: e };
    return CLEAN;
  }
  writeOrNote(process.stderr, 'stderr', `fetchall: internal error: ${(err as Error)?.stack ?? String(err)}\n`);
  return { ...CLEAN, internal: true };
}

/** A failed write outside a session (help, a usage error, serve's first line): one line, unless stderr is the one failing. */
function lostWriteFailed(): boolean {
  if (!lostWrite || isHandled(lostWrite.error)) return false;
  const { target, error } = lostWrite;
  if (!target.startsWith('stderr')) writeOrNote(process.stderr, 'stderr', `${writeFailure(target, error)}\n`);
  return true;
}

/** Run the CLI; sets process.exitCode rather than exiting mid-run. */
export async function main(argv: string[]): Promise<void> {
  let outcome: Outcome = CLEAN;
  lostWrite = null;
  // A stream that fails says so by an event (a tick later, even for a file); unheard, that event
  // would crash the process. A run's session takes charge of its own; this catches the rest
  // (help or a usage error to /dev/full).
  const onError = (name: 'stdout' | 'stderr') => (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') lostWrite ??= { target: describeStream(name, process[name]), error: e };
  };
  process.stdout.on('error', onError('stdout'));
  process.stderr.on('error', onError('stderr'));
  try {
    await buildProgram((o) => {
      outcome = o;
    }).parseAsync(argv, { from: 'user' });
  } catch (err) {
    outcome = thrownOutcome(err);
  }
  // Events for the last writes arrive a tick later.
  await new Promise((resolve) => setImmediate(resolve));
  if (lostWriteFailed()) outcome = { ...outcome, writeFailed: true };
  process.exitCode = getExitCode(outcome);
  // Everything we start is stopped by now; this only guards against a stray handle (a stdin
  // nobody will close) keeping a finished command alive.
  setTimeout(() => process.exit(), 1500).unref();
}
