// Another local user, during a run: what can `nobody` learn or reach? SECURITY.md promises no secret on
// any command line, no helper listening for requests, and private temp files. The old hole was a
// blocking helper listening on loopback with its port and key in argv, loading any file a peer named.
// A probe run as nobody (setpriv) reads every command line of the run, and tries to read the run's
// temp files; the test, as root, lists the sockets the run's processes hold and the temp files' modes.

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ndjson, start, track } from './helpers/cli.js';
import { leftover, processesTagged } from './helpers/procs.js';
import { useServer } from './helpers/server.js';
import { until, within } from './helpers/wait.js';
import { tool } from './helpers/world.js';

const NOBODY = 65534;

const why = (() => {
  if (process.getuid?.() !== 0) return 'not root: the test needs to run a probe as another user (setpriv) and read every process in /proc';
  if (tool('setpriv') === null) return 'setpriv not found (util-linux): the other-user test is skipped';
  return null;
})();
if (why) console.warn(`other-user skipped: ${why}`);

/**
 * The probe, run as nobody. Input (argv[2], JSON): pids, the secrets, the ports it may see in a command
 * line (the test server's), the files to try. Output (stdout, JSON): what it found.
 */
const PROBE = `
import { readFileSync, readdirSync } from 'node:fs';
const input = JSON.parse(process.argv[2]);
const found = { uid: process.getuid(), cmdline: [], readable: [], errors: {} };
// Every TCP port listening on this machine: /proc/net/tcp{,6} are world-readable.
const listening = new Set();
for (const f of ['/proc/net/tcp', '/proc/net/tcp6']) {
  let text = '';
  try { text = readFileSync(f, 'utf8'); } catch { continue; }
  for (const line of text.split('\\n').slice(1)) {
    const col = line.trim().split(/\\s+/);
    if (col[3] === '0A') listening.add(parseInt(col[1].split(':').pop(), 16));
  }
}
for (const pid of input.pids) {
  let argv;
  try { argv = readFileSync('/proc/' + pid + '/cmdline', 'latin1').split('\\0'); } catch { continue; }
  const line = argv.join(' ');
  for (const s of input.secrets) if (line.includes(s)) found.cmdline.push(pid + ': a secret: ' + line);
  if (/[0-9a-f]{32,}/i.test(line)) found.cmdline.push(pid + ': a hex key: ' + line);
  for (const n of line.match(/\\b\\d{2,5}\\b/g) ?? []) {
    if (listening.has(Number(n)) && !input.ports.includes(Number(n))) found.cmdline.push(pid + ': listening port ' + n + ': ' + line);
  }
  if (/--(port|key)\\b/.test(line)) found.cmdline.push(pid + ': a port/key flag: ' + line);
}
for (const f of input.files) {
  try {
    readFileSync(f);
    found.readable.push(f);
  } catch (e) {
    if (e.code === 'EISDIR') {
      try { readdirSync(f); found.readable.push(f); } catch (e2) { found.errors[f] = e2.code; }
    } else found.errors[f] = e.code;
  }
}
process.stdout.write(JSON.stringify(found));
`;

interface Findings {
  /** The probe's uid: nobody, or the probe proved nothing. */
  uid: number;
  /** Command lines holding a secret, a key, a listening port or a --port/--key flag. */
  cmdline: string[];
  /** Listening sockets (TCP or unix) held by the run's processes, as root sees them. */
  listening: string[];
  /** Temp files not 0600 or temp directories not 0700, as root sees them. */
  modes: string[];
  /** Temp files (or directories) nobody could read. */
  readable: string[];
  /** How each read failed for nobody (EACCES expected). */
  errors: Record<string, string>;
}

/** Inodes of listening sockets: TCP (state 0A) and unix (flag __SO_ACCEPTCON). */
function listeningInodes(): Map<string, string> {
  const byInode = new Map<string, string>();
  for (const f of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(f, 'utf8').split('\n').slice(1)) {
      const col = line.trim().split(/\s+/);
      if (col[3] === '0A') byInode.set(col[9]!, `tcp ${col[1]} (port ${Number.parseInt(col[1]!.split(':').pop()!, 16)})`);
    }
  }
  for (const line of readFileSync('/proc/net/unix', 'utf8').split('\n').slice(1)) {
    const col = line.trim().split(/\s+/);
    if (col.length >= 7 && (Number.parseInt(col[3]!, 16) & 0x10000) !== 0) byInode.set(col[6]!, `unix ${col[7] ?? '(unnamed)'}`);
  }
  return byInode;
}

