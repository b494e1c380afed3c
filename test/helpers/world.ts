// Servers nobody here wrote (python's http.server, nginx) on loopback, a fixture tree for them, and curl as the reference client.

import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { expect } from 'vitest';
import { type CliResult, ndjson, run } from './cli.js';
import { leftover } from './procs.js';

/** How long a server may take to answer on its port before the test fails (never falls through). */
export const START_DEADLINE_MS = 10_000;
/** How long a server may take to go after it is told to stop, before it is killed. */
const STOP_DEADLINE_MS = 5_000;

// ---------------------------------------------------------------------------------------------
// Tools

/** The path of an executable on PATH (and the sbin directories, where Debian puts nginx), or null. */
export function which(name: string): string | null {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/local/sbin', '/usr/sbin', '/sbin'];
  for (const d of dirs) {
    if (!d) continue;
    const p = join(d, name);
    if (existsSync(p)) return p;
  }
  return null;
}

/** Each tool and how to tell it really works here (a pyenv shim may exist without a python behind it). */
const PROBES: Record<string, { bin: string; args: string[] }> = {
  python3: { bin: 'python3', args: ['-c', 'import http.server'] },
  nginx: { bin: 'nginx', args: ['-v'] },
  curl: { bin: 'curl', args: ['--version'] },
  openssl: { bin: 'openssl', args: ['version'] },
  setpriv: { bin: 'setpriv', args: ['--version'] },
};

export type Tool = keyof typeof PROBES;

const found = new Map<string, string | null>();

/** The tool's path when it runs here, else null. */
export function tool(name: Tool): string | null {
  if (!found.has(name)) {
    const probe = PROBES[name]!;
    const path = which(probe.bin);
    const ok = path !== null && spawnSync(path, probe.args, { stdio: 'ignore', timeout: 10_000 }).status === 0;
    found.set(name, ok ? path : null);
  }
  return found.get(name)!;
}

const warned = new Set<string>();

/**
 * Why a file's tests cannot run (the tools missing), or null when they can. The reason is printed
 * once per file, so a skip is never silent; `.ci/run` installs the tools.
 */
export function missing(what: string, ...tools: Tool[]): string | null {
  const absent = tools.filter((t) => tool(t) === null);
  if (absent.length === 0) return null;
  const why = `${absent.join(', ')} not found: the ${what} interop tests are skipped (.ci/run installs them with apt-get)`;
  if (!warned.has(why)) {
    warned.add(why);
    console.warn(why);
  }
  return why;
}

// ---------------------------------------------------------------------------------------------
// The fixture tree

/** Files served by both servers, by their path on disk under the root. Random bodies: no server may transform them unseen. */
export function fixtureFiles(): Record<string, Buffer> {
  return {
    'small.txt': Buffer.from('hello from a server nobody here wrote\n'),
    '100k.bin': randomBytes(100 * 1024),
    '3m.bin': randomBytes(3 * 1024 * 1024),
    'empty.txt': Buffer.alloc(0),
    'with space%.txt': Buffer.from('a name curl and fetchall must both percent-encode the same way\n'),
    'dir/a.txt': Buffer.from('a\n'),
    'dir/b.bin': randomBytes(1000),
  };
}

/**
 * URL paths over the fixture tree: files, the odd name percent-encoded, two directory listings
 * (the root one lists the odd name, escaped by the server) and a missing path (404).
 */
export const FIXTURE_PATHS = ['/small.txt', '/100k.bin', '/3m.bin', '/empty.txt', '/with%20space%25.txt', '/dir/', '/', '/no-such-file'];

/** Make a temp directory holding the fixture files. */
export function makeFixtureRoot(): string {
  const root = mkdtempSync(join(tmpdir(), 'fetchall-world-root-'));
  for (const [name, body] of Object.entries(fixtureFiles())) {
    const path = join(root, name);
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, body);
  }
  return root;
}

/**
 * The edges for nginx, by path under the root: sizes around nginx's and Node's 16 KiB buffers and
 * large ones (random bytes), a page nginx sends chunked (SSI: it includes /100k.bin), a .gz served
 * as application/gzip, and one served from gzip_static with `Content-Encoding: gzip`.
 */
