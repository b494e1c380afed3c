// The package as a newcomer gets it: pack a fresh copy of the tree, install the tarball with no network, run the installed bin.

import { spawn, spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { NODE, ndjson } from './helpers/cli.js';
import { useServer } from './helpers/server.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PKG = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));

// What a fresh clone does not have (the .gitignore list, and git's own files).
const NOT_IN_A_CLONE = new Set(['node_modules', 'dist', '.git', 'coverage', 'bench/out']);

const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

/**
 * The environment without what `npm test` adds: npm_config_local_prefix and friends would point the inner npm back at
 * this checkout. The cache stays, since the install reads it; PATH starts with this node, which the bin's
 * `#!/usr/bin/env node` finds.
 */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^npm_/i.test(k) && !/^npm_config_(cache|userconfig)$/i.test(k)) continue;
    if (k === 'INIT_CWD' || k === 'FORCE_COLOR') continue;
    env[k] = v;
  }
  env.PATH = [dirname(NODE), process.env.PATH ?? ''].join(delimiter);
  return { ...env, NO_COLOR: '1', ...extra };
}

interface Done {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Run a command to its end or its deadline; on the deadline its whole process group is killed (npm's tsc too). */
/**
 * How long a command may take before it counts as stuck and fails, naming itself. Not a speed check:
 * npm pack builds and generates the docs, which on a loaded 2-core machine took over the 60 s this
 * was; nothing in this file asserts how fast anything is.
 */
const HANG_MS = 240_000;
// At most two commands a test or hook (npm pack and npm ci in beforeAll), each with its own HANG_MS.
vi.setConfig({ testTimeout: 2 * HANG_MS + 60_000, hookTimeout: 2 * HANG_MS + 60_000 });

function exec(cmd: string, args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<Done> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {}
      reject(new Error(`${cmd} ${args.join(' ')}: no end within ${HANG_MS} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`));
    }, HANG_MS);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

function ok(r: Done, what: string): Done {
  if (r.code !== 0) throw new Error(`${what} exited ${r.code ?? r.signal}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
  return r;
}

function jsFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.js'))
    .map((f) => join(dir, f));
}

const ctx = useServer();
const tmp = mkdtempSync(join(tmpdir(), 'fetchall-pkg-'));
const clone = join(tmp, 'clone');
const out = join(tmp, 'out');
const prefix = join(tmp, 'prefix');
const home = join(tmp, 'home'); // the cwd the installed bin runs in: nowhere near this checkout
let packed: { filename: string; integrity: string; files: { path: string }[] };
let installed: string; // node_modules/fetchall in the prefix
let bin: string;

beforeAll(async () => {
  // npm pack runs prepack, which empties dist/: in this checkout that would pull dist/ from under the other test
  // files running the CLI, so pack a copy made as a fresh clone would be (no dist/), sharing only node_modules.
  cpSync(ROOT, clone, { recursive: true, filter: (src) => !NOT_IN_A_CLONE.has(relative(ROOT, src).split('\\').join('/')) });
  symlinkSync(join(ROOT, 'node_modules'), join(clone, 'node_modules'), 'dir');
  for (const d of [out, prefix, home]) mkdirSync(d);

  const pack = ok(await exec('npm', ['pack', '--json', '--pack-destination', out], { cwd: clone }), 'npm pack');
  // prepack's scripts share stdout with the JSON: the JSON is the array that opens a line
  packed = JSON.parse(pack.stdout.slice(pack.stdout.search(/^\[/m)))[0];

  // `npm install -g --offline TARBALL` cannot work from this cache: npm 11 resolves a tarball's dependency ranges
  // from full packuments, and `npm ci` caches only tarballs. So install as a project would, from a lockfile: the
  // tarball plus this repo's own locked production tree. `npm ci --offline` then fetches nothing but cached
  // tarballs, checked by integrity, and the registry is never asked.
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8'));
  const spec = `file:${relative(prefix, join(out, packed.filename)).split('\\').join('/')}`;
  const app = { name: 'fetchall-install-check', version: '1.0.0', private: true, dependencies: { fetchall: spec } };
  const packages: Record<string, unknown> = {
    '': { name: app.name, version: app.version, dependencies: app.dependencies },
    'node_modules/fetchall': {
      version: PKG.version,
      resolved: spec,
      integrity: packed.integrity,
      license: PKG.license,
      dependencies: PKG.dependencies,
      bin: PKG.bin,
      engines: PKG.engines,
    },
  };
  for (const [path, entry] of Object.entries(lock.packages as Record<string, { dev?: boolean }>)) {
    if (path !== '' && !entry.dev) packages[path] = entry;
  }
  writeFileSync(join(prefix, 'package.json'), JSON.stringify(app, null, 2));
  writeFileSync(join(prefix, 'package-lock.json'), JSON.stringify({ ...app, lockfileVersion: 3, requires: true, packages }, null, 2));
  ok(await exec('npm', ['ci', '--offline', '--no-audit', '--no-fund'], { cwd: prefix }), 'npm ci --offline');

  installed = join(prefix, 'node_modules', 'fetchall');
  bin = join(prefix, 'node_modules', '.bin', 'fetchall');
});

afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

/** The installed bin itself, started as a shell would: through its #! line, from a directory outside the checkout. */
const fetchall = (args: string[]) => exec(bin, args, { cwd: home });

describe('npm pack', () => {
  it('ships the built CLI, its docs and the licence, and nothing for development', () => {
    const files = packed.files.map((f) => f.path);
    for (const f of [
      'package.json',
      'README.md',
      'LICENSE',
      'bin/fetchall.js',
      'dist/cli.js',
      'dist/engines/threads-worker.js',
      'dist/sync/http-hooks.js',
      'dist/engines/process-worker.js',
      'dist/man/fetchall.1',
      'dist/completion/fetchall.bash',
      'dist/completion/_fetchall',
    ]) {
      expect(files).toContain(f);
    }
    const junk = files.filter((f) => /^(src|test|bench|scripts|fixtures|node_modules|\.ci)\//.test(f) || /\.(ts|map)$/.test(f));
    expect(junk).toEqual([]);
    expect(packed.filename).toBe(`fetchall-${PKG.version}.tgz`);
  });

  it('installs offline with the production dependencies only, bin executable, licence and repository in place', () => {
    expect(statSync(bin).mode & 0o111).not.toBe(0);
    // a devDependency can also be a production one's dependency (@types/node is, of sync-request's): the lockfile knows
    const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8'));
    const devOnly = Object.keys(PKG.devDependencies).filter((d) => lock.packages[`node_modules/${d}`]?.dev);
    expect(devOnly).toContain('vitest');
    for (const dev of devOnly) expect(existsSync(join(prefix, 'node_modules', dev)), dev).toBe(false);
    const meta = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8'));
    expect(meta.license).toBe('MIT');
    expect(meta.repository.url).toMatch(/^git\+https:\/\//);
    expect(meta.man).toEqual(['./dist/man/fetchall.1']);
    expect(readFileSync(join(installed, 'LICENSE'), 'utf8')).toMatch(/^MIT License\n\nCopyright \(c\) 2026 the fetchall authors\n/);
  });

  it('installs globally into a prefix: bin/fetchall on PATH and the man page under share/man', async () => {
    // the installed folder, not the tarball: npm links a folder without resolving its dependencies (see beforeAll),
    // and what a global install adds over a local one is the linking, which this checks
    const global = join(tmp, 'global');
    const args = ['install', '-g', '--prefix', global, '--offline', '--no-audit', '--no-fund', installed];
    ok(await exec('npm', args, { cwd: home }), 'npm install -g');
    expect(existsSync(join(global, 'share', 'man', 'man1', 'fetchall.1'))).toBe(true);
    const v = ok(await exec(join(global, 'bin', 'fetchall'), ['--version'], { cwd: home }), 'global fetchall');
    expect(v.stdout.trim()).toBe(PKG.version);
  });

  it('imports nothing at run time beyond Node built-ins and the declared dependencies', () => {
    const allowed = new Set(Object.keys(PKG.dependencies));
    const builtins = new Set(builtinModules);
    const stray: string[] = [];
    for (const file of jsFiles(join(installed, 'dist'))) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*)['"]([^'"]+)['"]/g)) {
        const spec = m[1]!;
        if (spec.startsWith('.') || spec.startsWith('node:') || builtins.has(spec)) continue;
        const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
        if (!allowed.has(name)) stray.push(`${relative(installed, file)}: ${spec}`);
      }
    }
    expect(stray).toEqual([]);
  });
});

describe('the installed fetchall', () => {
  it('--version and --help', async () => {
    const v = ok(await fetchall(['--version']), 'fetchall --version');
    expect(v.stdout.trim()).toBe(PKG.version);
    const h = ok(await fetchall(['--help']), 'fetchall --help');
    expect(h.stdout).toMatch(/^Usage: fetchall /);
    expect(h.stdout).toMatch(/--concurrency/);
  });

  it.each(['async', 'threads', 'inline'])('fetches a loopback URL in %s mode and writes its ndjson record', async (mode) => {
    const url = `${ctx.server.url}/bytes/100?pkg=${mode}`;
    const r = ok(await fetchall(['-m', mode, '-c', '2', '-f', 'ndjson', '-q', url]), `fetchall -m ${mode}`);
    const recs = ndjson(r.stdout);
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({ index: 0, url, mode, ok: true, status: 200, bytes: 100, error: null });
    expect(r.stderr).toBe('');
  });

  it('runs the offline demo (async mode, one run) against its own server', async () => {
    const r = ok(await fetchall(['demo', '--modes', 'async', '--runs', '1']), 'fetchall demo');
    expect(r.stdout).toMatch(/async: peak in flight claimed \d+, seen by the server \d+/);
  });
});

describe('the generated docs', () => {
  it.skipIf(!has('groff'))('the man page renders without a groff warning', async () => {
    const page = join(installed, 'dist', 'man', 'fetchall.1');
    const r = ok(await exec('groff', ['-man', '-Tutf8', '-ww', '-z', page], { cwd: home }), 'groff');
    expect(r.stderr).toBe('');
    if (has('man')) {
      const m = ok(
        await exec('man', ['-l', page], {
          cwd: home,
          env: cleanEnv({ MANWIDTH: '100', MANPAGER: 'cat', PAGER: 'cat' }),
        }),
        'man -l',
      );
      expect(m.stdout).toMatch(/^NAME\n\s+fetchall - Fetch a list of URLs/m);
      expect(m.stdout).toMatch(/^\s+-c, --concurrency n$/m);
      expect(m.stdout).toMatch(/^\s+fetchall demo \[options\]$/m);
      expect(m.stdout).toMatch(/^EXIT STATUS$/m);
    }
  });

  it.skipIf(!has('bash'))('the bash completion is valid bash and completes commands, choices and options', async () => {
    const file = join(installed, 'dist', 'completion', 'fetchall.bash');
    ok(await exec('bash', ['-n', file], { cwd: home }), 'bash -n');
    // complete a few command lines the way bash's completion would call the function
    const script = `
      source "$1"
      t() { COMP_WORDS=("$@"); COMP_CWORD=$((\${#COMP_WORDS[@]} - 1)); COMPREPLY=(); _fetchall; echo "\${COMPREPLY[*]}"; }
      t fetchall -m ''
      t fetchall de
      t fetchall -f n
      t fetchall compare --mo
      t fetchall serve --p
      complete -p fetchall`;
    const r = ok(await exec('bash', ['-c', script, 'bash', file], { cwd: home }), 'bash completion');
    expect(r.stdout.split('\n')).toEqual([
      'async threads processes inline',
      'demo',
      'ndjson',
      // compare runs every mode of --modes: it offers no -m/--mode
      '--modes',
      '--port',
      'complete -F _fetchall fetchall',
      '',
    ]);
  });

  it.skipIf(!has('zsh'))('the zsh completion is valid zsh', async () => {
    const file = join(installed, 'dist', 'completion', '_fetchall');
    ok(await exec('zsh', ['-n', file], { cwd: home }), 'zsh -n');
    expect(readFileSync(file, 'utf8')).toMatch(/^#compdef fetchall\n/);
  });
});