/** Every descendant of pid (a helper started with a clean environment would escape the tag). */
function descendants(pid: number): number[] {
  const parent = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      parent.set(Number(name), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {}
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const [c, pp] of parent) {
      if (pp === p) {
        out.push(c);
        walk(c);
      }
    }
  };
  walk(pid);
  return out;
}

/** Root's view, then the probe's as nobody, of these processes and temp files. */
function inspect(probe: string, pids: number[], files: { path: string; mode: number }[], secrets: string[], ports: number[]): Findings {
  const sockets = listeningInodes();
  const listening: string[] = [];
  for (const pid of pids) {
    let fds: string[] = [];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const inode = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1];
        if (inode && sockets.has(inode)) listening.push(`${pid}: ${sockets.get(inode)}`);
      } catch {}
    }
  }
  const modes: string[] = [];
  for (const f of files) {
    const mode = statSync(f.path).mode & 0o777;
    if (mode !== f.mode) modes.push(`${f.path}: ${mode.toString(8)}, not ${f.mode.toString(8)}`);
  }
  const r = spawnSync(
    tool('setpriv')!,
    [
      `--reuid=${NOBODY}`,
      `--regid=${NOBODY}`,
      '--clear-groups',
      process.execPath,
      probe,
      JSON.stringify({ pids, secrets, ports, files: files.map((f) => f.path) }),
    ],
    { encoding: 'utf8', timeout: 20_000 },
  );
  if (r.status !== 0) throw new Error(`the probe failed (${r.status ?? r.signal}): ${r.stderr}`);
  const seen = JSON.parse(r.stdout) as Omit<Findings, 'listening' | 'modes'>;
  return { ...seen, listening, modes };
}

const ctx = useServer();

