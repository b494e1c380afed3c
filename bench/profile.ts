// Self time by function (name + script) from a V8 .cpuprofile, and by area (undici, fetchall,
// node internals…).   node bench/out/profile.js FILE [TOP]
// A sample's duration is the gap to the next sample (the last one runs to endTime).

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ROOT } from './paths.js';

/** The parts of V8's .cpuprofile format read here. */
interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

interface FunctionTime {
  name: string;
  url: string;
  line: number | null;
  us: number;
}

function shortUrl(url: string): string {
  if (!url) return '';
  const u = url.replace(/^file:\/\//, '');
  const nm = u.lastIndexOf('/node_modules/');
  if (nm >= 0) return u.slice(nm + 1);
  if (u.startsWith(`${ROOT}/`)) return u.slice(ROOT.length + 1);
  return u;
}

export function aggregate(profile: CpuProfile): { totalUs: number; functions: FunctionTime[] } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const { samples, timeDeltas } = profile;
  const selfUs = new Map<number, number>();
  let total = 0;
  for (let i = 0; i < samples.length; i++) {
    const dt =
      i + 1 < samples.length
        ? timeDeltas[i + 1]!
        : Math.max(0, profile.endTime - (profile.startTime + timeDeltas.reduce((a, b) => a + b, 0)));
    if (!(dt > 0)) continue;
    selfUs.set(samples[i]!, (selfUs.get(samples[i]!) ?? 0) + dt);
    total += dt;
  }
  const groups = new Map<string, FunctionTime>();
  for (const [id, us] of selfUs) {
    const cf = byId.get(id)?.callFrame ?? { functionName: '?', url: '', lineNumber: -1 };
    const name = cf.functionName || '(anonymous)';
    const url = shortUrl(cf.url);
    const key = `${name}\t${url}`;
    const g = groups.get(key) ?? { name, url, line: cf.lineNumber >= 0 ? cf.lineNumber + 1 : null, us: 0 };
    g.us += us;
    groups.set(key, g);
  }
  return { totalUs: total, functions: [...groups.values()].sort((a, b) => b.us - a.us) };
}

/** Where self time went, by script: node internals, undici, fetchall's own code, other packages. */
function byArea(functions: FunctionTime[]): [string, number][] {
  const areas = new Map<string, number>();
  for (const f of functions) {
    let a: string;
    if (['(idle)', '(program)', '(garbage collector)', '(root)'].includes(f.name)) a = f.name;
    else if (f.url.startsWith('node_modules/undici')) a = 'undici (node_modules)';
    else if (f.url.startsWith('node_modules/')) a = `${f.url.split('/')[1]} (node_modules)`;
    else if (f.url.startsWith('dist/') || f.url.startsWith('bin/')) a = 'fetchall (dist/)';
    else if (f.url.startsWith('node:')) a = 'node: internals (JS)';
    else if (f.url === '') a = 'native / builtins (no url)';
    else a = 'other';
    areas.set(a, (areas.get(a) ?? 0) + f.us);
  }
  return [...areas].sort((x, y) => y[1] - x[1]);
}

export function summariseProfile(file: string, top = 10): string {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const { totalUs, functions } = aggregate(profile);
  const ms = (us: number) => (us / 1000).toFixed(1).padStart(8);
  const pct = (us: number) => `${((100 * us) / totalUs).toFixed(1).padStart(5)}%`;
  const lines = [
    `  sampled ${(totalUs / 1000).toFixed(0)} ms, ${profile.samples.length} samples; top ${top} by self time:`,
    `  ${'self ms'.padStart(8)}  ${'share'.padStart(6)}  function  (script:line)`,
  ];
  for (const f of functions.slice(0, top)) {
    lines.push(`  ${ms(f.us)}  ${pct(f.us)}  ${f.name}  (${f.url || '-'}${f.line ? `:${f.line}` : ''})`);
  }
  lines.push('  by area:');
  for (const [a, us] of byArea(functions)) lines.push(`  ${ms(us)}  ${pct(us)}  ${a}`);
  return lines.join('\n');
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [file, top] = process.argv.slice(2);
  if (!file) {
    process.stderr.write('usage: node bench/out/profile.js FILE.cpuprofile [TOP]\n');
    process.exit(2);
  }
  process.stdout.write(`${summariseProfile(file, top ? Number(top) : 10)}\n`);
}
