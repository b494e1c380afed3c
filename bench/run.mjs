#!/usr/bin/env node
// fetchall side by side with its peers, on this machine, against the built-in server on loopback.
//
//   npm run bench                       build, then every case, 3 alternating rounds
//   node bench/run.mjs --quick          smaller lists, 1 round: a smoke test
//   node bench/run.mjs --rounds 5 --case P1,P3
//   node bench/run.mjs --profile        CPU-profile one P2 run of fetchall, print top self time
//   node bench/run.mjs --strict         exit 1 when a target fails
//
// Only 127.0.0.1 is ever contacted: the server is started here on loopback, every URL list is
// built from its address, proxies are stripped from every child's environment, curl gets
// -q (no ~/.curlrc) and --noproxy '*', and python's urllib gets an opener without proxies.
// Every child runs in its own process group and is killed (the whole group) on exit, on error,
// on SIGINT/SIGTERM/SIGHUP, and when a run exceeds its time limit.

import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { summariseProfile } from './profile-summary.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(ROOT, 'bin', 'fetchall.js');
const OUT_DIR = join(ROOT, 'bench', 'out');
const NODE = process.execPath;

// ───────────────────────────── arguments ─────────────────────────────

function parseArgs(argv) {
  const a = { quick: false, rounds: null, cases: null, profile: false, strict: false, help: false };
  for (let i = 0; i < argv.length; i++) {
    const x = argv[i];
    const val = () => {
      const v = x.includes('=') ? x.slice(x.indexOf('=') + 1) : argv[++i];
      if (v === undefined) die(`${x}: missing value`);
      return v;
    };
    if (x === '--quick') a.quick = true;
    else if (x === '--profile') a.profile = true;
    else if (x === '--strict') a.strict = true;
    else if (x === '-h' || x === '--help') a.help = true;
    else if (x === '--rounds' || x.startsWith('--rounds=')) {
      const v = val();
      if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 50) die(`--rounds: expected 1..50, got '${v}'`);
      a.rounds = Number(v);
    } else if (x === '--case' || x.startsWith('--case=') || x === '--cases' || x.startsWith('--cases=')) {
      const list = val()
        .split(',')
        .map((s) => s.trim().toUpperCase())
        .filter(Boolean);
      for (const c of list) if (!['P1', 'P2', 'P3', 'P4'].includes(c)) die(`--case: unknown case '${c}' (P1..P4)`);
      a.cases = list;
    } else die(`unknown argument '${x}' (see --help)`);
  }
  return a;
}

function die(msg) {
  process.stderr.write(`bench: ${msg}\n`);
  process.exit(2);
}

const ARGS = parseArgs(process.argv.slice(2));
if (ARGS.help) {
  process.stdout.write(
    readFileSync(fileURLToPath(import.meta.url), 'utf8')
      .split('\n')
      .slice(1, 8)
      .map((l) => l.replace(/^\/\/ ?/, ''))
      .join('\n') + '\n',
  );
  process.exit(0);
}
const ROUNDS = ARGS.rounds ?? (ARGS.quick ? 1 : 3);

// ───────────────────────────── child processes ─────────────────────────────

/** Every live child we started: pid → its process group is killed on the way out. */
const live = new Map();
let cleaning = false;

function killGroup(pid, sig) {
  try {
    process.kill(-pid, sig);
  } catch {
    try {
      process.kill(pid, sig);
    } catch {}
  }
}

function cleanup(sig = 'SIGTERM') {
  for (const pid of live.keys()) killGroup(pid, sig);
}

process.on('exit', () => {
  // Synchronous only: whatever is still alive gets SIGTERM, stragglers a SIGKILL.
  cleanup('SIGTERM');
  cleanup('SIGKILL');
});
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
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
process.on('uncaughtException', (err) => {
  if (cleaning) return;
  process.stderr.write(`bench: ${err?.stack ?? err}\n`);
  cleanup('SIGTERM');
  process.exit(1);
});
process.on('unhandledRejection', (err) => {
  if (cleaning) return;
  process.stderr.write(`bench: ${err?.stack ?? err}\n`);
  cleanup('SIGTERM');
  process.exit(1);
});

