// compare --json onto an existing file whose directory takes no new file (/proc/version): the
// export is a temp file renamed over the target, so the line names that temp file's directory,
// not "no such file" for a file that exists.

import { describe, expect, it } from 'vitest';
import { run } from './helpers/cli.js';
import { useServer } from './helpers/server.js';

const ctx = useServer();

describe('compare --json beside which no temp file can be made', () => {
  it('/proc/version: one line naming the temp file in /proc, not ENOENT for the target', async () => {
    const r = await run(['compare', '--modes', 'async', '--json', '/proc/version', `${ctx.server.url}/delay/10`]);
    const lines = r.stderr.split('\n').filter((l) => l !== '');
    expect(lines).toHaveLength(1);
    // root passes the up-front check and fails at the temp file; others fail the check (EACCES).
    expect(lines[0]).toMatch(
      /^fetchall: cannot write --json file '\/proc\/version': cannot create a temporary file in \/proc: \S.*\((ENOENT|EACCES)\)$/,
    );
    // root's failure is at write time, after the run (74); others' is the up-front check, a usage error (2).
    expect(r.code).toBe(process.getuid?.() === 0 ? 74 : 2);
  });
});
