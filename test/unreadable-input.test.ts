// A source that cannot be read, at its open or part-way through: one line naming it, the other
// URLs still run, the summary prints, exit 2 — in every mode and in compare; never a crash.

import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { type InputItem, readJobs } from '../src/input.js';
import { ndjson, run } from './helpers/cli.js';
import { useServer } from './helpers/server.js';

const ctx = useServer();
const MODES = ['async', 'threads', 'processes', 'inline'] as const;

/** Reading /proc/self/mem from offset 0 fails with EIO for anyone (the page at 0 is unmapped). */
const EIO_FILE = '/proc/self/mem';

/** A path whose open fails with EACCES for this user, or null (root may read everything here). */
function eaccesPath(): string | null {
  for (const p of ['/proc/1/environ', '/etc/shadow']) {
    try {
      readFileSync(p);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EACCES') return p;
    }
  }
  return null;
}

describe('an unreadable source in a run', () => {
  for (const mode of MODES) {
    it(`${mode}: one 'cannot read' line, the other URLs done, the summary, exit 2`, async () => {
      const base = ctx.server.url;
      const r = await run(['-m', mode, '-c', '2', '-f', 'ndjson', `${base}/delay/200?a`, EIO_FILE, `${base}/delay/10?b`]);
      expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
      const lines = r.stderr.split('\n').filter((l) => l.includes(EIO_FILE));
      expect(lines).toEqual([`fetchall: ${EIO_FILE}: cannot read: input/output error`]);
      const recs = ndjson(r.stdout);
      expect(recs.map((x) => [x.url, x.ok])).toEqual(
        expect.arrayContaining([
          [`${base}/delay/200?a`, true],
          [`${base}/delay/10?b`, true],
        ]),
      );
      expect(recs).toHaveLength(2);
      // The summary on stderr (machine formats put it there).
      expect(r.stderr).toMatch(/2 URLs/);
      expect(r.code).toBe(2);
    });
  }

  it.skipIf(eaccesPath() === null)(
    'a file that cannot be opened says "permission denied", as a missing one says "no such file"',
    async () => {
      const path = eaccesPath()!;
      const r = await run([`${ctx.server.url}/delay/10`, path]);
      expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
      expect(r.stderr).toContain(`fetchall: ${path}: cannot read: permission denied\n`);
      expect(r.stdout).toMatch(/done\s+#0/);
      expect(r.code).toBe(2);
    },
  );

  it('the only source unreadable: that line alone, exit 2', async () => {
    const r = await run([EIO_FILE]);
    expect(r.stderr).toBe(`fetchall: ${EIO_FILE}: cannot read: input/output error\n`);
    expect(r.code).toBe(2);
  });

  it('compare: the line once, both modes run the other URLs, the table prints, exit 2', async () => {
    const base = ctx.server.url;
    const r = await run(['compare', '--modes', 'threads,async', '-c', '2', '-q', `${base}/delay/10?a`, EIO_FILE, `${base}/delay/10?b`]);
    expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
    expect(r.stderr.split('\n').filter((l) => l.includes('cannot read'))).toEqual([
      `fetchall: ${EIO_FILE}: cannot read: input/output error`,
    ]);
    expect(r.stdout).toMatch(/threads/);
    expect(r.stdout).toMatch(/async/);
    expect(r.code).toBe(2);
  });
});

describe('readJobs: a read error part-way through a source', () => {
  it('keeps the lines read before it, names the source once, and goes on to the next source', async () => {
    let sent = false;
    // Two lines, then EIO: what a failing disk or a revoked mount does mid-file.
    const failing = new Readable({
      read() {
        if (!sent) {
          sent = true;
          this.push('http://a.test/1\nhttp://a.test/2\nhttp://a.te');
        } else this.destroy(Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO', syscall: 'read' }));
      },
    });
    const errors: string[] = [];
    const items: InputItem[] = [];
    for await (const item of readJobs([{ kind: 'stdin' }, { kind: 'url', url: 'http://b.test/' }], failing, undefined, (e) =>
      errors.push(e.message),
    )) {
      items.push(item);
    }
    expect(items.map((i) => (i.kind === 'job' ? i.job.url : i.text))).toEqual(['http://a.test/1', 'http://a.test/2', 'http://b.test/']);
    expect(errors).toEqual(['<stdin>: cannot read: input/output error']);
  });
});