export function edgeFiles(): Record<string, Buffer> {
  const sized = [0, 1, 16383, 16384, 16385, 1024 * 1024, 12 * 1024 * 1024];
  const files: Record<string, Buffer> = Object.fromEntries(sized.map((n) => [`edge/${n}.bin`, randomBytes(n)]));
  files['chunked/page.html'] = Buffer.from('<p>before</p>\n<!--# include virtual="/100k.bin" -->\n<p>after</p>\n');
  const text = Buffer.from('compressed on disk, never to be inflated by a client that did not ask\n'.repeat(200));
  files['raw/hello.txt.gz'] = gzipSync(text);
  files['gzs/hello.txt.gz'] = gzipSync(text, { level: 1 });
  return files;
}

/** URL paths of the edges (the gzip_static one by the name without .gz). */
export const EDGE_PATHS = [
  ...[0, 1, 16383, 16384, 16385, 1024 * 1024, 12 * 1024 * 1024].map((n) => `/edge/${n}.bin`),
  '/chunked/page.html',
  '/raw/hello.txt.gz',
  '/gzs/hello.txt',
];

/** Write files under root. */
export function writeFiles(root: string, files: Record<string, Buffer>): void {
  for (const [name, body] of Object.entries(files)) {
    const path = join(root, name);
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, body);
  }
}

/**
 * A CA and a server certificate it signed for 127.0.0.1 (CN and IP SAN), made with openssl in dir:
 * `ca` the CA's PEM, `chain` the server's then the CA's (what nginx sends), `key` the server's key.
 */
export function makeTls(dir: string): { ca: string; chain: string; key: string } {
  const ssl = (...args: string[]) => {
    const r = spawnSync(tool('openssl')!, args, { cwd: dir, encoding: 'utf8', timeout: 30_000 });
    if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
  };
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  ssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=fetchall test CA');
  ssl('req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1');
  writeFileSync(
    join(dir, 'server.ext'),
    'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n',
  );
  ssl(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-set_serial',
    '0x1f2e3d',
    '-days',
    '2',
    '-extfile',
    'server.ext',
    '-out',
    'server.pem',
  );
  writeFileSync(join(dir, 'chain.pem'), readFileSync(join(dir, 'server.pem'), 'utf8') + readFileSync(join(dir, 'ca.pem'), 'utf8'));
  return { ca: join(dir, 'ca.pem'), chain: join(dir, 'chain.pem'), key: join(dir, 'server.key') };
}

// ---------------------------------------------------------------------------------------------
// Servers

export interface WorldServer {
  /** `http://127.0.0.1:PORT`, no trailing slash. */
  base: string;
  /** The process we started (nginx: the master). */
  pid: number;
  /** Its output so far (python's request log, nginx's error log), for failure messages. */
  log(): string;
  /** Stop it, wait until it and every process it started are gone; rejects naming any left. */
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
// A test file that dies before its afterAll must not leave a server behind.
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

function track(child: ChildProcess, output: { text: string }): void {
  running.add(child);
  child.once('exit', () => running.delete(child));
  const keep = (d: Buffer) => {
    output.text = (output.text + d.toString('utf8')).slice(-16_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
}

/** Resolve once a TCP connection to the port succeeds; reject at the deadline or when the server's process ends first. */
async function answers(port: number, child: ChildProcess, what: string, log: () => string): Promise<void> {
  const end = Date.now() + START_DEADLINE_MS;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${what} exited (${child.exitCode ?? child.signalCode}) before answering on port ${port}:\n${log()}`);
    }
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host: '127.0.0.1', port });
      s.setTimeout(1000);
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('timeout', () => {
        s.destroy();
        resolve(false);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > end) throw new Error(`${what} did not answer on 127.0.0.1:${port} within ${START_DEADLINE_MS} ms:\n${log()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A port free at this moment (the server that takes it may lose a race: callers retry). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** Children of a process, from /proc (nginx's workers are its master's). */
function childrenOf(pid: number): number[] {
  const kids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // pid (comm) state ppid …; comm may hold spaces and parentheses, so read after the last ')'.
      const [, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(ppid) === pid) kids.push(Number(name));
    } catch {}
  }
  return kids;
}

/** Alive and not a zombie. */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

async function stopChild(child: ChildProcess, signal: NodeJS.Signals, what: string): Promise<void> {
  const pid = child.pid!;
  const family = [pid, ...childrenOf(pid)];
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), STOP_DEADLINE_MS);
    });
    if ((await Promise.race([exited, late])) === 'late') {
      child.kill('SIGKILL');
      await exited;
    }
    clearTimeout(timer);
  }
  // The master's exit is not its workers': give the kernel a moment, then any survivor is a failure.
  const end = Date.now() + 2000;
  let left = family.filter(alive);
  while (left.length > 0 && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 50));
    left = family.filter(alive);
  }
  for (const p of left) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {}
  }
  if (left.length > 0) throw new Error(`${what}: processes ${left.join(', ')} still alive after stop (killed now)`);
}

