// The command line: flags → typed options → a command; errors → exit status. Knows no HTTP.

import { existsSync } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { Chalk } from 'chalk';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { fetchCommand } from './commands/fetch.js';
import { checkWritable } from './commands/files.js';
import type { Terminal } from './commands/session.js';
import { FatalError, UsageError } from './core/errors.js';
import { MODES } from './core/types.js';
import { VERSION } from './core/version.js';
import { calibrate } from './engines/work.js';
import { CLEAN, getExitCode, type Outcome } from './exit.js';
import { resolveSources, suggestCommand } from './input.js';
import {
  bareMsWarning,
  checkBodyMethod,
  checkPoolSize,
  type DataPiece,
  DEFAULTS,
  FORMATS,
  type Format,
  parseBaseUrl,
  parseCacert,
  parseData,
  parseDuration,
  parseFailOn,
  parseHeader,
  parseHeaderFile,
  parseIntFlag,
  parseMethod,
  parseMode,
  parseModes,
  parseRate,
  parseShard,
  parseSize,
  parseTimeout,
  parseWork,
  proxySettings,
  type RunOptions,
  requestBody,
  SERVE_PORT,
  SORT_ORDERS,
  type SortOrder,
} from './options.js';
import { escapeControls } from './render/escape.js';
import { type Paint, plain } from './render/paint.js';
import { describeStream, isHandled, reason, writeFailure } from './render/write.js';
import { sameFile } from './resume.js';
import { SHARD_BY, type Shard, type ShardBy } from './shard.js';
import { startRun } from './tempfiles.js';

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

/** -t: units accepted; a bare number under 100 is ms, said on stderr once, since curl's -m counts seconds. */
function timeoutArg(value: string): number {
  const ms = arg('--timeout', parseTimeout)(value);
  const warning = bareMsWarning('-t/--timeout', value);
  if (warning !== null) writeOrNote(process.stderr, 'stderr', `${warning}\n`);
  return ms;
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
  /** --no-header: false when given (its own name: `header` is -H's). */
  headerRow?: boolean;
  sort: SortOrder;
  quiet?: boolean;
  timeline: boolean;
  color: boolean;
  report?: string;
  shard?: Omit<Shard, 'by'>;
  shardBy: ShardBy;
  resume?: string;
  rate?: number;
  perHostRate?: number;
  failOn: RunOptions['failOn'];
  data?: DataPiece[];
  dataBinary?: DataPiece[];
  proxy?: string | false;
  insecure?: boolean;
  cacert?: string;
  work?: number;
}

/** An option stored under a name of our choosing: --no-header would otherwise share -H's `header`. */
class NamedOption extends Option {
  constructor(
    flags: string,
    description: string,
    private readonly attribute: string,
  ) {
    super(flags, description);
  }

  override attributeName(): string {
    return this.attribute;
  }
}

/** The options `fetchall` and `fetchall compare` share. */
function addRunOptions(cmd: Command): Command {
  return addOutputOptions(addNetworkOptions(addSplitOptions(addRequestOptions(addSchedulingOptions(cmd)))));
}

/** Runs bigger than one process, and polite ones: shards, resuming, rate limits. */
function addSplitOptions(cmd: Command): Command {
  return cmd
    .option(
      '--shard <k/n>',
      'fetch only shard K of N (1-based); auto/N reads FETCHALL_SHARD_INDEX or JOB_COMPLETION_INDEX (0-based)',
      arg('--shard', parseShard),
    )
    .addOption(new Option('--shard-by <key>', 'split by a hash of the origin, or by input index mod N').choices(SHARD_BY).default('origin'))
    .option('--resume <file.ndjson>', 'skip URLs that already have an ok record in FILE (append with >> FILE)')
    .option('--rate <n[/s|/m]>', 'start at most n requests per second (or minute), retries included', arg('--rate', parseRate))
    .option('--per-host-rate <n[/s|/m]>', 'the same, per origin', arg('--per-host-rate', parseRate));
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
      new Option(
        '-m, --mode <mode>',
        'async: undici; threads: sync-request in a pool of worker threads; processes: in a pool of child processes; inline: on the event loop',
      )
        .choices(MODES)
        .default('async')
        .argParser(arg('--mode', parseMode)),
    )
    .option(
      '-c, --concurrency <n>',
      'requests in flight (async) / pool size (threads, processes)',
      arg('--concurrency', (f, v) => parseIntFlag(f, v, 1, 10_000)),
      DEFAULTS.concurrency,
    )
    .option(
      '--per-host <n>',
      'at most n requests in flight per origin',
      arg('--per-host', (f, v) => parseIntFlag(f, v, 1)),
    )
    .addOption(
      new Option('-t, --timeout <dur>', 'deadline for the whole request, body included (500ms, 5s, 2m; a bare number is ms)')
        .argParser(timeoutArg)
        .default(DEFAULTS.timeoutMs, '30s'),
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
      '--work <ms>',
      'a CPU-bound step of about ms per successful page (hashing its body), run where the mode runs its request',
      arg('--work', parseWork),
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
    .addOption(new NamedOption('--no-header', 'csv/tsv: no header row', 'headerRow'))
    .addOption(
      new Option('--sort <order>', 'records as they finish, or in input order (index: a bounded window); text lines stay live')
        .choices(SORT_ORDERS)
        .default('completion'),
    )
    .option('-q, --quiet', 'text: summary only; machine formats: no summary on stderr; failures still one line each on stderr')
    .option('--no-timeline', 'text: skip the timeline chart')
    .option('--no-color', 'no colour (NO_COLOR and FORCE_COLOR are honoured too)')
    .option('--report <file.html>', 'also write a self-contained HTML report (waterfall, in-flight chart, summary) to FILE')
    .addOption(
      new Option(
        '--fail-on <class>',
        'failures that make the exit status 1: error (network, timeout, size, bad input), 4xx, 5xx, a comma list, or none',
      )
        .argParser(arg('--fail-on', parseFailOn))
        .default(DEFAULTS.failOn, 'error,4xx,5xx'),
    );
}