/** An environment without proxy settings, so nothing can route a loopback request elsewhere. */
function cleanEnv(extra = {}) {
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

const DEV_NULL_OUT = openSync('/dev/null', 'w');

/**
 * Run one command as a timed whole process. Stdout goes to /dev/null (or a pipe when asked),
 * stderr is kept (bounded). `pollRss` polls VmHWM of the process (or, under /usr/bin/time, of
 * its child) every 50 ms. Resolves with wall ms from spawn to exit.
 */
function runTimed(cmd, args, { stdinFile = null, env = cleanEnv(), timeoutMs = 300_000, pollRss = false, rssOfChild = false } = {}) {
  return new Promise((resolvePromise) => {
    const stdin = stdinFile ? openSync(stdinFile, 'r') : 'ignore';
    const t0 = process.hrtime.bigint();
    let child;
    try {
      child = spawn(cmd, args, { stdio: [stdin, DEV_NULL_OUT, 'pipe'], env, detached: true, cwd: ROOT });
    } catch (err) {
      if (typeof stdin === 'number') closeSync(stdin);
      resolvePromise({ wallMs: null, code: null, signal: null, timedOut: false, stderr: String(err), hwmKB: null });
      return;
    }
    if (typeof stdin === 'number') closeSync(stdin);
    const pid = child.pid;
    if (pid) live.set(pid, cmd);
    let stderr = '';
    const STDERR_CAP = 16 * 1024;
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d) => {
      if (stderr.length < STDERR_CAP) stderr += d.slice(0, STDERR_CAP - stderr.length);
    });
    let hwmKB = null;
    let target = rssOfChild ? null : pid;
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
    let exitInfo = null;
    child.on('error', (err) => {
      stderr += `\nspawn error: ${err.message}`;
    });
    child.on('exit', (code, signal) => {
      const t1 = process.hrtime.bigint();
      exitInfo = { code, signal, wallMs: Number(t1 - t0) / 1e6 };
    });
    child.on('close', (code, signal) => {
      clearTimeout(killer);
      if (poller) clearInterval(poller);
      if (pid) {
        // Anything the tool left behind in its group (xargs' curls, helpers) goes too.
        killGroup(pid, 'SIGKILL');
        live.delete(pid);
      }
      const info = exitInfo ?? { code, signal, wallMs: Number(process.hrtime.bigint() - t0) / 1e6 };
      resolvePromise({ ...info, timedOut, stderr, hwmKB });
    });
  });
}

// ───────────────────────────── the server ─────────────────────────────

async function startServerProcess() {
  const child = spawn(NODE, [CLI, 'serve', '--host', '127.0.0.1', '--port', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: cleanEnv(),
    detached: true,
    cwd: ROOT,
  });
  live.set(child.pid, 'server');
  let errText = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d) => {
    if (errText.length < 8192) errText += d;
  });
  const url = await new Promise((res, rej) => {
    let buf = '';
    const timer = setTimeout(() => rej(new Error(`server did not print its URL within 15 s; stderr: ${errText}`)), 15_000);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        res(buf.slice(0, nl).trim());
      } else if (buf.length > 4096) {
        clearTimeout(timer);
        rej(new Error('server: first line too long'));
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      rej(new Error(`server exited early (code ${code}); stderr: ${errText}`));
    });
  });
  child.stdout.resume();
  const u = new URL(url);
  if (u.protocol !== 'http:' || u.hostname !== '127.0.0.1' || !u.port)
    throw new Error(`server printed '${url}', not an http://127.0.0.1:PORT URL`);
  const base = `http://127.0.0.1:${u.port}`;
  return {
    base,
    port: Number(u.port),
    pid: child.pid,
    child,
    stderr: () => errText,
    async stop() {
      if (!live.has(child.pid)) return;
      const exited = new Promise((r) => child.once('exit', r));
      killGroup(child.pid, 'SIGTERM');
      const t = setTimeout(() => killGroup(child.pid, 'SIGKILL'), 3000);
      await exited;
      clearTimeout(t);
      live.delete(child.pid);
    },
  };
}

