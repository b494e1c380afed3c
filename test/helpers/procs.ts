// Count the processes a test run left behind: every helper inherits the CLI's FETCHALL_TEST_TAG.

import { readdirSync, readFileSync } from 'node:fs';

export function processesTagged(tag: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const env = readFileSync(`/proc/${name}/environ`, 'latin1');
      if (!env.includes(`FETCHALL_TEST_TAG=${tag}`)) continue;
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      if (/^\d+ \(.*\) Z/.test(stat)) continue; // a zombie is already dead
      pids.push(Number(name));
    } catch {}
  }
  return pids;
}

/**
 * Processes still alive shortly after the CLI exits. fetchall stops its helpers before it exits,
 * so the grace is only for the kernel to finish a kill: short enough that a helper left to notice
 * its parent is gone (helper-wrapper polls every 200 ms) does not pass for one that was stopped.
 */
export async function leftover(tag: string, graceMs = 150): Promise<number[]> {
  const until = Date.now() + graceMs;
  let pids = processesTagged(tag);
  while (pids.length > 0 && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 50));
    pids = processesTagged(tag);
  }
  return pids;
}

export function kill(pids: number[]): void {
  for (const p of pids) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {}
  }
}
