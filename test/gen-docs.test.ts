// The man page and shell completions generated from --help (scripts/gen-docs.mjs) against the built CLI: every option is in them.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const SCRIPT = fileURLToPath(new URL('../scripts/gen-docs.mjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'fetchall-docs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('gen-docs', () => {
  it('an option whose value has brackets (--rate <n[/s|/m]>) is in the completions and the man page', () => {
    execFileSync(process.execPath, [SCRIPT, dir], { stdio: ['ignore', 'ignore', 'pipe'] });
    const bash = readFileSync(join(dir, 'completion', 'fetchall.bash'), 'utf8');
    const zsh = readFileSync(join(dir, 'completion', '_fetchall'), 'utf8');
    const man = readFileSync(join(dir, 'man', 'fetchall.1'), 'utf8');
    for (const flag of ['--rate', '--per-host-rate']) {
      expect(bash).toMatch(new RegExp(`(^|[ '"])${flag}([ '"]|$)`, 'm'));
      expect(zsh).toContain(`'${flag}[`);
    }
    // The value in italics, as every other option's; not the raw <...> of --help.
    expect(man).toContain('\\fB\\-\\-rate\\fR \\fIn[/s|/m]\\fR');
    expect(man).not.toContain('<n[/s|/m]>');
  });
});