/** A report file's path once its directory is known writable, so a bad one fails before any request (exit 2). */
function reportTarget(flag: string, path: string | false | undefined): string | null {
  if (path === undefined || path === false) return null;
  const why = checkWritable(path);
  if (why) throw new UsageError({ flag, reason: `cannot write the report to '${path}': ${reason(why)}` });
  return path;
}

/** demo writes its report unasked: where the current directory takes no file, say so and how to do without. */
const DEMO_REPORT = 'fetchall-demo.html';
function demoReportTarget(path: string | false | undefined): string | null {
  const why = path === DEMO_REPORT ? checkWritable(path) : null;
  if (!why) return reportTarget('--report', path);
  throw new UsageError({
    flag: null,
    reason: `demo writes its HTML report to ${DEMO_REPORT} in the current directory by default, and cannot here: ${reason(why)}; --no-report runs it without one, --report FILE writes it elsewhere`,
  });
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
    get errColumns() {
      return process.stderr.isTTY ? process.stderr.columns || 80 : 80;
    },
    paint: paintFor(colorLevel(color, Boolean(process.stdout.isTTY), env)),
    errPaint: paintFor(colorLevel(color, Boolean(process.stderr.isTTY), env)),
    ci: Boolean(env.CI) && env.CI !== 'false',
  };
}

/** The run options from commander's parsed values, creating --output-dir on the way. */
export async function toRunOptions(raw: RawOptions): Promise<RunOptions> {
  if (raw.outputDir !== undefined) await makeOutputDir(raw.outputDir);
  // Records appended into the --resume file are read back by the next --resume: only ndjson is.
  if (raw.resume !== undefined && raw.format !== 'ndjson' && sameFile(raw.resume, 1) !== 'no') {
    throw new UsageError({
      flag: '--resume',
      reason: `'${raw.resume}' is also stdout, so its records must be -f ndjson, not -f ${raw.format}`,
    });
  }
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
    header: raw.headerRow !== false,
    sort: raw.sort ?? 'completion',
    quiet: Boolean(raw.quiet),
    timeline: raw.timeline,
    color: raw.color,
    shard: raw.shard ? { ...raw.shard, by: raw.shardBy } : null,
    resume: raw.resume ?? null,
    rate: raw.rate ?? null,
    perHostRate: raw.perHostRate ?? null,
    failOn: raw.failOn,
    body,
    proxy: proxySettings(raw.proxy, process.env),
    insecure: Boolean(raw.insecure),
    cacert: raw.cacert ?? null,
    work: raw.work === undefined ? null : calibrate(raw.work),
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
Exit status: 0 all ok, 1 one or more failed (of the --fail-on classes), 2 usage error,
130 SIGINT, 143 SIGTERM, 141 output closed, 74 output could not be written (full disk, /dev/full,
the --json or --report file).

Progress: a live line on stderr when it is a terminal (never in a pipe or CI): when stdout is
redirected, with -q in text, or under text lines once the list is longer than the screen.
-q still prints each failed URL on stderr, one line each.

Examples:
  fetchall urls.txt
  fetchall -t 5s --fail-on error,5xx urls.txt   # a 404 is data, not a failure
  fetchall -m threads -c 8 urls.txt
  cat urls.txt | fetchall -f ndjson -q > results.ndjson
  fetchall compare --modes inline,threads,async --report compare.html urls.txt
  fetchall report results.ndjson --html results.html
  fetchall demo                      (writes fetchall-demo.html: open it in a browser)
  fetchall help compare              (a command's own options)`;

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
    commandWords(program, args);
    checkPoolSize([raw.mode], raw.concurrency);
    const html = reportTarget('--report', raw.report);
    const o = await toRunOptions(raw);
    checkBodyMethod([o.mode], o.method, o.body);
    const sources = resolveSources(args, Boolean(process.stdin.isTTY));
    report(await fetchCommand(sources, o, terminal(o.color), html));
  });
  program.addCommand(compareProgram(report));
  program.addCommand(serveProgram());
  program.addCommand(demoProgram(report));
  program.addCommand(reportProgram(report));
  for (const cmd of [program, ...program.commands]) configureOutput(cmd);
  return program;
}

