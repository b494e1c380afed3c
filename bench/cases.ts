// The four cases (P1 latency-bound, P2 throughput, P3 blocking pool, P4 memory) and the P2
// profile: each builds its lists, runs its tools in alternating rounds, prints its table and
// target, and returns its raw runs for bench/out/results.json.

import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { alternate, type Context, measure, progress, say, writeList } from './measure.js';
import { CLI, NODE, OUT_DIR, ROOT } from './paths.js';
import {
  CURL_Z,
  type Curl,
  curlConfig,
  curlZTool,
  FETCHALL,
  FLOOR,
  fetchallTool,
  floorTool,
  pathWithoutNc,
  pythonTool,
  type Tool,
  XARGS_CURL,
  xargsTool,
} from './peers.js';
import { cleanEnv, commandPath, runTimed } from './proc.js';
import { summariseProfile } from './profile.js';
import { maxOf, median, minOf, type P3Figures, type Run, ratio, summarise } from './stats.js';
import { type Cell, COMPARISON_HEADER, comparisonTable, mb, s3, stderrNotes, table, verdict, x2 } from './table.js';

export const CASES = ['P1', 'P2', 'P3', 'P4'] as const;
export type CaseName = (typeof CASES)[number];

interface ListCase {
  n: number;
  c: number;
  delay: number;
  note?: string;
}
export interface Params {
  P1: ListCase;
  P2: ListCase;
  P3: ListCase;
  /** ns: lists from files (fetchall and the floor); streamed: a list generated on the fly into fetchall's stdin. */
  P4: { ns: [number, number]; streamed: number; c: number; delay: number };
}

export function caseParams(quick: boolean): Params {
  return {
    P1: quick ? { n: 400, c: 40, delay: 100, note: 'quick: 400 URLs at C=40 keeps the ideal at 1.0 s' } : { n: 2000, c: 200, delay: 100 },
    P2: quick ? { n: 1000, c: 50, delay: 0 } : { n: 10_000, c: 50, delay: 0 },
    P3: { n: 40, c: 8, delay: 200, ...(quick ? { note: 'quick: same list (it is 1 s), one round' } : {}) },
    P4: quick
      ? { ns: [20_000, 4_000], streamed: 200_000, c: 50, delay: 0 }
      : { ns: [100_000, 20_000], streamed: 1_000_000, c: 50, delay: 0 },
  };
}

export interface Target {
  text: string;
  pass: boolean | null;
}

export interface CaseResult {
  params: object;
  runs: Run[];
  notes?: string[];
  target: Target;
  /** fetchall's median over curl -Z's and over the floor's (P1, P2), or its peak RSS over the floor's (P4). */
  ratios?: Record<string, number | null>;
  xargsEstimateMs?: number | null;
  growthMB?: number | null;
}

/** What the machine offers: curl -Z or not, python3 or not, GNU time or not. */
export interface Peers {
  curl: Curl;
  python: string | null;
  gnuTime: boolean;
}

const printNotes = (runs: Run[]) => {
  for (const l of stderrNotes(runs)) say(l);
};

/** The P1/P2 target, fetchall's median within `factor` × curl -Z's, and fetchall/floor beside it. */
/** The target is the floor of the runtime (bench/floor.mjs), run in the same rounds; curl -Z is shown beside it. */
function againstFloor(runs: Run[], curl: Curl, factor: number): Pick<CaseResult, 'target' | 'ratios'> {
  const fa = summarise(runs, FETCHALL).median;
  const cz = curl.ok ? summarise(runs, CURL_Z).median : null;
  const fl = summarise(runs, FLOOR).median;
  const pass = fa !== null && fl !== null ? fa <= factor * fl : null;
  const text = `fetchall ≤ ${factor} × floor: ${s3(fa)} s vs ${fl === null ? '—' : `${factor} × ${s3(fl)} = ${s3(factor * fl)}`} s`;
  const ratios = { curl: ratio(fa, cz), floor: ratio(fa, summarise(runs, FLOOR).median) };
  say(verdict(text, pass));
  say(`  fetchall/curl -Z ${x2(ratios.curl)} ×  |  fetchall/floor ${x2(ratios.floor)} ×`);
  say('');
  return { target: { text, pass }, ratios };
}

