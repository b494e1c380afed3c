// -o with the same URL more than once, in every mode: each record keeps its own file, even when
// worker threads save the same URL at the same moment; a run again into the same directory, or two
// shards at once into one, never replace a file another record holds.

import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MODES } from '../src/core/types.js';
import { safeName } from '../src/engines/save.js';
import { ndjson, run } from './helpers/cli.js';
import { useServer } from './helpers/server.js';

const ctx = useServer();
type Rec = { index: number; ok: boolean; bytes: number; file: string | null; error: unknown };
const byIndex = (stdout: string) => (ndjson(stdout) as unknown as Rec[]).sort((a, b) => a.index - b.index);

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe.each(MODES)('%s mode', (mode) => {
  it("gives every record of a repeated URL its own file, and a second run keeps the first run's files", async () => {
    const dir = mkdtempSync(join(tmpdir(), `fetchall-dups-${mode}-`));
    dirs.push(dir);
    // The same slow URL six times at -c 6: in threads mode six workers finish it together.
    const same = `${ctx.server.url}/drip/40/150?dup-${mode}`;
    const other = `${ctx.server.url}/bytes/7?other-${mode}`;
    const list = [same, same, other, same, same, same, same];
    const once = async () => {
      const r = await run(['-m', mode, '-c', '6', '-o', dir, '-f', 'ndjson', ...list]);
      expect(r.code, r.stderr).toBe(0);
      const recs = byIndex(r.stdout);
      expect(recs.map((x) => x.ok)).toEqual(list.map(() => true));
      return recs;
    };
    const recs = await once();
    const files = recs.map((x) => x.file!);
    expect(new Set(files).size).toBe(list.length);
    for (const [i, f] of files.entries()) expect(readFileSync(f).length, f).toBe(recs[i]!.bytes);
    expect(readFileSync(files[2]!, 'latin1')).toBe('abcdefg');
    // The first to finish has the URL's usual name; each later one adds its own index.
    const name = safeName(same);
    const dupNames = files.filter((_, i) => list[i] === same).map((f) => basename(f));
    expect(dupNames.filter((n) => n === name)).toHaveLength(1);
    for (const [i, f] of files.entries()) {
      if (list[i] === same && basename(f) !== name) expect(basename(f)).toBe(`${name}-${i}`);
    }
    expect(basename(files[2]!)).toBe(safeName(other));
    // Nothing else in the directory: no temporaries, no claims.
    expect(readdirSync(dir).sort()).toEqual(files.map((f) => basename(f)).sort());

    // Again into the same directory: every name the first run took is kept, with its bytes.
    const again = await once();
    const second = again.map((x) => x.file!);
    expect(new Set([...files, ...second]).size).toBe(2 * list.length);
    for (const [i, f] of files.entries()) expect(readFileSync(f).length, f).toBe(recs[i]!.bytes);
    expect(readdirSync(dir).length).toBe(2 * list.length);
  });

  it('two shards writing one -o at once: every record names its own file', async () => {
    const dir = mkdtempSync(join(tmpdir(), `fetchall-shards-${mode}-`));
    dirs.push(dir);
    const same = `${ctx.server.url}/drip/40/100?shard-${mode}`;
    const list = [same, same, same, same];
    const shard = (k: number) => run(['-m', mode, '-o', dir, '-f', 'ndjson', '--shard', `${k}/2`, '--shard-by', 'index', ...list]);
    const [a, b] = await Promise.all([shard(1), shard(2)]);
    const files = [...byIndex(a.stdout), ...byIndex(b.stdout)].map((x) => x.file!);
    expect(files).toHaveLength(4);
    expect(new Set(files).size).toBe(4);
    for (const f of files) expect(readFileSync(f).length).toBe(40);
    expect(readdirSync(dir).sort()).toEqual(files.map((f) => basename(f)).sort());
  });
});