/** `python3 -m http.server` on 127.0.0.1, port 0 (it prints the port it got), serving root. HTTP/1.0, a close after each body. */
export async function startPython(root: string): Promise<WorldServer> {
  const out = { text: '' };
  // -u: the "Serving HTTP on … port N" line is printed at once, not when a buffer fills.
  const child = spawn(tool('python3')!, ['-u', '-m', 'http.server', '0', '--bind', '127.0.0.1', '--directory', root], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  track(child, out);
  const log = () => out.text;
  const end = Date.now() + START_DEADLINE_MS;
  let port: number | null = null;
  while (port === null) {
    port = Number(/ port (\d+) /.exec(out.text)?.[1] ?? '') || null;
    if (port !== null) break;
    if (child.exitCode !== null || child.signalCode !== null || Date.now() > end) {
      child.kill('SIGKILL');
      throw new Error(`python3 -m http.server printed no port within ${START_DEADLINE_MS} ms:\n${log()}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  try {
    await answers(port, child, 'python3 -m http.server', log);
  } catch (err) {
    await stopChild(child, 'SIGKILL', 'python3 -m http.server').catch(() => {});
    throw err;
  }
  return { base: `http://127.0.0.1:${port}`, pid: child.pid!, log, stop: () => stopChild(child, 'SIGTERM', 'python3 -m http.server') };
}

/** The extra server blocks of one nginx: a keep-alive-stingy one and a TLS one. */
export interface NginxExtras {
  /** A server that closes a connection after 3 requests or 1 s idle (`keepalive_requests 3; keepalive_timeout 1s`). */
  keepalivePort?: number;
  /** A TLS server with this certificate chain (PEM, leaf first) and key. */
  tls?: { port: number; cert: string; key: string };
}

/** nginx.conf for one test server: everything it writes is under dir, it stays in the foreground. */
export function nginxConfig(dir: string, root: string, port: number, extras: NginxExtras = {}): string {
  const user = process.getuid?.() === 0 ? 'user root;' : ''; // as root, workers would otherwise be nobody, who cannot read a 0700 temp dir
  const keepalive =
    extras.keepalivePort === undefined
      ? ''
      : `
  server {
    listen 127.0.0.1:${extras.keepalivePort};
    root ${root};
    keepalive_requests 3;
    keepalive_timeout 1s;
    location = /conn { default_type text/plain; return 200 "$connection $connection_requests\\n"; }
  }`;
  const tls =
    extras.tls === undefined
      ? ''
      : `
  server {
    listen 127.0.0.1:${extras.tls.port} ssl;
    ssl_certificate ${extras.tls.cert};
    ssl_certificate_key ${extras.tls.key};
    root ${root};
    autoindex on;
    location = /redirect { return 302 /small.txt; }
  }`;
  return `${user}
daemon off;
master_process on;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  gzip off;
  types { text/plain txt; text/html html; application/octet-stream bin; application/gzip gz; }
  default_type application/octet-stream;
  server {
    listen 127.0.0.1:${port};
    root ${root};
    autoindex on;
    location = /redirect { return 302 /small.txt; }
    location = /redirect2 { return 302 /redirect; }
    location = /error { return 500; }
    # Which connection served the request and its place on it: keep-alive seen from the server.
    location = /conn { default_type text/plain; return 200 "$connection $connection_requests\\n"; }
    # SSI drops Content-Length: nginx sends these bodies chunked (HTTP/1.1), its includes as chunks.
    location /chunked/ { ssi on; ssi_types *; }
    # A .gz sent as it is on disk, with Content-Encoding: gzip, whatever the client accepts.
    location /gzs/ { gzip_static always; }
  }${keepalive}${tls}
}
`;
}

export interface NginxServer extends WorldServer {
  /** The keep-alive-stingy server's `http://127.0.0.1:PORT`, when asked for. */
  keepaliveBase: string | null;
  /** The TLS server's `https://127.0.0.1:PORT`, when asked for. */
  tlsBase: string | null;
}

/** nginx in the foreground as the current user on free loopback ports, with the config above (and the extra servers asked for). */
export async function startNginx(
  root: string,
  want: { keepalive?: boolean; tls?: { cert: string; key: string } } = {},
): Promise<NginxServer> {
  const dir = mkdtempSync(join(tmpdir(), 'fetchall-world-nginx-'));
  let lastErr: unknown;
  // A free port can be taken between our check and nginx's bind: a few tries.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const extras: NginxExtras = {};
    if (want.keepalive) extras.keepalivePort = await freePort();
    if (want.tls) extras.tls = { port: await freePort(), ...want.tls };
    const ports = [port, extras.keepalivePort, extras.tls?.port].filter((p): p is number => p !== undefined);
    if (new Set(ports).size !== ports.length) continue;
    writeFileSync(join(dir, 'nginx.conf'), nginxConfig(dir, root, port, extras));
    const out = { text: '' };
    // -e: nginx opens its compiled-in error log before reading the config; this one is ours.
    const child = spawn(tool('nginx')!, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    track(child, out);
    const log = () => {
      let errorLog = '';
      try {
        errorLog = readFileSync(join(dir, 'error.log'), 'utf8');
      } catch {}
      return out.text + errorLog;
    };
    try {
      for (const p of ports) await answers(p, child, 'nginx', log);
    } catch (err) {
      lastErr = err;
      await stopChild(child, 'SIGKILL', 'nginx').catch(() => {});
      if (/Address already in use/.test(log())) continue;
      break;
    }
    return {
      base: `http://127.0.0.1:${port}`,
      keepaliveBase: extras.keepalivePort === undefined ? null : `http://127.0.0.1:${extras.keepalivePort}`,
      tlsBase: extras.tls === undefined ? null : `https://127.0.0.1:${extras.tls.port}`,
      pid: child.pid!,
      log,
      stop: async () => {
        // SIGTERM: nginx's fast shutdown; the master stops its workers, then exits.
        await stopChild(child, 'SIGTERM', 'nginx');
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  rmSync(dir, { recursive: true, force: true });
  throw lastErr;
}

// ---------------------------------------------------------------------------------------------
// curl, the reference

export interface CurlResult {
  status: number;
  bytes: number;
  sha256: string;
  urlEffective: string;
  redirects: number;
  /** curl's %{content_type}: '' when the response had none. */
  contentType: string;
}

export const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Fetch url with curl into a file under dir, following redirects as fetchall does by default. */
export function curl(url: string, dir: string, name: string, extra: string[] = []): Promise<CurlResult> {
  const file = join(dir, name);
  const args = ['-s', '-L', '--noproxy', '*', '--max-time', '30', ...extra, '-o', file];
  args.push('-w', '%{http_code} %{size_download} %{num_redirects} %{url_effective}\\n%{content_type}', url);
  return new Promise((resolve, reject) => {
    execFile(tool('curl')!, args, { encoding: 'utf8' }, (err, stdout) => {
      if (err) return reject(new Error(`curl ${url}: ${err.message}`));
      const [line = '', contentType = ''] = stdout.split('\n');
      const [status, bytes, redirects, urlEffective] = line.split(' ');
      // curl writes no file for an empty body.
      const body = existsSync(file) ? readFileSync(file) : Buffer.alloc(0);
      resolve({
        status: Number(status),
        bytes: Number(bytes),
        sha256: sha256(body),
        urlEffective: urlEffective!,
        redirects: Number(redirects),
        contentType,
      });
    });
  });
}

/** curl every URL, one after another; the answers by URL. */
export async function curlAll(urls: string[], dir: string, extra: string[] = []): Promise<Map<string, CurlResult>> {
  const byUrl = new Map<string, CurlResult>();
  let n = 0;
  for (const u of urls) if (!byUrl.has(u)) byUrl.set(u, await curl(u, dir, `curl-${n++}-${randomBytes(3).toString('hex')}`, extra));
  return byUrl;
}

// ---------------------------------------------------------------------------------------------
// fetchall's records against curl's answers

/** The fields of a record these tests compare. */
export interface Rec {
  index: number;
  url: string;
  ok: boolean;
  status: number | null;
  bytes: number;
  file: string | null;
  error: { code: string; message: string } | null;
  final_url: string | null;
  redirects: number;
  content_type: string | null;
}

export interface Seen {
  url: string;
  status: number | null;
  bytes: number;
  ok: boolean;
  final_url: string | null;
  redirects: number;
  content_type: string | null;
  /** sha256 of the saved file; null when no file was saved. */
  saved: string | null;
}

/**
 * What fetchall should have recorded for each URL of list, from curl's answer: the same status,
 * bytes, final URL, redirect count and content type; ok below 400; with -o, a 2xx/3xx body saved
 * whose sha256 is curl's. fetchall saves no body for a status ≥ 400 (src/engines: only a
 * response below 400 opens its file), where `curl -o` keeps the error page: that is expected here.
 */
export function expectedFromCurl(list: string[], ref: Map<string, CurlResult>, saving: boolean): Seen[] {
  return list.map((url) => {
    const c = ref.get(url)!;
    return {
      url,
      status: c.status,
      bytes: c.bytes,
      ok: c.status < 400,
      final_url: c.urlEffective,
      redirects: c.redirects,
      content_type: c.contentType === '' ? null : c.contentType,
      saved: saving && c.status < 400 ? c.sha256 : null,
    };
  });
}

/** The same view of fetchall's records, in input order; a missing index is a hole (undefined) the comparison shows. */
export function seenInRecords(recs: Rec[], n: number): (Seen | undefined)[] {
  const byIndex = new Map(recs.map((r) => [r.index, r]));
  return Array.from({ length: n }, (_, i) => {
    const r = byIndex.get(i);
    if (!r) return undefined;
    return {
      url: r.url,
      status: r.status,
      bytes: r.bytes,
      ok: r.ok,
      final_url: r.final_url,
      redirects: r.redirects,
      content_type: r.content_type,
      saved: r.file === null ? null : sha256(readFileSync(r.file)),
    };
  });
}

/** Names in an -o directory that are a body still being written (or left behind). */
export function partFiles(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.part') || f.startsWith('.')) : [];
}

/**
 * Fetch `list` in `mode` (saving into `out` when given) and hold every record to curl's answer
 * (expectedFromCurl): one record per URL, no stack trace, every saved file inside `out`, no `.part`
 * left, no process left. Returns the run, for its exit code.
 */
export async function fetchAsCurlSaw(
  mode: string,
  list: string[],
  ref: Map<string, CurlResult>,
  out: string | null,
  concurrency = 4,
): Promise<CliResult> {
  const r = await run(['-m', mode, '-c', String(concurrency), '-f', 'ndjson', ...(out ? ['-o', out] : []), ...list]);
  expect(r.stderr).not.toMatch(/AssertionError|internal error|\bat \S+:\d+:\d+/);
  const recs = ndjson(r.stdout) as unknown as Rec[];
  expect(recs).toHaveLength(list.length);
  expect(seenInRecords(recs, list.length)).toEqual(expectedFromCurl(list, ref, out !== null));
  if (out !== null) {
    for (const rec of recs) if (rec.file !== null) expect(rec.file.startsWith(out)).toBe(true);
    expect(partFiles(out)).toEqual([]);
  }
  expect(await leftover(r.tag)).toEqual([]);
  return r;
}
