// The one writer (src/render/write.ts) on an in-memory stream: live lines at once, machine output
// batched per turn of the loop or per 64 kB, nothing after the reader went away, drain honoured.

import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { Out } from '../src/render/write.js';

/** A stream that records each write; with `hold`, it keeps every write pending until released. */
function sink(hold = false) {
  const writes: string[] = [];
  let release: (() => void) | null = null;
  const stream = new Writable({
    highWaterMark: 16,
    write(chunk, _enc, done) {
      writes.push(String(chunk));
      if (hold) release = done;
      else done();
    },
  });
  return { stream, writes, release: () => release?.() };
}

const turn = () => new Promise((r) => setImmediate(r));

describe('Out', () => {
  it('writes each live line at once', () => {
    const { stream, writes } = sink();
    const out = new Out(stream, true);
    out.line('a');
    out.line('b');
    expect(writes).toEqual(['a\n', 'b\n']);
  });

  it('batches machine output into one write per turn of the loop', async () => {
    const { stream, writes } = sink();
    const out = new Out(stream, false);
    out.line('a');
    out.line('b');
    expect(writes).toEqual([]);
    await turn();
    expect(writes).toEqual(['a\nb\n']);
    out.line('c');
    await turn();
    expect(writes).toEqual(['a\nb\n', 'c\n']);
  });

  it('writes a batch as soon as it reaches 64 kB', () => {
    const { stream, writes } = sink();
    const out = new Out(stream, false);
    const line = 'x'.repeat(1023); // 1 kB with its newline
    for (let i = 0; i < 63; i++) out.line(line);
    expect(writes).toEqual([]);
    out.line(line);
    expect(writes).toHaveLength(1);
    expect(writes[0]).toHaveLength(64 * 1024);
    out.flush();
    expect(writes).toHaveLength(1);
  });

  it('drops everything once closed', async () => {
    const { stream, writes } = sink();
    const out = new Out(stream, false);
    out.line('kept');
    out.closed = true;
    out.line('dropped');
    out.flush();
    await turn();
    expect(writes).toEqual([]);
    const live = new Out(stream, true);
    live.closed = true;
    live.line('dropped');
    expect(writes).toEqual([]);
  });

  it('drain() flushes, then waits for the stream to drain', async () => {
    const { stream, writes, release } = sink(true);
    const out = new Out(stream, false);
    out.line('x'.repeat(100));
    let drained = false;
    const done = out.drain().then(() => {
      drained = true;
    });
    expect(writes).toHaveLength(1);
    await turn();
    expect(drained).toBe(false);
    release();
    await done;
    expect(drained).toBe(true);
  });

  it('drain() resolves at once with nothing pending, when closed, or on an error', async () => {
    /** Whether p settled within one turn of the loop, with nothing released. */
    const settles = async (p: Promise<void>) => {
      let done = false;
      void p.then(() => {
        done = true;
      });
      await turn();
      return done;
    };
    const empty = sink();
    expect(await settles(new Out(empty.stream, false).drain())).toBe(true);
    expect(empty.writes).toEqual([]);

    // Closed with a write still held: nothing more is written, and drain does not wait for it.
    const held = sink(true);
    const out = new Out(held.stream, false);
    out.line('x'.repeat(100));
    out.flush();
    expect(held.writes).toEqual([`${'x'.repeat(100)}\n`]);
    out.closed = true;
    out.line('dropped');
    expect(await settles(out.drain())).toBe(true);
    expect(held.writes).toHaveLength(1);

    // A stream that errors while drain waits: drain resolves rather than hang.
    const failing = sink(true);
    const out2 = new Out(failing.stream, false);
    out2.line('y'.repeat(100));
    const p = out2.drain();
    expect(failing.writes).toEqual([`${'y'.repeat(100)}\n`]);
    expect(await settles(p)).toBe(false);
    failing.stream.on('error', () => {});
    failing.stream.destroy(new Error('EPIPE'));
    expect(await settles(p)).toBe(true);
  });
});