interface RawCompare extends RawOptions {
  modes: RunOptions['mode'][];
  runs: number;
  warmup: number;
  json?: string;
  exportMarkdown?: string;
  exportCsv?: string;
}

const COMPARE_HELP_AFTER = `
Each mode runs with the same options; the verdicts judge the fetch alone (first start to last
finish) and end to end (start-up + fetch + shut-down, what a user waits for).

Example:
  fetchall compare --modes threads,async -c 8 --runs 5 --warmup 1 urls.txt
  fetchall compare -q --json - urls.txt | jq '.verdict[].text'
  fetchall compare --runs 3 --export-markdown cmp.md --export-csv cmp.csv urls.txt`;

/**
 * The first argument is a source, unless it is a bare word that names no file: then `help
 * [command]` shows help, and a word a command or two away is a typo ('comapre'), said as a usage
 * error rather than "cannot read". A file of that name is always read.
 */
function commandWords(program: Command, args: string[]): void {
  const [first, second] = args;
  if (first === undefined || existsSync(first)) return;
  const names = program.commands.map((c) => c.name());
  if (first === 'help') {
    if (second === undefined) program.help();
    const cmd = program.commands.find((c) => c.name() === second);
    if (cmd) cmd.help();
    const meant = suggestCommand(second, names);
    throw new UsageError({
      flag: null,
      reason: meant
        ? `'${second}' is not a command: did you mean 'fetchall help ${meant}'?`
        : `'${second}' is not a command (commands: ${names.join(', ')})`,
    });
  }
  const meant = suggestCommand(first, [...names, 'help']);
  if (meant)
    throw new UsageError({ flag: null, reason: `'${first}' is not a command, a file or a URL: did you mean 'fetchall ${meant}'?` });
}

function compareProgram(report: Report): Command {
  const compare = new Command('compare')
    .description('fetch the same list in several modes and compare them side by side')
    .argument('[source...]', 'files of URLs, - for stdin, or URLs')
    .addOption(
      new Option('--modes <list>', `comma-separated modes (${MODES.join(', ')})`)
        .argParser(arg('--modes', parseModes))
        .default(parseModes('--modes', 'threads,async'), 'threads,async'),
    )
    .option(
      '--runs <n>',
      'counted runs of each mode (with more than one, mean ± σ)',
      arg('--runs', (f, v) => parseIntFlag(f, v, 1, 100)),
      1,
    )
    .option(
      '--warmup <n>',
      'uncounted runs of each mode first',
      arg('--warmup', (f, v) => parseIntFlag(f, v, 0, 100)),
      0,
    )
    .option('--json <file>', 'export every figure of every run as JSON; - for stdout')
    .option('--export-markdown <file>', "the timing table as hyperfine's Markdown; - for stdout")
    .option('--export-csv <file>', "the timings as hyperfine's CSV (seconds); - for stdout")
    .addHelpText('after', COMPARE_HELP_AFTER);
  addRunOptions(compare);
  // compare runs every mode of --modes: fetch's -m would be ignored, so it is not offered.
  const options = compare.options as Option[];
  options.splice(
    options.findIndex((x) => x.long === '--mode'),
    1,
  );
  const quiet = options.find((x) => x.long === '--quiet');
  if (quiet) quiet.description = 'text: the table and verdicts only; machine formats: records only';
  return compare.action(async (args: string[], raw: RawCompare) => {
    checkPoolSize(raw.modes, raw.concurrency);
    if (raw.resume !== undefined)
      throw new UsageError({ flag: '--resume', reason: 'not for compare, which runs the whole list in every mode' });
    const { compareCommand } = await import('./commands/compare.js');
    const o = await toRunOptions(raw);
    checkBodyMethod(raw.modes, o.method, o.body);
    const sources = resolveSources(args, Boolean(process.stdin.isTTY));
    const c = {
      modes: raw.modes,
      runs: raw.runs,
      warmup: raw.warmup,
      json: raw.json ?? null,
      exportMarkdown: raw.exportMarkdown ?? null,
      exportCsv: raw.exportCsv ?? null,
      report: reportTarget('--report', raw.report),
    };
    report(await compareCommand(sources, o, c, terminal(o.color)));
  });
}