export async function caseP1(ctx: Context, p: ListCase, peers: Peers): Promise<CaseResult> {
  const ideal = Math.ceil(p.n / p.c) * p.delay;
  say(`P1 latency-bound: ${p.n} × /delay/${p.delay} at C=${p.c}  ideal ${s3(ideal)} s${p.note ? `  (${p.note})` : ''}`);
  const { file, urls } = writeList(ctx.tmp, 'p1', ctx.server.base, p.n, p.delay);
  const tools = [fetchallTool(file, p.c, 120_000)];
  const notes: string[] = [];
  if (peers.curl.ok) {
    const cfg = join(ctx.tmp, 'p1.curl');
    curlConfig(urls, cfg);
    tools.push(curlZTool(cfg, p.c, 120_000, peers.curl));
    if (p.c > 300) notes.push('curl --parallel-max is capped at 300');
  } else notes.push(`curl -Z skipped: ${peers.curl.why}`);
  tools.push(floorTool(file, p.c, 120_000));
  if (commandPath('curl')) tools.push(xargsTool(file, p.c, 300_000));
  else notes.push('xargs+curl skipped: curl absent');
  if (peers.python) tools.push(pythonTool(file, p.c, 180_000));
  else notes.push('python3 seed skipped: python3 absent');

  const runs = await alternate(ctx, tools, () => p.n);
  say(
    comparisonTable(
      runs,
      FETCHALL,
      tools.map((t) => t.name),
      ideal,
    ),
  );
  for (const n of notes) say(`  note: ${n}`);
  printNotes(runs);
  return { params: { ...p, idealMs: ideal }, runs, notes, ...againstFloor(runs, peers.curl, 1.05) };
}

export async function caseP2(ctx: Context, p: ListCase, peers: Peers): Promise<CaseResult> {
  say(`P2 throughput: ${p.n} × /delay/${p.delay} at C=${p.c}`);
  const { file, urls } = writeList(ctx.tmp, 'p2', ctx.server.base, p.n, p.delay);
  const tools = [fetchallTool(file, p.c, 180_000)];
  const notes: string[] = [];
  if (peers.curl.ok) {
    const cfg = join(ctx.tmp, 'p2.curl');
    curlConfig(urls, cfg);
    tools.push(curlZTool(cfg, p.c, 180_000, peers.curl));
  } else notes.push(`curl -Z skipped: ${peers.curl.why}`);
  tools.push(floorTool(file, p.c, 180_000));
  let estimate: number | null = null;
  if (commandPath('curl')) {
    // One process per URL: calibrate on 200 URLs, extrapolate, and skip if it would exceed 60 s.
    const cal = writeList(ctx.tmp, 'p2-cal', ctx.server.base, 200, p.delay);
    const r = await runTimed('xargs', ['-P', String(p.c), ...XARGS_CURL], { stdinFile: cal.file, timeoutMs: 60_000 });
    estimate = r.wallMs === null ? null : (r.wallMs * p.n) / 200;
    if (estimate !== null && estimate <= 60_000) tools.push(xargsTool(file, p.c, 120_000));
    else notes.push(`xargs+curl skipped: ~${s3(estimate)} s per run estimated (200 URLs took ${s3(r.wallMs)} s), over the 60 s limit`);
  } else notes.push('xargs+curl skipped: curl absent');

  const runs = await alternate(ctx, tools, () => p.n);
  say(
    comparisonTable(
      runs,
      FETCHALL,
      tools.map((t) => t.name),
      null,
    ),
  );
  const rate = (name: string) => {
    const m = summarise(runs, name).median;
    return m ? `${name}: ${Math.round(p.n / (m / 1000))} req/s` : null;
  };
  say(
    `  rate (whole process): ${tools
      .map((t) => rate(t.name))
      .filter(Boolean)
      .join('  |  ')}`,
  );
  for (const n of notes) say(`  note: ${n}`);
  printNotes(runs);
  return { params: p, xargsEstimateMs: estimate, runs, notes, ...againstFloor(runs, peers.curl, 1.05) };
}

