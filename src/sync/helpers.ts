// Helper processes: the ones sync-request starts on our behalf. We own them: we know them, and
// stop every one of them on every way out (measure/procs.ts reads their CPU and memory).

import { readFileSync } from 'node:fs';

const live = new Set<number>();
let hooked = false;

/** Remember a helper; from now on it is stopped when fetchall exits, however it exits. */
export function adoptHelper(pid: number): void {
  live.add(pid);
  if (!hooked) {
    hooked = true;
    // 'exit' handlers must be synchronous; process.kill is.
    process.on('exit', () => {
      for (const p of live) killQuietly(p, 'SIGKILL');
    });
  }
}

export function liveHelpers(): number[] {
  return [...live];
}

function killQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {}
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Stop helpers: SIGTERM, then SIGKILL for any still there after a short grace. */
export async function stopHelpers(pids: number[]): Promise<void> {
  for (const pid of pids) killQuietly(pid, 'SIGTERM');
  const until = Date.now() + 1000;
  let left = pids.filter(alive);
  while (left.length > 0 && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 20));
    left = left.filter(alive);
  }
  for (const pid of left) killQuietly(pid, 'SIGKILL');
  for (const pid of pids) live.delete(pid);
}