function serveProgram(): Command {
  return new Command('serve')
    .description('run the built-in test server (loopback, deterministic latency); prints its base URL first')
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option(
      '--port <n>',
      'port (0 = any free port)',
      arg('--port', (f, v) => parseIntFlag(f, v, 0, 65535)),
      SERVE_PORT,
    )
    .action(async (opts: { host: string; port: number }) => {
      const { serveCommand } = await import('./server/serve.js');
      await serveCommand(opts);
    });
}

interface DemoRaw {
  modes: RunOptions['mode'][];
  concurrency: number;
  runs: number;
  color: boolean;
  report: string | false;
  printList?: string | true;
  work: boolean;
}

function demoProgram(report: Report): Command {
  return new Command('demo')
    .description('start the built-in server on a free port and compare the modes on a seed-like list (offline); writes fetchall-demo.html')
    .option('--modes <list>', 'comma-separated modes', arg('--modes', parseModes), parseModes('--modes', 'inline,threads,processes,async'))
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
    .option('--report <file.html>', 'write the HTML report to FILE', DEMO_REPORT)
    .option('--no-report', 'write no HTML report')
    .option('--no-work', 'skip the second act (CPU-bound work per page: where threads and processes win)')
    .option(
      '--print-list [base]',
      `print the demo's list of URLs on a server at BASE (default http://127.0.0.1:${SERVE_PORT}, where fetchall serve listens) and exit`,
      arg('--print-list', parseBaseUrl),
    )
    .option('--no-color', 'no colour')
    .action(async (opts: DemoRaw) => {
      const { demoCommand, printDemoList } = await import('./commands/demo.js');
      if (opts.printList !== undefined) {
        report(await printDemoList(opts.printList === true ? null : opts.printList, terminal(opts.color)));
        return;
      }
      checkPoolSize(opts.modes, opts.concurrency);
      const html = demoReportTarget(opts.report);
      report(await demoCommand({ ...opts, report: html, userAgent: USER_AGENT }, terminal(opts.color)));
    });
}

function reportProgram(report: Report): Command {
  return new Command('report')
    .description('read records saved with -f ndjson (files, shards, stdin; merged), print the summary and timeline, write the HTML report')
    .argument('[records...]', 'files of ndjson records, - for stdin (read when no file is given and stdin is piped)')
    .option('--html <file.html>', 'write the HTML report to FILE')
    .option('--no-timeline', 'skip the timeline chart')
    .option('--no-color', 'no colour')
    .action(async (files: string[], opts: { html?: string; timeline: boolean; color: boolean }) => {
      const html = reportTarget('--html', opts.html);
      const { reportCommand } = await import('./commands/report.js');
      const term = { ...terminal(opts.color), stdinIsTTY: Boolean(process.stdin.isTTY) };
      report(await reportCommand(files, { html, timeline: opts.timeline }, term));
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
/** stdout's reader went away (`fetchall --help | head -1`): exit 141 quietly, as a run does. */
let readerGone = false;

/** Note a failed write: a reader gone is no failure to report. */
function noteLost(name: string, stream: NodeJS.WriteStream, error: NodeJS.ErrnoException): void {
  if (error?.code === 'EPIPE') readerGone ||= name === 'stdout';
  else lostWrite ??= { target: describeStream(name, stream), error };
}

/** A write to a file or device throws (ENOSPC on /dev/full): note it for exit 74, never crash. */
function writeOrNote(stream: NodeJS.WriteStream, name: string, text: string): void {
  try {
    stream.write(text);
  } catch (e) {
    noteLost(name, stream, e as NodeJS.ErrnoException);
  }
  if (stream.errored) noteLost(name, stream, stream.errored as NodeJS.ErrnoException);
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
  startRun();
  lostWrite = null;
  readerGone = false;
  // A stream that fails says so by an event (a tick later, even for a file); unheard, that event
  // would crash the process. A run's session takes charge of its own; this catches the rest
  // (help or a usage error to /dev/full).
  const onError = (name: 'stdout' | 'stderr') => (e: NodeJS.ErrnoException) => {
    noteLost(name, process[name], e);
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
  if (readerGone && !outcome.stop) outcome = { ...outcome, stop: 'EPIPE' };
  process.exitCode = getExitCode(outcome);
  // Everything we start is stopped by now; this only guards against a stray handle (a stdin
  // nobody will close) keeping a finished command alive.
  setTimeout(() => process.exit(), 1500).unref();
}
