// The job queues by value: FIFO order, and the per-host limit at N and N+1 per origin.

import { describe, expect, it } from 'vitest';
import { originOf } from '../src/core/rules.js';
import type { Job } from '../src/core/types.js';
import { createQueue, FifoQueue, PerHostQueue } from '../src/scheduler/queue.js';

const job = (index: number, url: string): Job => ({ index, url });
const drain = (q: { shift(): Job | null }) => {
  const out: number[] = [];
  for (let j = q.shift(); j !== null; j = q.shift()) out.push(j.index);
  return out;
};

describe('FifoQueue', () => {
  it('gives jobs back in order, then null, keeping its size', () => {
    const q = new FifoQueue();
    expect(q.size).toBe(0);
    expect(q.shift()).toBeNull();
    for (let i = 0; i < 3; i++) q.push(job(i, `http://a/${i}`));
    expect(q.size).toBe(3);
    expect(q.shift()).toEqual(job(0, 'http://a/0'));
    expect(q.size).toBe(2);
    q.release(job(0, 'http://a/0'));
    expect(drain(q)).toEqual([1, 2]);
    expect(q.size).toBe(0);
  });
});

describe('PerHostQueue', () => {
  it.each([1, 2, 3])('limit %i: N jobs of one origin may start, the N+1th waits for a release', (n) => {
    const q = new PerHostQueue(n);
    for (let i = 0; i <= n; i++) q.push(job(i, `http://a.test/${i}`));
    expect(q.size).toBe(n + 1);
    expect(drain(q)).toEqual(Array.from({ length: n }, (_, i) => i));
    expect(q.size).toBe(1);
    q.release(job(0, 'http://a.test/0'));
    expect(q.shift()?.index).toBe(n);
    expect(q.shift()).toBeNull();
    expect(q.size).toBe(0);
  });

  it('a full origin does not hold back another one, and each keeps its order', () => {
    const q = new PerHostQueue(1);
    q.push(job(0, 'http://a.test/0'));
    q.push(job(1, 'http://a.test/1'));
    q.push(job(2, 'http://b.test/0'));
    q.push(job(3, 'http://a.test/2'));
    q.push(job(4, 'http://b.test/1'));
    expect(drain(q)).toEqual([0, 2]);
    q.release(job(2, 'http://b.test/0'));
    expect(drain(q)).toEqual([4]);
    q.release(job(0, 'http://a.test/0'));
    expect(drain(q)).toEqual([1]);
    q.release(job(1, 'http://a.test/1'));
    expect(drain(q)).toEqual([3]);
    expect(q.size).toBe(0);
  });

  it('counts in flight even once nothing of that origin waits', () => {
    const q = new PerHostQueue(1);
    q.push(job(0, 'http://a.test/0'));
    expect(q.shift()?.index).toBe(0);
    q.push(job(1, 'http://a.test/1'));
    expect(q.shift()).toBeNull();
    q.release(job(0, 'http://a.test/0'));
    expect(q.shift()?.index).toBe(1);
  });

  it('an origin is scheme, host and port', () => {
    const q = new PerHostQueue(1);
    const urls = ['http://a.test/x', 'http://a.test:80/y', 'https://a.test/z', 'http://a.test:8080/w', 'http://b.test/v'];
    for (const [i, u] of urls.entries()) q.push(job(i, u));
    // :80 is http's default port: the same origin as the first, so it waits.
    expect(drain(q)).toEqual([0, 2, 3, 4]);
  });
});

describe('createQueue', () => {
  it('without --per-host every job may start', () => {
    const q = createQueue(null);
    for (let i = 0; i < 5; i++) q.push(job(i, 'http://a.test/'));
    expect(drain(q)).toEqual([0, 1, 2, 3, 4]);
  });

  it('with --per-host N, N per origin', () => {
    const q = createQueue(2);
    for (let i = 0; i < 5; i++) q.push(job(i, 'http://a.test/'));
    expect(drain(q)).toEqual([0, 1]);
  });
});

describe('originOf', () => {
  it('is the URL origin; an unparsable URL is its own', () => {
    expect(originOf('HTTP://Example.COM:80/a?b#c')).toBe('http://example.com');
    expect(originOf('https://example.com:8443/')).toBe('https://example.com:8443');
    expect(originOf('not a url')).toBe('not a url');
  });
});
