// The one-line notices about the machine's limits: what they suggest is always more than there is.

import { describe, expect, it } from 'vitest';
import { fdLimitNotice, shortPoolNotice } from '../src/render/notices.js';

describe('the open-file limit notices', () => {
  it('says the limit, why -c cannot work under it, and a limit with room for -c', () => {
    expect(fdLimitNotice(64, 100)).toBe(
      'fetchall: out of file descriptors: the open-file limit is 64 (ulimit -n) and each request in flight needs one, so -c 100 cannot work under it; raise it (ulimit -n 1024) or lower -c',
    );
  });

  it('never suggests the limit in force, or less: something else may be using it up', () => {
    expect(fdLimitNotice(1024, 10)).toMatch(/ulimit -n 3072\) or lower -c$/);
    expect(fdLimitNotice(4096, 100)).toMatch(/ulimit -n 9216\) or lower -c$/);
    expect(fdLimitNotice(null, 10)).toMatch(/the open-file limit \(ulimit -n\) is reached .*ulimit -n 1024\)/);
  });

  it('a pool that started short says how many, and a limit for all of -c', () => {
    expect(shortPoolNotice('threads', { started: 2, asked: 60, noun: 'worker thread', limit: 64 })).toBe(
      'fetchall: threads mode started 2 of 60 worker threads: the open-file limit is 64 (ulimit -n); running with 2 (raise it with ulimit -n 2048 for -c 60)',
    );
  });
});