/** The figures P3 reads from `fetchall compare --json`: the fetch apart from the pool's start-up. */
function p3Figures(jsonFile: string, c: number, run: Run): P3Figures | null {
  try {
    const j = JSON.parse(readFileSync(jsonFile, 'utf8'));
    const m = j.modes?.[0];
    const x = m?.runs?.[0];
    if (x?.failed) run.problems.push(`${x.failed} failed`);
    if (j.options?.concurrency !== c) run.problems.push(`compare ran with concurrency ${j.options?.concurrency}, not -c ${c}`);
    // compare --json's fields are snake_case (README, "compare --json").
    return {
      mode: m?.mode,
      wallMs: x?.wall_ms ?? null,
      startupMs: x?.startup_ms ?? null,
      ok: x?.ok,
      failed: x?.failed,
      peakInFlight: x?.peak_in_flight,
      threads: x?.threads,
      helpers: x?.helpers,
      optionsConcurrency: j.options?.concurrency,
      optionsFormat: j.options?.format,
      optionsQuiet: j.options?.quiet,
      selfPeakBytes: x?.rss_bytes,
      helpersPeakBytes: x?.helpers_rss_bytes,
      cpuTotalMs: x?.cpu_ms,
    };
  } catch (err) {
    run.problems.push(`no JSON: ${err instanceof Error ? err.message : String(err)}`);
    return null;
  }
}

