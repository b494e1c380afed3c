// Every fault a real server can throw, in every mode, against the built-in misbehaving server;
// plus signals, a closed pipe and hostile names for saved bodies.

import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, NODE, ndjson, run, start, track } from './helpers/cli.js';
import { leftover, processesTagged } from './helpers/procs.js';
import { useServer } from './helpers/server.js';
import { until, within } from './helpers/wait.js';

const ctx = useServer();

type Rec = {
  index: number;
  ms: number;
  ok: boolean;
  status: number | null;
  bytes: number;
  attempts: number;
  error: { code: string; message: string } | null;
  file: string | null;
  url: string;
};
const byIndex = (stdout: string) => (ndjson(stdout) as unknown as Rec[]).sort((a, b) => a.index - b.index);

/** '1.5 GB', '58 MB', '900 B' (render/format.ts bytes(), SI units) → bytes. */
function sizeOf(text: string): number {
  const m = /^([\d.]+) ([kMGT]?)B$/.exec(text);
  if (!m) throw new Error(`not a size: ${text}`);
  return Number(m[1]) * 1000 ** ' kMGT'.indexOf(m[2] || ' ');
}

describe.each(['async', 'threads', 'processes', 'inline'] as const)('%s mode', (mode) => {
  it('fails each fault with a stable code, no stack trace, and fetches the rest', async () => {
    const u = ctx.server.url;
    const key = `${mode}-${Date.now()}`;
    const list = [
      `${u}/hang`, // 0
      `${u}/reset`, // 1
      `${u}/garbage`, // 2
      `${u}/loop`, // 3
      `${u}/redirect/2`, // 4
      `${u}/drip/600/300`, // 5
      `${u}/flaky/2?key=${key}`, // 6
      'http://127.0.0.1:9/', // 7
      'http://no-such-host.invalid/', // 8
      `${u}/redirect/9`, // 9
      `${u}/bytes/300000`, // 10
    ];
    const r = await run(['-m', mode, '-c', '4', '-t', '1500', '--retries', '2', '--max-size', '200k', '-f', 'ndjson', ...list]);
    expect(r.code).toBe(1);
    const recs = byIndex(r.stdout);
    expect(recs).toHaveLength(list.length);
    const code = (i: number) => recs[i]!.error?.code ?? null;
    expect(code(0)).toBe('TIMEOUT');
    expect(code(1)).toBe('SOCKET_CLOSED');
    expect(code(2)).toBe('PROTOCOL_ERROR');
    expect(code(3)).toBe('REDIRECT_LOOP');
    expect(recs[4]).toMatchObject({ ok: true, status: 200 });
    expect(recs[5]).toMatchObject({ ok: true, status: 200, bytes: 600 });
    expect(recs[6]).toMatchObject({ ok: true, status: 200, attempts: 3 });
    // the attempts the record claims are the requests the server saw
    expect(ctx.server.stats().requests.filter((q) => q.path.includes(`key=${key}`))).toHaveLength(3);
    // and the summary's retry count is the records' extra attempts
    const retries = recs.reduce((n, x) => n + Math.max(0, x.attempts - 1), 0);
    expect(r.stderr).toMatch(new RegExp(`\\b${retries} retr(y|ies)\\b`));
    expect(code(7)).toBe('ECONNREFUSED');
    expect(recs[7]!.attempts).toBe(3);
    expect(['ENOTFOUND', 'EAI_AGAIN']).toContain(code(8));
    expect(code(9)).toBe('TOO_MANY_REDIRECTS');
    expect(code(10)).toBe('SIZE_LIMIT');
    expect(r.stderr).not.toMatch(/\bat \S+:\d+:\d+|Error:|Warning/);
    expect(await leftover(r.tag)).toEqual([]);
  });

  it('sends what async sends: normalised, percent-encoded URLs', async () => {
    const u = ctx.server.url;
    const tag = `norm-${mode}-${Date.now()}`;
    const r = await run(['-m', mode, '-f', 'ndjson', `${u}/delay/1?u=é&${tag}`, `${u}/delay/1/../../status/201?${tag}#frag`]);
    expect(r.code, r.stderr).toBe(0);
    expect(byIndex(r.stdout).map((x) => x.status)).toEqual([200, 201]);
    const paths = ctx.server
      .stats()
      .requests.filter((q) => q.path.includes(tag))
      .map((q) => q.path)
      .sort();
    expect(paths).toEqual([`/delay/1?u=%C3%A9&${tag}`, `/status/201?${tag}`]);
  });

  it('fails an endless body on --max-size promptly, without buffering it', async () => {
    const r = await run(['-m', mode, '-c', '2', '-t', '20000', '--max-size', '1MB', '-f', 'ndjson', `${ctx.server.url}/endless`]);
    const [rec] = byIndex(r.stdout);
    expect(rec!.error?.code).toBe('SIZE_LIMIT');
    expect(rec!.ms).toBeLessThan(10_000);
    // Read both figures with their units (B, kB, MB, GB): a body buffered whole would show here.
    const memory = /memory\s+([\d.]+ [kMGT]?B)(?: \+ pool ([\d.]+ [kMGT]?B))? peak RSS/.exec(r.stderr);
    expect(memory, r.stderr).not.toBeNull();
    expect(sizeOf(memory![1]!)).toBeGreaterThan(10e6);
    expect(sizeOf(memory![1]!)).toBeLessThan(400e6);
    if (mode !== 'processes') expect(memory![2]).toBeUndefined();
    else {
      // two pool processes of ~70 MB each; a buffered body would add its size to one of them
      expect(memory![2], 'the pool processes’ memory').toBeDefined();
      expect(sizeOf(memory![2]!)).toBeLessThan(300e6);
    }
  });

  it('returns the 3xx itself with --max-redirects 0', async () => {
    const r = await run(['-m', mode, '--max-redirects', '0', '-f', 'ndjson', `${ctx.server.url}/redirect/1`]);
    expect(r.code).toBe(0);
    expect(byIndex(r.stdout)[0]).toMatchObject({ ok: true, status: 302 });
  });

  it('sends -X, -H and -A as the server sees them', async () => {
    const tag = `h-${mode}-${Date.now()}`;
    const r = await run([
      '-m',
      mode,
      '-X',
      'post',
      '-H',
      `X-Test: ${tag}`,
      '-H',
      'X-Other: 2',
      '-A',
      'probe/1.0',
      `${ctx.server.url}/headers?${tag}`,
      '-f',
      'ndjson',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const seen = ctx.server.stats().requests.find((q) => q.path.includes(tag));
    expect(seen?.headers).toMatchObject({ 'x-test': tag, 'x-other': '2', 'user-agent': 'probe/1.0' });
  });

  it('saves bodies under safe, unique names inside --output-dir only', async () => {
    const dir = mkdtempSync(join(tmpdir(), `fetchall-out-${mode}-`));
    const u = ctx.server.url;
    const hostile = [
      `${u}/bytes/10?name=../../../../tmp/evil`,
      `${u}/bytes/11?name=..%2F..%2Fetc%2Fpasswd`,
      `${u}/bytes/12?x=${'a'.repeat(3000)}`,
      `${u}/bytes/13?q=%00%0d%0a`,
      `${u}/bytes/14?a=1`,
      `${u}/bytes/14?a=2`,
      `${u}/status/404`,
    ];
    const r = await run(['-m', mode, '-o', dir, '-f', 'ndjson', ...hostile]);
    expect(r.code, r.stderr).toBe(1); // the 404
    const recs = byIndex(r.stdout);
    const files = recs.slice(0, 6).map((x) => x.file!);
    expect(new Set(files).size).toBe(6);
    for (const [i, f] of files.entries()) {
      expect(resolve(f).startsWith(`${resolve(dir)}/`)).toBe(true);
      const name = f.slice(resolve(dir).length + 1);
      expect(name).not.toMatch(/[/\\\u0000-\u001f]|^\.|\.\./);
      expect(name.length).toBeLessThanOrEqual(120);
      expect(statSync(f).size).toBe(recs[i]!.bytes);
    }
    expect(readFileSync(files[0]!, 'latin1')).toBe('abcdefghij');
    expect(recs[6]!.file).toBeNull();
    // nothing but the saved files: no temporaries left behind
    expect(readdirSync(dir).sort()).toEqual(files.map((f) => f.slice(resolve(dir).length + 1)).sort());
  });
});

describe('limits and stops', () => {
  it('threads: a worker that crashes or wedges fails only its URL and is replaced', async () => {
    const u = ctx.server.url;
    const list = [`${u}/delay/20?a`, `${u}/__crash__`, `${u}/delay/20?b`, `${u}/__wedge__`, `${u}/delay/20?c`, `${u}/delay/20?d`];
    const r = await run(['-m', 'threads', '-c', '2', '-t', '1000', '-f', 'ndjson', ...list], { env: { FETCHALL_FAULT_INJECTION: '1' } });
    expect(r.code).toBe(1);
    const recs = byIndex(r.stdout);
    expect(recs.map((x) => x.error?.code ?? 'ok')).toEqual(['ok', 'WORKER_CRASH', 'ok', 'TIMEOUT', 'ok', 'ok']);
    expect(recs[3]!.error!.message).toMatch(/worker replaced/);
    expect(r.stderr).not.toMatch(/\bat \S+:\d+:\d+/);
    expect(await leftover(r.tag)).toEqual([]);
  });

  it('processes: Ctrl-C during pool start-up stops at once and starts nothing more', async () => {
    const s = start(['-m', 'processes', '-c', '6', `${ctx.server.url}/delay/10?early`]);
    // Wait until the pool is visibly starting: its first member process exists.
    await until(() => processesTagged(s.tag).length >= 2, 'the first pool process');
    s.child.kill('SIGINT');
    const r = await within(s.done, 'the exit after SIGINT');
    expect(r.code).toBe(130);
    expect(r.stderr).not.toMatch(/\bat \S+:\d+:\d+/);
    // Nothing started: no request reached the server, no start line was printed, no helper is left.
    expect(ctx.server.stats().requests.some((q) => q.path.includes('early'))).toBe(false);
    expect(r.stdout).not.toMatch(/\bstart\b/);
    expect(await leftover(r.tag)).toEqual([]);
  });

  it('processes: a member process that dies fails its URL only; a new process takes its number', async () => {
    const u = ctx.server.url;
    const s = start(['-m', 'processes', '-c', '2', '-f', 'ndjson', `${u}/hang?dies`, `${u}/delay/5?after1`, `${u}/delay/5?after2`]);
    await until(() => ctx.server.stats().requests.some((q) => q.path.includes('dies')), 'the /hang request at the server');
    // Both other URLs recorded: the only request in flight is /hang, so killing both members fails it alone.
    await s.waitFor(/after1/);
    await s.waitFor(/after2/);
    const members = processesTagged(s.tag).filter((p) => p !== s.child.pid);
    expect(members).toHaveLength(2);
    for (const p of members) process.kill(p, 'SIGKILL');
    const r = await within(s.done, 'the run to finish after its members died');
    expect(r.code).toBe(1);
    const recs = byIndex(r.stdout);
    expect(recs[0]!.error?.code).toBe('WORKER_CRASH');
    expect(recs[0]!.error?.message).toMatch(/^process killed by SIGKILL$/);
    expect(recs.slice(1).map((x) => x.status)).toEqual([200, 200]);

    expect(await leftover(r.tag)).toEqual([]);
  });

  it('threads: a crashed worker leaves the relay thread serving the rest', async () => {
    const u = ctx.server.url;
    // The first URL is in flight at the relay thread while the other worker crashes.
    const list = [`${u}/delay/800?crash-a`, `${u}/__crash__`, `${u}/delay/5?crash-b`, `${u}/delay/5?crash-c`];
    const r = await run(['-m', 'threads', '-c', '2', '-f', 'ndjson', ...list], { env: { FETCHALL_FAULT_INJECTION: '1' } });
    expect(byIndex(r.stdout).map((x) => x.error?.code ?? x.status)).toEqual([200, 'WORKER_CRASH', 200, 200]);
    // a new worker took the crashed one's place: 2 workers at the end, no process beside the CLI
    expect(r.stderr).toMatch(/threads +4 \(main, relay, 2 workers\) +processes 1\n/);
    expect(await leftover(r.tag)).toEqual([]);
  });

  it('keeps --per-host at the server', async () => {
    const { server } = ctx;
    server.reset();
    const list = Array.from({ length: 8 }, (_, i) => `${server.url}/delay/150?ph=${i}`);
    for (const mode of ['async', 'threads']) {
      server.reset();
      const r = await run(['-m', mode, '-c', '8', '--per-host', '2', '-q', ...list]);
      expect(r.code, r.stderr).toBe(0);
      expect(server.stats().peak).toBe(2);
    }
  });

  it.each([
    ['async', 'SIGINT', 130],
    ['async', 'SIGTERM', 143],
    ['threads', 'SIGINT', 130],
    ['threads', 'SIGTERM', 143],
  ] as const)('%s: %s stops in-flight requests, prints the partial summary, exits %d, leaves nothing', async (mode, sig, code) => {
    const u = ctx.server.url;
    // --trace-exit: signals.ts's forced exit (3 s after a stop that hangs) is a process.exit() call and says so.
    const s = start(['-m', mode, '-c', '3', `${u}/hang?a`, `${u}/hang?b`, `${u}/delay/10?c`, `${u}/delay/10?d`], {
      env: { NODE_OPTIONS: '--trace-exit' },
    });
    await s.waitFor(/done\s+#3/);
    s.child.kill(sig);
    const r = await within(s.done, `the exit after ${sig}`);
    expect(r.code).toBe(code);
    // Stopped by itself, not by the forced exit: no process.exit() call.
    expect(r.stderr).not.toMatch(/Exited the environment/);
    expect(r.stderr).toMatch(new RegExp(`interrupted by ${sig}`));
    expect(r.stderr).toMatch(/2 ok\s+2 failed/);
    expect(r.stderr).not.toMatch(/\bat \S+:\d+:\d+/);
    expect(await leftover(r.tag)).toEqual([]);
  });

  it.each(['async', 'threads'])('%s: a closed pipe (| head -1) stops quietly with status 141', async (mode) => {
    const u = ctx.server.url;
    const list = Array.from({ length: 30 }, (_, i) => `${u}/delay/200?pipe-${mode}=${i}`).join(' ');
    const tag = `fetchall-test-pipe-${mode}-${Date.now()}`;
    // bash, for fetchall's own status (PIPESTATUS); the pipeline's would be head's.
    const child = track(
      spawn('bash', ['-c', `"${NODE}" "${BIN}" -m ${mode} -c 3 -f ndjson ${list} | head -1; echo "status=\${PIPESTATUS[0]}" >&2`], {
        env: { ...process.env, FETCHALL_TEST_TAG: tag, CI: 'true' },
      }),
      tag,
    );
    let out = '';
    let err = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (err += d));
    await within(new Promise((r) => child.on('close', r)), 'the pipeline to end');
    expect(out.split('\n').filter((l) => l.startsWith('{'))).toHaveLength(1);
    // SPEC: 141 when stdout closes.
    expect(err).toMatch(/^status=141$/m);
    // It stopped at the closed pipe rather than fetching the whole list into the void.
    const served = ctx.server.stats().requests.filter((q) => q.path.includes(`pipe-${mode}`)).length;
    expect(served).toBeLessThan(30);
    expect(err.replace(/^status=\d+\n/m, '')).not.toMatch(/EPIPE|Error|\bat \S+:\d+:\d+/);
    expect(await leftover(tag)).toEqual([]);
  });
});