describe.skipIf(why !== null)(`another local user (nobody) during a run${why ? ` (skipped: ${why})` : ''}`, () => {
  let work: string;
  let probe: string;
  /** A bearer token and a body, given in files (never on the command line), as a user would keep secrets. */
  const token = randomBytes(24).toString('hex');
  const bodySecret = `password=${randomBytes(12).toString('base64url')}`;
  let headers: string;
  let body: string;

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'fetchall-other-user-'));
    // Open to anyone, so that only the run's own modes stand between nobody and its files.
    chmodSync(work, 0o755);
    probe = join(work, 'probe.mjs');
    writeFileSync(probe, PROBE, { mode: 0o644 });
    headers = join(work, 'headers.txt');
    writeFileSync(headers, `Authorization: Bearer ${token}\nX-Api-Key: ${token}\n`, { mode: 0o600 });
    body = join(work, 'body.bin');
    writeFileSync(body, bodySecret, { mode: 0o600 });
  });
  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('the probe runs as nobody and sees a planted leak: a key and a listening port in argv, a readable temp file', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = spawn(process.execPath, [
        '-e',
        'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port)})',
      ]);
      s.stdout!.once('data', (d) => {
        resolve(Number(String(d)));
        s.kill('SIGKILL');
      });
    });
    // The old helper's shape: listening on loopback, its port and key on its command line.
    const key = randomBytes(16).toString('hex');
    const plant: ChildProcess = track(
      spawn(process.execPath, [
        '-e',
        'require("net").createServer().listen(Number(process.argv[1]),"127.0.0.1",()=>console.log("up"))',
        '--',
        String(port),
        '--key',
        key,
      ]),
    );
    try {
      await new Promise<void>((resolve, reject) => {
        plant.stdout!.once('data', () => resolve());
        plant.once('exit', () => reject(new Error('the planted listener exited')));
      });
      const dir = join(work, 'plant-dir');
      mkdirSync(dir, { mode: 0o755 });
      const file = join(dir, 'body');
      writeFileSync(file, bodySecret, { mode: 0o644 });
      const f = inspect(
        probe,
        [plant.pid!],
        [
          { path: dir, mode: 0o700 },
          { path: file, mode: 0o600 },
        ],
        [bodySecret],
        [ctx.server.port],
      );
      expect(f.uid).toBe(NOBODY);
      expect(f.cmdline.join('\n')).toMatch(/a hex key/);
      expect(f.cmdline.join('\n')).toMatch(new RegExp(`listening port ${port}`));
      expect(f.listening).toEqual([`${plant.pid}: tcp 0100007F:${port.toString(16).toUpperCase().padStart(4, '0')} (port ${port})`]);
      expect(f.modes).toHaveLength(2);
      expect(f.readable.sort()).toEqual([dir, file].sort());
    } finally {
      plant.kill('SIGKILL');
    }
  });

  describe.each(['threads', 'processes', 'inline'] as const)('%s', (mode) => {
    it('nothing on any command line, nothing listening, temp files 0600 in 0700 and unreadable to nobody', async () => {
      const out = join(work, `out-${mode}`);
      mkdirSync(out, { mode: 0o755 });
      // The run's TMPDIR, open to anyone: its spooled body's directory must close itself.
      const tmp = join(work, `tmp-${mode}`);
      mkdirSync(tmp, { mode: 0o755 });
      const u = ctx.server.url;
      const s = start(
        [
          '-m',
          mode,
          '-c',
          '2',
          '-q',
          '-f',
          'ndjson',
          '-o',
          out,
          '-X',
          'POST',
          '-H',
          `@${headers}`,
          '--data-binary',
          `@${body}`,
          // A body being saved for 5 s (its .part), and a slow answer holding the run open.
          `${u}/drip/300000/5000?who=${mode}`,
          `${u}/delay/5000?who=${mode}`,
        ],
        { env: { TMPDIR: tmp } },
      );
      const spooled = () => readdirSync(tmp).filter((n) => n.startsWith('fetchall-body-'));
      const parts = () => readdirSync(out).filter((n) => n.endsWith('.part'));
      await until(() => parts().length > 0 && spooled().length > 0, 'a .part file under -o and the spooled body under TMPDIR');
      const pids = [...new Set([...processesTagged(s.tag), ...descendants(s.child.pid!)])];
      expect(pids).toContain(s.child.pid);
      if (mode === 'processes') expect(pids.length).toBeGreaterThanOrEqual(3);
      const spoolDir = join(tmp, spooled()[0]!);
      const files = [
        ...parts().map((n) => ({ path: join(out, n), mode: 0o600 })),
        { path: spoolDir, mode: 0o700 },
        ...readdirSync(spoolDir).map((n) => ({ path: join(spoolDir, n), mode: 0o600 })),
      ];
      const f = inspect(probe, pids, files, [token, bodySecret], [ctx.server.port]);
      expect(f.uid).toBe(NOBODY);
      expect(f.cmdline).toEqual([]);
      expect(f.listening).toEqual([]);
      expect(f.modes).toEqual([]);
      expect(f.readable).toEqual([]);
      expect(Object.values(f.errors)).toEqual(files.map(() => 'EACCES'));

      const r = await within(s.done, 'the run to end', 20_000);
      expect(r.code, r.stderr).toBe(0);
      // The secret did travel (the server logs x-* headers): it went by file and message, not argv.
      const seen = ctx.server.stats().requests.filter((q) => q.path.includes(`who=${mode}`));
      expect(seen).toHaveLength(2);
      for (const q of seen) expect(q.headers?.['x-api-key']).toBe(token);
      expect(spooled()).toEqual([]);
      expect(parts()).toEqual([]);
      // Once complete, a saved body is a new file as curl leaves one: 0666 less the umask.
      const umask = process.umask();
      for (const rec of ndjson(r.stdout) as { file: string | null }[]) {
        expect((statSync(rec.file!).mode & 0o777).toString(8)).toBe((0o666 & ~umask).toString(8));
      }
      expect(await leftover(r.tag)).toEqual([]);
    });
  });
});