export async function caseP3(ctx: Context, p: ListCase, peers: Peers): Promise<CaseResult> {
  const ideal = Math.ceil(p.n / p.c) * p.delay;
  const { path, removed } = pathWithoutNc();
  say(
    `P3 blocking pool: ${p.n} × /delay/${p.delay}, fetchall compare --modes threads -c ${p.c}  ideal ${s3(ideal)} s${p.note ? `  (${p.note})` : ''}`,
  );
  say(
    `  PATH for fetchall: ${removed.length ? `removed ${removed.join(', ')} (they hold nc/ncat/netcat)` : 'unchanged: no PATH directory holds nc/ncat/netcat'}`,
  );
  const { file } = writeList(ctx.tmp, 'p3', ctx.server.base, p.n, p.delay);
  const jsonFile = join(ctx.tmp, 'p3-compare.json');
  const FA = 'fetchall threads';
  const fa: Tool = {
    name: FA,
    cmd: NODE,
    args: [CLI, 'compare', '--modes', 'threads', '-c', String(p.c), '--json', jsonFile, '-q', '-f', 'ndjson', file],
    opts: { timeoutMs: 120_000, env: cleanEnv({ PATH: path }) },
  };
  // sync-request as shipped: one helper process per thread (what the shared helper saves).
  const STOCK = 'fetchall threads --helper-per-thread';
  const stock: Tool = { ...fa, name: STOCK, args: [...fa.args.slice(0, -1), '--helper-per-thread', file] };
  const tools = [fa, stock];
  const notes: string[] = [];
  if (peers.python) tools.push(pythonTool(file, p.c, 120_000));
  else notes.push('python3 seed skipped: python3 absent');

  const runs = await alternate(
    ctx,
    tools,
    () => p.n,
    (run, tool) => {
      if (tool !== fa && tool !== stock) return;
      run.json = p3Figures(jsonFile, p.c, run);
      progress(
        `        fetch wall ${s3(run.json?.wallMs)} s, start-up ${s3(run.json?.startupMs)} s, peak in flight ${run.json?.peakInFlight ?? '?'}, threads ${run.json?.threads ?? '?'}`,
      );
    },
    () => rmSync(jsonFile, { force: true }),
  );
  const faRuns = runs.filter((r) => r.tool === FA);
  const fetchWall = faRuns.map((r) => r.json?.wallMs ?? null);
  const startup = faRuns.map((r) => r.json?.startupMs ?? null);
  const proc = median(faRuns.map((r) => r.wallMs));
  const faProblems = [...new Set(faRuns.flatMap((r) => r.problems))];
  const fwMed = median(fetchWall);
  const rows: Cell[][] = [
    [
      `${FA}: fetch wall (JSON)`,
      s3(fwMed),
      s3(minOf(fetchWall)),
      '—',
      median(faRuns.map((r) => r.json?.peakInFlight ?? null)) ?? '—',
      faRuns.length,
      `${fwMed ? (fwMed / ideal).toFixed(2) : '—'}× ideal`,
    ],
    [
      `${FA}: start-up (JSON)`,
      s3(median(startup)),
      s3(minOf(startup)),
      '—',
      '',
      faRuns.length,
      `threads ${median(faRuns.map((r) => r.json?.threads ?? null)) ?? '?'}, helpers ${median(faRuns.map((r) => r.json?.helpers ?? null)) ?? '?'}`,
    ],
    [
      `${FA}: whole process`,
      s3(proc),
      s3(minOf(faRuns.map((r) => r.wallMs))),
      '—',
      median(faRuns.map((r) => r.serverPeakInFlight)) ?? '—',
      faRuns.length,
      faProblems.length ? `!! ${faProblems.join('; ')}` : '',
    ],
  ];
  const stockRuns = runs.filter((r) => r.tool === STOCK);
  const startupStock = median(stockRuns.map((r) => r.json?.startupMs ?? null));
  rows.push([
    `${STOCK}: fetch wall / start-up (JSON)`,
    s3(median(stockRuns.map((r) => r.json?.wallMs ?? null))),
    s3(minOf(stockRuns.map((r) => r.json?.wallMs ?? null))),
    '—',
    median(stockRuns.map((r) => r.json?.peakInFlight ?? null)) ?? '—',
    stockRuns.length,
    `start-up ${s3(startupStock)} s, helpers ${median(stockRuns.map((r) => r.json?.helpers ?? null)) ?? '?'}`,
  ]);
  for (const t of tools.slice(2)) {
    const s = summarise(runs, t.name);
    const both = ratio(fwMed, s.median) !== null ? `${x2(ratio(fwMed, s.median))} / ${x2(ratio(proc, s.median))}` : '—';
    rows.push([
      `${t.name}: whole process`,
      s3(s.median),
      s3(s.min),
      both,
      s.peak ?? '—',
      s.n,
      `${x2(ratio(s.median, ideal))}× ideal${s.problems.length ? `  !! ${s.problems.join('; ')}` : ''}`,
    ]);
  }
  say(table(COMPARISON_HEADER, rows));
  say('  fetchall/peer for python = fetch wall ÷ python process / fetchall process ÷ python process');
  const mem = median(faRuns.map((r) => r.json?.selfPeakBytes ?? null));
  const hmem = median(faRuns.map((r) => r.json?.helpersPeakBytes ?? null));
  const memOf = (bytes: number | null) => (bytes === null ? '—' : (bytes / 2 ** 20).toFixed(0));
  if (mem !== null) say(`  fetchall threads memory (JSON): self peak ${memOf(mem)} MB, helpers peak ${memOf(hmem)} MB`);
  const smem = median(stockRuns.map((r) => r.json?.selfPeakBytes ?? null));
  const shmem = median(stockRuns.map((r) => r.json?.helpersPeakBytes ?? null));
  if (smem !== null) say(`  with --helper-per-thread: self peak ${memOf(smem)} MB, helpers peak ${memOf(shmem)} MB`);
  for (const n of notes) say(`  note: ${n}`);
  printNotes(runs);
  const effC = median(faRuns.map((r) => r.json?.optionsConcurrency ?? null));
  if (effC !== null && effC !== p.c) {
    const effIdeal = Math.ceil(p.n / effC) * p.delay;
    say(
      `  !! fetchall ran with concurrency ${effC}, not -c ${p.c}: at ${effC} the ideal is ${s3(effIdeal)} s, fetch wall = ${x2(ratio(fwMed, effIdeal))}× that`,
    );
  }
  const up = median(startup);
  const pass = fwMed === null || up === null ? null : fwMed <= 1.1 * ideal && up <= 700 && (hmem ?? 0) <= 120 * 2 ** 20;
  const text = `fetch wall ≤ 1.10 × ideal, start-up ≤ 0.7 s, helpers ≤ 120 MB: ${s3(fwMed)} s vs ${s3(1.1 * ideal)} s, start-up ${s3(up)} s, helpers ${memOf(hmem)} MB`;
  say(verdict(text, pass));
  say('');
  return { params: { ...p, idealMs: ideal, pathRemoved: removed }, runs, notes, target: { text, pass } };
}

