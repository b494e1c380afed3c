// Readings from /proc: the CPU and peak memory of this process, its helpers and its reaped children.

import { readFileSync } from 'node:fs';

const TICK_MS = 10; // USER_HZ is 100 on every Linux that Node supports

/** CPU ms (user+sys) of a live process, or 0 when it cannot be read. */
export function procCpuMs(pid: number | 'self'): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  } catch {
    return 0;
  }
}

/** System-mode CPU ms (stime) of a live process, or 0: with procCpuMs, splits user from sys. */
export function procSysMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[12]) * TICK_MS;
  } catch {
    return 0;
  }
}

/** System-mode CPU ms of our reaped children (cstime). */
export function reapedChildrenSysMs(): number {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[14]) * TICK_MS;
  } catch {
    return 0;
  }
}

/** CPU ms of our children that have exited and been reaped (cutime + cstime). */
export function reapedChildrenCpuMs(): number {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[13]) + Number(fields[14])) * TICK_MS;
  } catch {
    return 0;
  }
}

/** Peak resident memory (VmHWM) of a live process in bytes, or 0 when it cannot be read. */
export function procPeakRss(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/**
 * This process's open-file limit (the soft `ulimit -n`), or null when it cannot be read. Read
 * before it is needed: once the limit is reached, /proc itself cannot be opened.
 */
export function openFilesLimit(): number | null {
  try {
    const m = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}