/** GET on the server, loopback only; bounded by a 30 s timeout. */
function serverGet(port, path) {
  return new Promise((res, rej) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent: false, timeout: 30_000 }, (r) => {
      const chunks = [];
      r.on('data', (c) => chunks.push(c));
      r.on('end', () => res({ status: r.statusCode, body: Buffer.concat(chunks).toString('utf8') }));
      r.on('error', rej);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path}: timeout`)));
    req.on('error', rej);
  });
}

async function resetStats(server) {
  await serverGet(server.port, '/reset-stats');
}

async function readStats(server) {
  const r = await serverGet(server.port, '/stats');
  const s = JSON.parse(r.body);
  return { served: s.served, peak: s.peak, inFlight: s.inFlight };
}

// ───────────────────────────── machine ─────────────────────────────

function versionOf(cmd, args) {
  try {
    const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 10_000, env: cleanEnv() });
    if (r.error || r.status !== 0) return null;
    return (r.stdout || r.stderr).split('\n')[0].trim();
  } catch {
    return null;
  }
}

function commandPath(name) {
  for (const dir of (process.env.PATH ?? '').split(':').filter(Boolean)) {
    const p = join(dir, name);
    if (existsSync(p)) return p;
  }
  return null;
}

function curlInfo() {
  const line = versionOf('curl', ['--version']);
  if (!line) return { ok: false, line: null, why: 'curl not found' };
  const m = /^curl (\d+)\.(\d+)\.(\d+)/.exec(line);
  if (!m) return { ok: false, line, why: `cannot parse '${line}'` };
  const [maj, min] = [Number(m[1]), Number(m[2])];
  const atLeast = (a, b) => maj > a || (maj === a && min >= b);
  const ok = atLeast(7, 66);
  return { ok, line, version: `${m[1]}.${m[2]}.${m[3]}`, atLeast, why: ok ? null : `curl ${m[1]}.${m[2]}.${m[3]} < 7.66 (no -Z)` };
}

/** PATH without any directory holding nc/ncat/netcat, and the directories removed. */
function pathWithoutNc() {
  const dirs = (process.env.PATH ?? '').split(':');
  const removed = [];
  const kept = [];
  for (const d of dirs) {
    if (d && ['nc', 'ncat', 'netcat'].some((n) => existsSync(join(d, n)))) removed.push(d);
    else kept.push(d);
  }
  return { path: kept.join(':'), removed };
}

// ───────────────────────────── stats helpers ─────────────────────────────

const median = (xs) => {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const h = Math.floor(v.length / 2);
  return v.length % 2 ? v[h] : (v[h - 1] + v[h]) / 2;
};
const minOf = (xs) => {
  const v = xs.filter((x) => Number.isFinite(x));
  return v.length ? Math.min(...v) : null;
};
const maxOf = (xs) => {
  const v = xs.filter((x) => Number.isFinite(x));
  return v.length ? Math.max(...v) : null;
};
const s3 = (ms) => (ms === null || ms === undefined ? '—' : (ms / 1000).toFixed(3));
const pad = (s, n) => String(s).padEnd(n);
const lpad = (s, n) => String(s).padStart(n);

function table(header, rows) {
  const widths = header.map((h, i) => Math.max(String(h).length, ...rows.map((r) => String(r[i] ?? '').length)));
  const line = (cells) =>
    `  ${cells.map((c, i) => (i === 0 || i === cells.length - 1 ? pad(c ?? '', widths[i]) : lpad(c ?? '', widths[i]))).join('  ')}`.trimEnd();
  return [line(header), line(widths.map((w) => '─'.repeat(w))), ...rows.map(line)].join('\n');
}

const say = (s = '') => process.stdout.write(`${s}\n`);

// ───────────────────────────── tools ─────────────────────────────

const PY_SEED = String.raw`
# The seed's approach: asyncio + run_in_executor over a ThreadPoolExecutor, blocking urllib.
import asyncio, sys, urllib.request
from concurrent.futures import ThreadPoolExecutor

# No proxies, whatever the environment says: loopback only.
urllib.request.install_opener(urllib.request.build_opener(urllib.request.ProxyHandler({})))

def fetch(url):
    with urllib.request.urlopen(url, timeout=60) as r:
        return len(r.read())

async def main(path, c):
    with open(path) as f:
        urls = [u.strip() for u in f if u.strip()]
    loop = asyncio.get_running_loop()
    pool = ThreadPoolExecutor(max_workers=c)
    results = await asyncio.gather(*(loop.run_in_executor(pool, fetch, u) for u in urls), return_exceptions=True)
    pool.shutdown()
    bad = [r for r in results if isinstance(r, BaseException)]
    if bad:
        print(f"python seed: {len(bad)} of {len(urls)} failed, e.g. {bad[0]!r}", file=sys.stderr)
        sys.exit(1)

asyncio.run(main(sys.argv[1], int(sys.argv[2])))
`;

function curlConfig(urls, file) {
  // One transfer per url line; output right after its url applies to it.
  const esc = (s) => s.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
  writeFileSync(file, urls.map((u) => `url = "${esc(u)}"\noutput = "/dev/null"\n`).join(''));
}

// ───────────────────────────── cases ─────────────────────────────

function caseParams(quick) {
  return {
    P1: quick ? { n: 400, c: 40, delay: 100, note: 'quick: 400 URLs at C=40 keeps the ideal at 1.0 s' } : { n: 2000, c: 200, delay: 100 },
    P2: quick ? { n: 1000, c: 50, delay: 0 } : { n: 10_000, c: 50, delay: 0 },
    P3: { n: 40, c: 8, delay: 200, note: quick ? 'quick: same list (it is 1 s), one round' : undefined },
    P4: quick ? { ns: [20_000, 4_000], c: 50, delay: 0 } : { ns: [100_000, 20_000], c: 50, delay: 0 },
  };
}

function writeList(tmp, name, base, n, delay) {
  const urls = new Array(n);
  for (let i = 0; i < n; i++) urls[i] = `${base}/delay/${delay}?i=${i + 1}`;
  for (const u of urls.slice(0, 1)) if (!u.startsWith('http://127.0.0.1:')) throw new Error(`refusing non-loopback URL ${u}`);
  const file = join(tmp, `${name}.txt`);
  writeFileSync(file, `${urls.join('\n')}\n`);
  return { file, urls };
}

const firstLines = (text, n = 3) =>
  text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .slice(0, n);

/** One timed run of one tool, with the server's count of requests served and its peak in flight. */
async function measure(server, tool, round, expected) {
  await resetStats(server);
  const r = await runTimed(tool.cmd, tool.args, tool.opts);
  // Stopping (SIGINT…): the signal handler exits shortly; report nothing half-measured.
  if (cleaning) await new Promise(() => {});
  let stats = null;
  try {
    stats = await readStats(server);
  } catch (err) {
    stats = { error: String(err) };
  }
  const problems = [];
  if (r.timedOut) problems.push(`timed out after ${(tool.opts.timeoutMs / 1000).toFixed(0)} s (killed)`);
  if (r.code !== 0) problems.push(`exit ${r.code ?? r.signal}`);
  if (stats.served !== undefined && expected !== null && stats.served !== expected)
    problems.push(`server saw ${stats.served} of ${expected} requests`);
  const run = {
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
  const ok = problems.length === 0;
  process.stderr.write(
    `  [r${round}] ${pad(tool.name, 30)} ${s3(r.wallMs)} s  served ${stats.served ?? '?'}  peak ${stats.peak ?? '?'}${ok ? '' : `  !! ${problems.join('; ')}`}\n`,
  );
  return { run, r };
}

function fetchallTool(list, c, timeoutMs) {
  return {
    name: 'fetchall (async)',
    cmd: NODE,
    args: [CLI, '-q', '-f', 'ndjson', '-c', String(c), list],
    opts: { timeoutMs, env: cleanEnv() },
  };
}

function curlZTool(cfg, c, timeoutMs, curl) {
  const pmax = Math.min(c, 300);
  // -s alone does not silence the parallel progress meter (seen with 7.88 and -K); the explicit
  // flag does (7.67+). -S keeps real errors visible.
  const quiet = curl.atLeast(7, 67) ? ['--no-progress-meter'] : [];
  return {
    name: 'curl -Z',
    cmd: 'curl',
    args: ['-q', '--noproxy', '*', ...quiet, '-Z', '--parallel-max', String(pmax), '-K', cfg, '-s', '-S', '-o', '/dev/null'],
    opts: { timeoutMs, env: cleanEnv() },
  };
}

function xargsTool(list, c, timeoutMs) {
  return {
    name: `xargs -P ${c} curl`,
    cmd: 'xargs',
    args: ['-P', String(c), '-n', '1', 'curl', '-q', '--noproxy', '*', '-s', '-o', '/dev/null'],
    opts: { timeoutMs, env: cleanEnv(), stdinFile: list },
  };
}

function pythonTool(script, list, c, timeoutMs) {
  return {
    name: `python3 seed (pool ${c})`,
    cmd: 'python3',
    args: [script, list, String(c)],
    opts: { timeoutMs, env: cleanEnv() },
  };
}

function summarise(runs, toolName, pick = (r) => r.wallMs) {
  const mine = runs.filter((r) => r.tool === toolName);
  const xs = mine.map(pick);
  return {
    n: mine.length,
    median: median(xs),
    min: minOf(xs),
    max: maxOf(xs),
    problems: [...new Set(mine.flatMap((r) => r.problems))],
    peak: median(mine.map((r) => r.serverPeakInFlight)),
  };
}

function printNotes(runs) {
  const seen = new Map();
  for (const r of runs) {
    for (const l of r.stderrHead) {
      const key = `${r.tool}: ${l.replace(/\(node:\d+\)/, '(node:PID)')}`;
      seen.set(key, (seen.get(key) ?? 0) + 1);
    }
  }
  if (seen.size > 0) {
    say('  stderr seen:');
    for (const [k, n] of [...seen].slice(0, 12)) say(`    ${k}${n > 1 ? `  (×${n})` : ''}`);
  }
}

/** Rounds of fetchall then each peer, the same order every round. */
async function alternate(server, tools, expected) {
  const runs = [];
  for (let round = 1; round <= ROUNDS; round++) {
    for (const tool of tools) {
      const { run } = await measure(server, tool, round, expected);
      runs.push(run);
    }
  }
  return runs;
}

function comparisonTable(runs, primary, names, idealMs) {
  const base = summarise(runs, primary).median;
  const rows = names.map((name) => {
    const s = summarise(runs, name);
    const ratio = name === primary || base === null || s.median === null ? '—' : (base / s.median).toFixed(2);
    const notes = [];
    if (idealMs) notes.push(`${(s.median / idealMs).toFixed(2)}× ideal`);
    if (s.problems.length) notes.push(`!! ${s.problems.join('; ')}`);
    return [name, s3(s.median), s3(s.min), ratio, s.peak ?? '—', s.n, notes.join('  ')];
  });
  return table(['tool', 'median s', 'min s', 'fetchall/peer', 'srv peak', 'runs', 'notes'], rows);
}

function verdict(label, pass) {
  return `  Target ${label}: ${pass === null ? 'N/A' : pass ? 'PASS' : 'FAIL'}`;
}

// ───────────────────────────── main ─────────────────────────────

async function main() {
  mkdirSync(OUT_DIR, { recursive: true });
  if (!existsSync(join(ROOT, 'dist', 'cli.js'))) die('dist/cli.js missing: run `npm run build` first (npm run bench does)');

  const curl = curlInfo();
  const python = versionOf('python3', ['--version']);
  const gnuTime = existsSync('/usr/bin/time') && spawnSync('sh', ['-c', 'command -v /usr/bin/time'], { timeout: 5000 }).status === 0;
  const machine = {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    nproc: os.availableParallelism?.() ?? os.cpus().length,
    memGB: +(os.totalmem() / 1024 ** 3).toFixed(1),
    loadavg: os.loadavg().map((x) => +x.toFixed(2)),
    node: process.version,
    curl: curl.line,
    python,
    gnuTime,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
  };
  say(`fetchall bench — ${new Date().toISOString()}${ARGS.quick ? '  (--quick)' : ''}  rounds: ${ROUNDS}`);
  say(`machine: ${machine.cpu}  nproc ${machine.nproc}  ${machine.memGB} GB  load ${machine.loadavg.join(' ')}`);
  say(`node ${machine.node}  |  ${curl.line ?? 'curl: absent'}`);
  say(
    `${python ?? 'python3: absent'}  |  peak RSS via ${gnuTime ? '/usr/bin/time -f %M (cross-checked by polling VmHWM)' : 'polling /proc/PID/status VmHWM every 50 ms'}`,
  );
  say('all traffic: 127.0.0.1 only (built-in server in its own process)');

  const tmp = mkdtempSync(join(os.tmpdir(), 'fetchall-bench-'));
  const cleanupTmp = () => rmSync(tmp, { recursive: true, force: true });
  process.on('exit', cleanupTmp);
  const pyScript = join(tmp, 'seed.py');
  writeFileSync(pyScript, PY_SEED);

  const server = await startServerProcess();
  say(`server: ${server.base} (pid ${server.pid})`);
  say('');

  const P = caseParams(ARGS.quick);
  const results = {
    date: new Date().toISOString(),
    quick: ARGS.quick,
    rounds: ROUNDS,
    machine,
    server: server.base,
    cases: {},
    targets: [],
  };
  const resultsFile = join(OUT_DIR, ARGS.profile ? 'profile.json' : 'results.json');
  const save = () => writeFileSync(resultsFile, `${JSON.stringify(results, null, 2)}\n`);

  try {
    // Warm the file cache (node_modules, dist) so the first measured round is not the cold one.
    {
      const w = writeList(tmp, 'warm', server.base, 20, 0);
      await runTimed(NODE, [CLI, '-q', '-f', 'ndjson', '-c', '10', w.file], { timeoutMs: 60_000 });
    }

    if (ARGS.profile) {
      await profileP2(server, tmp, P.P2);
      return;
    }

    const want = (c) => ARGS.cases === null || ARGS.cases.includes(c);
    if (want('P1')) results.cases.P1 = await caseP1(server, tmp, P.P1, curl, python, pyScript);
    save();
    if (want('P2')) results.cases.P2 = await caseP2(server, tmp, P.P2, curl);
    save();
    if (want('P3')) results.cases.P3 = await caseP3(server, tmp, P.P3, python, pyScript);
    save();
    if (want('P4')) results.cases.P4 = await caseP4(server, tmp, P.P4, gnuTime);
    save();

    say('Summary');
    for (const [k, c] of Object.entries(results.cases)) {
      if (c.target) {
        results.targets.push({ case: k, ...c.target });
        say(`  ${k}: ${c.target.pass === null ? 'N/A ' : c.target.pass ? 'PASS' : 'FAIL'}  ${c.target.text}`);
      }
    }
    const srvErr = server.stderr().trim();
    if (srvErr) say(`  server stderr: ${firstLines(srvErr, 3).join(' | ')}`);
    save();
    say(`\nraw numbers: ${resultsFile}`);
    if (ARGS.strict && results.targets.some((t) => t.pass === false)) process.exitCode = 1;
  } finally {
    await server.stop();
  }
}

async function caseP1(server, tmp, p, curl, python, pyScript) {
  const ideal = Math.ceil(p.n / p.c) * p.delay;
  say(`P1 latency-bound: ${p.n} × /delay/${p.delay} at C=${p.c}  ideal ${s3(ideal)} s${p.note ? `  (${p.note})` : ''}`);
  const { file, urls } = writeList(tmp, 'p1', server.base, p.n, p.delay);
  const tools = [fetchallTool(file, p.c, 120_000)];
  const notes = [];
  if (curl.ok) {
    const cfg = join(tmp, 'p1.curl');
    curlConfig(urls, cfg);
    tools.push(curlZTool(cfg, p.c, 120_000, curl));
    if (p.c > 300) notes.push('curl --parallel-max is capped at 300');
  } else notes.push(`curl -Z skipped: ${curl.why}`);
  if (commandPath('curl')) tools.push(xargsTool(file, p.c, 300_000));
  else notes.push('xargs+curl skipped: curl absent');
  if (python) tools.push(pythonTool(pyScript, file, p.c, 180_000));
  else notes.push('python3 seed skipped: python3 absent');

  const runs = await alternate(server, tools, p.n);
  say(
    comparisonTable(
      runs,
      tools[0].name,
      tools.map((t) => t.name),
      ideal,
    ),
  );
  for (const n of notes) say(`  note: ${n}`);
  printNotes(runs);
  const target = curlTarget(runs, tools[0].name, curl, 1.05);
  return { params: { ...p, idealMs: ideal }, runs, notes, target };
}

/** The P1/P2 target: fetchall's median within `factor` × curl -Z's; printed, and returned for the JSON. */
function curlTarget(runs, fetchallName, curl, factor) {
  const fa = summarise(runs, fetchallName).median;
  const cz = curl.ok ? summarise(runs, 'curl -Z').median : null;
  const pass = fa !== null && cz !== null ? fa <= factor * cz : null;
  const text = `fetchall ≤ ${factor} × curl -Z: ${s3(fa)} s vs ${cz === null ? '—' : `${factor} × ${s3(cz)} = ${s3(factor * cz)}`} s`;
  say(verdict(text, pass));
  say('');
  return { text, pass };
}

async function caseP2(server, tmp, p, curl) {
  say(`P2 throughput: ${p.n} × /delay/${p.delay} at C=${p.c}`);
  const { file, urls } = writeList(tmp, 'p2', server.base, p.n, p.delay);
  const tools = [fetchallTool(file, p.c, 180_000)];
  const notes = [];
  if (curl.ok) {
    const cfg = join(tmp, 'p2.curl');
    curlConfig(urls, cfg);
    tools.push(curlZTool(cfg, p.c, 180_000, curl));
  } else notes.push(`curl -Z skipped: ${curl.why}`);
  let estimate = null;
  if (commandPath('curl')) {
    // One process per URL: calibrate on 200 URLs, extrapolate, and skip if it would exceed 60 s.
    const cal = writeList(tmp, 'p2-cal', server.base, 200, p.delay);
    const r = await runTimed('xargs', ['-P', String(p.c), '-n', '1', 'curl', '-q', '--noproxy', '*', '-s', '-o', '/dev/null'], {
      stdinFile: cal.file,
      timeoutMs: 60_000,
    });
    estimate = r.wallMs === null ? null : (r.wallMs * p.n) / 200;
    if (estimate !== null && estimate <= 60_000) tools.push(xargsTool(file, p.c, 120_000));
    else notes.push(`xargs+curl skipped: ~${s3(estimate)} s per run estimated (200 URLs took ${s3(r.wallMs)} s), over the 60 s limit`);
  } else notes.push('xargs+curl skipped: curl absent');

  const runs = await alternate(server, tools, p.n);
  say(
    comparisonTable(
      runs,
      tools[0].name,
      tools.map((t) => t.name),
      null,
    ),
  );
  const rate = (name) => {
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
  const target = curlTarget(runs, tools[0].name, curl, 1.8);
  return { params: p, xargsEstimateMs: estimate, runs, notes, target };
}

async function caseP3(server, tmp, p, python, pyScript) {
  const ideal = Math.ceil(p.n / p.c) * p.delay;
  const { path, removed } = pathWithoutNc();
  say(
    `P3 blocking pool: ${p.n} × /delay/${p.delay}, fetchall compare --modes threads -c ${p.c}  ideal ${s3(ideal)} s${p.note ? `  (${p.note})` : ''}`,
  );
  say(
    `  PATH for fetchall: ${removed.length ? `removed ${removed.join(', ')} (they hold nc/ncat/netcat)` : 'unchanged: no PATH directory holds nc/ncat/netcat'}`,
  );
  const { file } = writeList(tmp, 'p3', server.base, p.n, p.delay);
  const jsonFile = join(tmp, 'p3-compare.json');
  const FA = 'fetchall threads';
  const fa = {
    name: FA,
    cmd: NODE,
    args: [CLI, 'compare', '--modes', 'threads', '-c', String(p.c), '--json', jsonFile, '-q', '-f', 'ndjson', file],
    opts: { timeoutMs: 120_000, env: cleanEnv({ PATH: path }) },
  };
  const tools = [fa];
  const notes = [];
  if (python) tools.push(pythonTool(pyScript, file, p.c, 120_000));
  else notes.push('python3 seed skipped: python3 absent');

  const runs = [];
  for (let round = 1; round <= ROUNDS; round++) {
    for (const tool of tools) {
      rmSync(jsonFile, { force: true });
      const { run } = await measure(server, tool, round, p.n);
      if (tool === fa) {
        try {
          const j = JSON.parse(readFileSync(jsonFile, 'utf8'));
          const m = j.modes?.[0];
          const x = m?.runs?.[0];
          run.json = {
            mode: m?.mode,
            wallMs: x?.wallMs ?? null,
            startupMs: x?.startupMs ?? null,
            ok: x?.ok,
            failed: x?.failed,
            peakInFlight: x?.peakInFlight,
            threads: x?.threads,
            helpers: x?.helpers,
            optionsConcurrency: j.options?.concurrency,
            optionsFormat: j.options?.format,
            optionsQuiet: j.options?.quiet,
            selfPeakBytes: x?.memory?.selfPeakBytes,
            helpersPeakBytes: x?.memory?.helpersPeakBytes,
            cpuTotalMs: x?.cpu?.totalMs,
          };
          if (x?.failed) run.problems.push(`${x.failed} failed`);
          if (j.options?.concurrency !== p.c) run.problems.push(`compare ran with concurrency ${j.options?.concurrency}, not -c ${p.c}`);
        } catch (err) {
          run.json = null;
          run.problems.push(`no JSON: ${err.message}`);
        }
        process.stderr.write(
          `        fetch wall ${s3(run.json?.wallMs)} s, start-up ${s3(run.json?.startupMs)} s, peak in flight ${run.json?.peakInFlight ?? '?'}, threads ${run.json?.threads ?? '?'}\n`,
        );
      }
      runs.push(run);
    }
  }
  const faRuns = runs.filter((r) => r.tool === FA);
  const fetchWall = faRuns.map((r) => r.json?.wallMs ?? null);
  const startup = faRuns.map((r) => r.json?.startupMs ?? null);
  const proc = faRuns.map((r) => r.wallMs);
  const faProblems = [...new Set(faRuns.flatMap((r) => r.problems))];
  const fwMed = median(fetchWall);
  const rows = [
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
      s3(median(proc)),
      s3(minOf(proc)),
      '—',
      median(faRuns.map((r) => r.serverPeakInFlight)) ?? '—',
      faRuns.length,
      faProblems.length ? `!! ${faProblems.join('; ')}` : '',
    ],
  ];
  for (const t of tools.slice(1)) {
    const s = summarise(runs, t.name);
    rows.push([
      `${t.name}: whole process`,
      s3(s.median),
      s3(s.min),
      fwMed && s.median ? `${(fwMed / s.median).toFixed(2)} / ${(median(proc) / s.median).toFixed(2)}` : '—',
      s.peak ?? '—',
      s.n,
      `${(s.median / ideal).toFixed(2)}× ideal${s.problems.length ? `  !! ${s.problems.join('; ')}` : ''}`,
    ]);
  }
  say(table(['tool', 'median s', 'min s', 'fetchall/peer', 'srv peak', 'runs', 'notes'], rows));
  say('  fetchall/peer for python = fetch wall ÷ python process / fetchall process ÷ python process');
  const mem = faRuns.map((r) => r.json?.selfPeakBytes ?? null);
  const hmem = faRuns.map((r) => r.json?.helpersPeakBytes ?? null);
  if (median(mem) !== null)
    say(
      `  fetchall threads memory (JSON): self peak ${(median(mem) / 2 ** 20).toFixed(0)} MB, helpers peak ${(median(hmem) / 2 ** 20).toFixed(0)} MB`,
    );
  for (const n of notes) say(`  note: ${n}`);
  printNotes(runs);
  const effC = median(faRuns.map((r) => r.json?.optionsConcurrency ?? null));
  if (effC !== null && effC !== p.c) {
    const effIdeal = Math.ceil(p.n / effC) * p.delay;
    say(
      `  !! fetchall ran with concurrency ${effC}, not -c ${p.c}: at ${effC} the ideal is ${s3(effIdeal)} s, fetch wall = ${fwMed ? (fwMed / effIdeal).toFixed(2) : '—'}× that`,
    );
  }
  const pass = fwMed === null ? null : fwMed <= 1.15 * ideal;
  const text = `fetch wall ≤ 1.15 × ideal: ${s3(fwMed)} s vs ${s3(1.15 * ideal)} s (start-up ${s3(median(startup))} s reported separately)`;
  say(verdict(text, pass));
  say('');
  return { params: { ...p, idealMs: ideal, pathRemoved: removed }, runs, notes, target: { text, pass } };
}

async function caseP4(server, tmp, p, gnuTime) {
  say(`P4 memory: async mode at -c ${p.c}, /delay/${p.delay}, records to /dev/null; peak RSS of the fetchall process`);
  const lists = p.ns.map((n) => ({ n, ...writeList(tmp, `p4-${n}`, server.base, n, p.delay) }));
  const rssFiles = new Map();
  const tools = lists.map(({ n, file }) => {
    const name = `fetchall ${n.toLocaleString('en-US')} URLs`;
    const inner = [CLI, '-q', '-f', 'ndjson', '-c', String(p.c), file];
    if (gnuTime) {
      const rssFile = join(tmp, `p4-${n}.rss`);
      rssFiles.set(name, rssFile);
      return {
        name,
        cmd: '/usr/bin/time',
        args: ['-f', '%M', '-o', rssFile, NODE, ...inner],
        opts: { timeoutMs: 600_000, pollRss: true, rssOfChild: true },
      };
    }
    return { name, cmd: NODE, args: inner, opts: { timeoutMs: 600_000, pollRss: true } };
  });
  const runs = [];
  for (let round = 1; round <= ROUNDS; round++) {
    for (let i = 0; i < tools.length; i++) {
      const tool = tools[i];
      const rssFile = rssFiles.get(tool.name);
      if (rssFile) rmSync(rssFile, { force: true });
      const { run } = await measure(server, tool, round, lists[i].n);
      let timeKB = null;
      if (rssFile && existsSync(rssFile)) {
        const lines = readFileSync(rssFile, 'utf8').trim().split('\n');
        const last = lines[lines.length - 1];
        if (/^\d+$/.test(last)) timeKB = Number(last);
        // GNU time writes "Command exited with non-zero status N" first when it did.
      }
      run.timeMaxRssKB = timeKB;
      run.peakRssKB = timeKB ?? run.hwmKB;
      run.urls = lists[i].n;
      process.stderr.write(
        `        peak RSS ${run.peakRssKB ? (run.peakRssKB / 1024).toFixed(1) : '?'} MB (time %M ${timeKB ?? '—'} kB, VmHWM poll ${run.hwmKB ?? '—'} kB)\n`,
      );
      runs.push(run);
    }
  }
  const rows = tools.map((t, i) => {
    const mine = runs.filter((r) => r.tool === t.name);
    const rss = mine.map((r) => r.peakRssKB);
    const walls = mine.map((r) => r.wallMs);
    const probs = [...new Set(mine.flatMap((r) => r.problems))];
    return [
      t.name,
      median(rss) === null ? '—' : (median(rss) / 1024).toFixed(1),
      maxOf(rss) === null ? '—' : (maxOf(rss) / 1024).toFixed(1),
      maxOf(mine.map((r) => r.hwmKB)) === null ? '—' : (maxOf(mine.map((r) => r.hwmKB)) / 1024).toFixed(1),
      s3(median(walls)),
      median(walls) ? Math.round(lists[i].n / (median(walls) / 1000)) : '—',
      mine.length,
      probs.length ? `!! ${probs.join('; ')}` : '',
    ];
  });
  say(table(['run', 'peak RSS MB (median)', 'max MB', 'VmHWM poll max MB', 'wall s', 'req/s', 'runs', 'notes'], rows));
  printNotes(runs);
  const big = runs.filter((r) => r.urls === p.ns[0]).map((r) => r.peakRssKB);
  const small = runs.filter((r) => r.urls === p.ns[1]).map((r) => r.peakRssKB);
  const worst = maxOf(big);
  const pass = worst === null ? null : worst / 1024 <= 150;
  const growth = median(big) && median(small) ? ((median(big) - median(small)) / 1024).toFixed(1) : null;
  say(`  growth from ${p.ns[1].toLocaleString('en-US')} to ${p.ns[0].toLocaleString('en-US')} URLs: ${growth ?? '—'} MB (median peak RSS)`);
  const text = `peak RSS ≤ 150 MB at ${p.ns[0].toLocaleString('en-US')} URLs: worst ${worst === null ? '—' : (worst / 1024).toFixed(1)} MB`;
  say(verdict(text, pass));
  say('');
  return { params: p, runs, growthMB: growth === null ? null : Number(growth), target: { text, pass } };
}

/** One CPU-profiled fetchall run of the P2 list, then the profile's top self time. */
async function profileP2(server, tmp, p) {
  const { file } = writeList(tmp, 'p2', server.base, p.n, p.delay);
  const before = new Set(readdirSync(OUT_DIR).filter((f) => f.endsWith('.cpuprofile')));
  say(`profile: node --cpu-prof --cpu-prof-dir=bench/out bin/fetchall.js -q -f ndjson -c ${p.c} <${p.n} × /delay/${p.delay}> > /dev/null`);
  const tool = {
    name: 'fetchall (cpu-prof)',
    cmd: NODE,
    args: ['--cpu-prof', `--cpu-prof-dir=${OUT_DIR}`, CLI, '-q', '-f', 'ndjson', '-c', String(p.c), file],
    opts: { timeoutMs: 300_000 },
  };
  const { run } = await measure(server, tool, 1, p.n);
  say(`  wall ${s3(run.wallMs)} s (profiling on), exit ${run.exitCode}`);
  const made = readdirSync(OUT_DIR).filter((f) => f.endsWith('.cpuprofile') && !before.has(f));
  for (const f of made) {
    say(`\n${join('bench/out', f)}`);
    say(summariseProfile(join(OUT_DIR, f), 12));
  }
}

await main();
// Handles the server leaves (none, normally) must not keep the bench alive.
setTimeout(() => process.exit(), 2000).unref();