export async function caseP4(ctx: Context, p: Params['P4'], peers: Peers): Promise<CaseResult> {
  say(`P4 memory: async mode at -c ${p.c}, /delay/${p.delay}, records to /dev/null; peak RSS of the fetchall process (and of the floor's)`);
  const rssFiles = new Map<string, string>();
  const urlsOf = new Map<string, number>();
  const fetchallNames = new Set<string>();
  /** The tool under /usr/bin/time when there is one (its %M), its RSS polled either way. */
  const timed = (tool: Tool, name: string, n: number): Tool => {
    urlsOf.set(name, n);
    const opts = { ...tool.opts, pollRss: true };
    if (!peers.gnuTime) return { ...tool, name, opts };
    const rssFile = join(ctx.tmp, `${name.replace(/\W+/g, '-')}.rss`);
    rssFiles.set(name, rssFile);
    return { name, cmd: '/usr/bin/time', args: ['-f', '%M', '-o', rssFile, tool.cmd, ...tool.args], opts: { ...opts, rssOfChild: true } };
  };
  const tools: Tool[] = [];
  for (const n of p.ns) {
    const { file } = writeList(ctx.tmp, `p4-${n}`, ctx.server.base, n, p.delay);
    const size = `${n.toLocaleString('en-US')} URLs`;
    fetchallNames.add(`fetchall ${size}`);
    tools.push(timed(fetchallTool(file, p.c, 600_000), `fetchall ${size}`, n), timed(floorTool(file, p.c, 600_000), `floor ${size}`, n));
  }
  // The long list is never a file: generated as it is read (the floor reads a file and keeps its
  // results, so it has no streamed run).
  const streamedName = `fetchall ${p.streamed.toLocaleString('en-US')} URLs, streamed`;
  fetchallNames.add(streamedName);
  const piped = fetchallTool('-', p.c, 1_800_000);
  const feed = { cmd: NODE, args: [join(ROOT, 'bench', 'gen-list.mjs'), ctx.server.base, String(p.streamed), String(p.delay)] };
  tools.push(timed({ ...piped, opts: { ...piped.opts, stdinCommand: feed } }, streamedName, p.streamed));
  const runs = await alternate(
    ctx,
    tools,
    (t) => urlsOf.get(t.name)!,
    (run, tool) => {
      const rssFile = rssFiles.get(tool.name);
      let timeKB: number | null = null;
      if (rssFile && existsSync(rssFile)) {
        // GNU time writes "Command exited with non-zero status N" first when it did.
        const last = readFileSync(rssFile, 'utf8').trim().split('\n').at(-1) ?? '';
        if (/^\d+$/.test(last)) timeKB = Number(last);
      }
      run.timeMaxRssKB = timeKB;
      run.peakRssKB = timeKB ?? run.hwmKB;
      run.urls = urlsOf.get(tool.name)!;
      progress(`        peak RSS ${mb(run.peakRssKB)} MB (time %M ${timeKB ?? '—'} kB, VmHWM poll ${run.hwmKB ?? '—'} kB)`);
    },
    (tool) => {
      const rssFile = rssFiles.get(tool.name);
      if (rssFile) rmSync(rssFile, { force: true });
    },
  );
  const rows = tools.map((t) => {
    const mine = runs.filter((r) => r.tool === t.name);
    const rss = mine.map((r) => r.peakRssKB);
    const wall = median(mine.map((r) => r.wallMs));
    const probs = [...new Set(mine.flatMap((r) => r.problems))];
    return [
      t.name,
      mb(median(rss)),
      mb(maxOf(rss)),
      mb(maxOf(mine.map((r) => r.hwmKB))),
      s3(wall),
      wall ? Math.round(urlsOf.get(t.name)! / (wall / 1000)) : '—',
      mine.length,
      probs.length ? `!! ${probs.join('; ')}` : '',
    ];
  });
  say(table(['run', 'peak RSS MB (median)', 'max MB', 'VmHWM poll max MB', 'wall s', 'req/s', 'runs', 'notes'], rows));
  printNotes(runs);
  const rssOf = (fetchall: boolean, n: number) =>
    runs.filter((r) => fetchallNames.has(r.tool) === fetchall && r.urls === n).map((r) => r.peakRssKB);
  const [bigN, smallN] = p.ns;
  const big = rssOf(true, bigN);
  const streamed = rssOf(true, p.streamed);
  const worst = maxOf(big);
  const worstStreamed = maxOf(streamed);
  // Flat: the long list peaks within 10 MB of the 100,000 one (its live set does not grow with N).
  const flat = worstStreamed === null || median(big) === null ? null : worstStreamed - median(big)! <= 10 * 1024;
  const pass = worst === null ? null : worst / 1024 <= 100 && flat !== false;
  const bigMed = median(big);
  const smallMed = median(rssOf(true, smallN));
  const growth = bigMed && smallMed ? ((bigMed - smallMed) / 1024).toFixed(1) : null;
  const floorMed = median(rssOf(false, bigN));
  const floorRss = ratio(bigMed, floorMed);
  say(`  growth from ${smallN.toLocaleString('en-US')} to ${bigN.toLocaleString('en-US')} URLs: ${growth ?? '—'} MB (median peak RSS)`);
  say(`  fetchall/floor peak RSS at ${bigN.toLocaleString('en-US')} URLs: ${mb(bigMed)} MB / ${mb(floorMed)} MB = ${x2(floorRss)} ×`);
  say(
    `  streamed ${p.streamed.toLocaleString('en-US')} URLs: worst peak ${mb(worstStreamed)} MB vs median ${mb(median(big))} MB at ${bigN.toLocaleString('en-US')}${flat === false ? ' — NOT flat' : ''}`,
  );
  const text = `peak RSS ≤ 100 MB at ${bigN.toLocaleString('en-US')} URLs and flat at ${p.streamed.toLocaleString('en-US')}: worst ${mb(worst)} MB, ${mb(worstStreamed)} MB`;
  say(verdict(text, pass));
  say('');
  return { params: p, runs, growthMB: growth === null ? null : Number(growth), ratios: { floorRss }, target: { text, pass } };
}

/** One CPU-profiled fetchall run of the P2 list, then the profile's top self time. */
export async function profileP2(ctx: Context, p: ListCase): Promise<void> {
  const { file } = writeList(ctx.tmp, 'p2', ctx.server.base, p.n, p.delay);
  const before = new Set(readdirSync(OUT_DIR).filter((f) => f.endsWith('.cpuprofile')));
  say(`profile: node --cpu-prof --cpu-prof-dir=bench/out bin/fetchall.js -q -f ndjson -c ${p.c} <${p.n} × /delay/${p.delay}> > /dev/null`);
  const plain = fetchallTool(file, p.c, 300_000);
  const tool: Tool = { ...plain, name: 'fetchall (cpu-prof)', args: ['--cpu-prof', `--cpu-prof-dir=${OUT_DIR}`, ...plain.args] };
  const run = await measure(ctx.server, tool, 1, p.n);
  say(`  wall ${s3(run.wallMs)} s (profiling on), exit ${run.exitCode}`);
  const made = readdirSync(OUT_DIR).filter((f) => f.endsWith('.cpuprofile') && !before.has(f));
  for (const f of made) {
    say(`\n${join('bench/out', f)}`);
    say(summariseProfile(join(OUT_DIR, f), 12));
  }
}
