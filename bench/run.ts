// fetchall side by side with its peers, on this machine, against the built-in server on loopback.
//
// Only 127.0.0.1 is ever contacted: the server is started here on loopback, every URL list is
// built from its address, proxies are stripped from every child's environment, curl gets
// -q (no ~/.curlrc) and --noproxy '*', and python's urllib gets an opener without proxies.
// Every child runs in its own process group and is killed (the whole group) on exit, on error,
// on SIGINT/SIGTERM/SIGHUP, and when a run exceeds its time limit.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { CASES, type CaseName, type CaseResult, caseP1, caseP2, caseP3, caseP4, caseParams, type Peers, profileP2 } from './cases.js';
import { type Context, say, startServer, writeList } from './measure.js';
import { CLI, DIST, NODE, OUT_DIR } from './paths.js';
import { curlInfo } from './peers.js';
import { killChildrenOnExit, runTimed, versionOf } from './proc.js';
import { x2 } from './table.js';

const USAGE = `fetchall bench: fetchall and its peers on this machine, loopback only.

  npm run bench                          build, then every case, 3 alternating rounds
  npm run bench -- --quick               smaller lists, 1 round: a smoke test
  npm run bench -- --rounds 5 --case P1,P3
  npm run bench -- --profile             CPU-profile one P2 run of fetchall, print top self time
  npm run bench -- --strict              exit 1 when a target fails

(npm run build:bench && node bench/out/run.js … runs it without rebuilding fetchall.)
`;

interface Args {
  quick: boolean;
  rounds: number | null;
  cases: CaseName[] | null;
  profile: boolean;
  strict: boolean;
  help: boolean;
}

function die(msg: string): never {
  process.stderr.write(`bench: ${msg}\n`);
  process.exit(2);
}

function parseArgs(argv: string[]): Args {
  const a: Args = { quick: false, rounds: null, cases: null, profile: false, strict: false, help: false };
  for (let i = 0; i < argv.length; i++) {
    const x = argv[i]!;
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
    } else if (/^--cases?(=|$)/.test(x)) {
      const list = val()
        .split(',')
        .map((s) => s.trim().toUpperCase())
        .filter(Boolean);
      const known = (c: string): c is CaseName => (CASES as readonly string[]).includes(c);
      for (const c of list) if (!known(c)) die(`--case: unknown case '${c}' (P1..P4)`);
      a.cases = list as CaseName[];
    } else die(`unknown argument '${x}' (see --help)`);
  }
  return a;
}

async function main(args: Args): Promise<void> {
  const rounds = args.rounds ?? (args.quick ? 1 : 3);
  mkdirSync(OUT_DIR, { recursive: true });
  if (!existsSync(join(DIST, 'cli.js'))) die('dist/cli.js missing: run `npm run build` first (npm run bench does)');

  const curl = curlInfo();
  const python = versionOf('python3', ['--version']);
  const gnuTime = existsSync('/usr/bin/time') && spawnSync('sh', ['-c', 'command -v /usr/bin/time'], { timeout: 5000 }).status === 0;
  const peers: Peers = { curl, python, gnuTime };
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
  say(`fetchall bench — ${new Date().toISOString()}${args.quick ? '  (--quick)' : ''}  rounds: ${rounds}`);
  say(`machine: ${machine.cpu}  nproc ${machine.nproc}  ${machine.memGB} GB  load ${machine.loadavg.join(' ')}`);
  say(`node ${machine.node}  |  ${curl.line ?? 'curl: absent'}`);
  say(
    `${python ?? 'python3: absent'}  |  peak RSS via ${gnuTime ? '/usr/bin/time -f %M (cross-checked by polling VmHWM)' : 'polling /proc/PID/status VmHWM every 50 ms'}`,
  );
  say('all traffic: 127.0.0.1 only (built-in server in its own process)');

  const tmp = mkdtempSync(join(os.tmpdir(), 'fetchall-bench-'));
  process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

  const server = await startServer();
  say(`server: ${server.base}`);
  say('');
  const ctx: Context = { server, tmp, rounds };

  const P = caseParams(args.quick);
  const results = {
    date: new Date().toISOString(),
    quick: args.quick,
    rounds,
    machine,
    server: server.base,
    cases: {} as Partial<Record<CaseName, CaseResult>>,
    targets: [] as ({ case: string } & CaseResult['target'])[],
  };
  const resultsFile = join(OUT_DIR, args.profile ? 'profile.json' : 'results.json');
  const save = () => writeFileSync(resultsFile, `${JSON.stringify(results, null, 2)}\n`);

  try {
    // Warm the file cache (node_modules, dist) so the first measured round is not the cold one.
    const warm = writeList(tmp, 'warm', server.base, 20, 0);
    await runTimed(NODE, [CLI, '-q', '-f', 'ndjson', '-c', '10', warm.file], { timeoutMs: 60_000 });

    if (args.profile) {
      await profileP2(ctx, P.P2);
      return;
    }

    const run: Record<CaseName, () => Promise<CaseResult>> = {
      P1: () => caseP1(ctx, P.P1, peers),
      P2: () => caseP2(ctx, P.P2, peers),
      P3: () => caseP3(ctx, P.P3, peers),
      P4: () => caseP4(ctx, P.P4, peers),
    };
    for (const c of CASES) {
      if (args.cases !== null && !args.cases.includes(c)) continue;
      results.cases[c] = await run[c]();
      save();
    }

    say('Summary');
    for (const [k, c] of Object.entries(results.cases)) {
      results.targets.push({ case: k, ...c.target });
      say(`  ${k}: ${c.target.pass === null ? 'N/A ' : c.target.pass ? 'PASS' : 'FAIL'}  ${c.target.text}`);
      if (c.ratios?.floor !== undefined)
        say(`        fetchall/curl -Z ${x2(c.ratios.curl ?? null)} ×, fetchall/floor ${x2(c.ratios.floor)} ×`);
      if (c.ratios?.floorRss !== undefined) say(`        fetchall/floor peak RSS ${x2(c.ratios.floorRss)} ×`);
    }
    save();
    say(`\nraw numbers: ${resultsFile}`);
    if (args.strict && results.targets.some((t) => t.pass === false)) process.exitCode = 1;
  } finally {
    await server.close();
  }
}

const args = parseArgs(process.argv.slice(2));
if (args.help) {
  process.stdout.write(USAGE);
} else {
  killChildrenOnExit();
  await main(args);
  // Handles the server leaves (none, normally) must not keep the bench alive.
  setTimeout(() => process.exit(), 2000).unref();
}
