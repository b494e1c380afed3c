// The house's layering (ARCHITECTURE.md): every import in src/ points to its own layer or a lower
// one, and no file or folder imports itself back through others. Type-only and lazy imports count.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, posix, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../src', import.meta.url));

/**
 * Each part of src/ and its layer, lowest first; the longest matching prefix wins. A new folder
 * gets a line here.
 */
const LAYERS: [prefix: string, layer: number][] = [
  ['core/', 1],
  ['measure/', 2],
  ['render/', 2],
  ['input.ts', 2],
  ['options.ts', 2],
  // Input-level filters: which items a shard keeps, which URLs --resume skips.
  ['shard.ts', 2],
  ['resume.ts', 2],
  // How a run is stopped (signals, a closed pipe): what sinks report and commands act on.
  ['signals.ts', 2],
  // What a run leaves on disk (temp bodies, a spooled request body) and its removal at exit.
  ['tempfiles.ts', 2],
  ['sync/', 3],
  // Saved records read back and summarized (fetchall report): input and measure, nothing live.
  ['report/', 3],
  ['engines/', 4],
  ['scheduler/', 5],
  // The Sink contract is what the scheduler emits to: it sits at the scheduler's layer, and the sinks implement it.
  ['sinks/types.ts', 5],
  ['sinks/', 6],
  ['commands/', 7],
  ['server/', 7],
  ['exit.ts', 7],
  ['cli.ts', 8],
];

/** The entry of LAYERS a file falls under, if any. */
function entryOf(file: string): [prefix: string, layer: number] | undefined {
  let best: [string, number] | undefined;
  for (const [prefix, layer] of LAYERS) {
    if ((file === prefix || (prefix.endsWith('/') && file.startsWith(prefix))) && (!best || prefix.length > best[0].length)) {
      best = [prefix, layer];
    }
  }
  return best;
}

const layerOf = (file: string) => entryOf(file)?.[1];

/**
 * What a file counts as for folder cycles: its entry in LAYERS (a folder, or a file that sits
 * apart from its folder, as the clock does), else its top folder.
 */
const unitOf = (file: string) => entryOf(file)?.[0] ?? (file.includes('/') ? file.slice(0, file.indexOf('/') + 1) : file);

/**
 * Every module a source imports: `import … from`, `export … from`, `import '…'` and `import('…')`
 * with a literal name. Comment lines are skipped, so a comment that mentions an import is not one.
 */
function importsOf(source: string): string[] {
  const code = source
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('//'))
    .join('\n');
  const found: string[] = [];
  const patterns = [
    /\b(?:import|export)\s+(?:type\s+)?[\w$*{}\s,]*?\s*from\s*['"]([^'"]+)['"]/g,
    /\bimport\s*['"]([^'"]+)['"]/g,
    /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  for (const re of patterns) for (const m of code.matchAll(re)) found.push(m[1]!);
  return found;
}

interface Graph {
  /** file (relative to src/, posix) → the src files it imports. */
  edges: Map<string, string[]>;
  problems: string[];
}

function buildGraph(files: Map<string, string>): Graph {
  const edges = new Map<string, string[]>();
  const problems: string[] = [];
  for (const [file, source] of files) {
    const targets: string[] = [];
    for (const spec of importsOf(source)) {
      if (!spec.startsWith('.')) continue;
      const target = posix.normalize(posix.join(posix.dirname(file), spec)).replace(/\.js$/, '.ts');
      if (target.startsWith('../')) problems.push(`${file} imports ${spec}, outside src/`);
      else if (!files.has(target)) problems.push(`${file} imports ${spec}, which is not a file in src/`);
      else targets.push(target);
    }
    edges.set(file, targets);
  }
  return { edges, problems };
}

/** The imports that point to a higher layer, and the files no layer names. */
function layerViolations(graph: Graph): string[] {
  const out: string[] = [];
  for (const [file, targets] of graph.edges) {
    const mine = layerOf(file);
    if (mine === undefined) {
      out.push(`${file} is in no layer: add its folder to LAYERS in test/layers.test.ts`);
      continue;
    }
    for (const t of targets) {
      const theirs = layerOf(t);
      if (theirs !== undefined && theirs > mine) out.push(`${file} (layer ${mine}) imports ${t} (layer ${theirs})`);
    }
  }
  return out;
}

/** Every cycle's members, one strongly connected component each (Tarjan), as "a → b → a". */
function cycles(edges: Map<string, string[]>): string[] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[] = [];
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const members: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        members.push(w);
      } while (w !== v);
      if (members.length > 1 || (edges.get(v) ?? []).includes(v)) found.push([...members.reverse(), members[0]].join(' → '));
    }
  };
  for (const v of edges.keys()) if (!index.has(v)) visit(v);
  return found;
}

function folderEdges(edges: Map<string, string[]>): Map<string, string[]> {
  const out = new Map<string, Set<string>>();
  for (const [file, targets] of edges) {
    const from = unitOf(file);
    const set = out.get(from) ?? new Set<string>();
    for (const t of targets) if (unitOf(t) !== from) set.add(unitOf(t));
    out.set(from, set);
  }
  return new Map([...out].map(([k, v]) => [k, [...v]]));
}

function readSrc(): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts')) files.set(relative(SRC, path).split(sep).join('/'), readFileSync(path, 'utf8'));
    }
  };
  walk(SRC);
  return files;
}

describe('the layers of src/', () => {
  const graph = buildGraph(readSrc());

  it('every relative import names a file of src/', () => {
    expect(graph.problems).toEqual([]);
    expect(graph.edges.size).toBeGreaterThan(20);
  });

  it('imports point only to their own layer or a lower one', () => {
    expect(layerViolations(graph)).toEqual([]);
  });

  it('no file imports itself back, however indirectly', () => {
    expect(cycles(graph.edges)).toEqual([]);
  });

  it('no folder imports itself back through another', () => {
    expect(cycles(folderEdges(graph.edges))).toEqual([]);
  });
});

describe('the checker itself', () => {
  const files = (entries: Record<string, string>) => new Map(Object.entries(entries));

  it('reads every form of import, and no comment', () => {
    const source = [
      "import { a,\n  type B,\n  c } from './multi.js';",
      "import type { T } from '../core/types.js';",
      "import * as ns from './ns.js';",
      "import def, { x } from './def.js';",
      "import './side.js';",
      "export { y } from './re.js';",
      "export type { Z } from './re-type.js';",
      "const lazy = await import('./lazy.js');",
      "import { readFileSync } from 'node:fs';",
      "// import { no } from './commented.js';",
      "/* import('./blocked.js') */",
    ].join('\n');
    expect(importsOf(source).sort()).toEqual(
      ['./multi.js', '../core/types.js', './ns.js', './def.js', './side.js', './re.js', './re-type.js', './lazy.js', 'node:fs'].sort(),
    );
  });

  it('flags an import up the layers, a file in no layer, and a missing file', () => {
    const graph = buildGraph(
      files({
        'engines/types.ts': '',
        'sync/client.ts': "import type { Job } from '../engines/types.js';",
        'attic/old.ts': '',
        'core/rules.ts': "import { gone } from './gone.js';",
      }),
    );
    expect(graph.problems).toEqual(['core/rules.ts imports ./gone.js, which is not a file in src/']);
    expect(layerViolations(graph).sort()).toEqual(
      [
        'attic/old.ts is in no layer: add its folder to LAYERS in test/layers.test.ts',
        'sync/client.ts (layer 3) imports engines/types.ts (layer 4)',
      ].sort(),
    );
  });

  it('finds a cycle of files, even through a lazy import, and a cycle of folders', () => {
    const graph = buildGraph(
      files({
        'cli.ts': "const { demo } = await import('./demo.js');",
        'demo.ts': "import { VERSION } from './cli.js';",
        'sync/client.ts': "import { rule } from '../engines/common.js';",
        'engines/common.ts': '',
        'engines/inline.ts': "import { load } from '../sync/client.js';",
      }),
    );
    expect(cycles(graph.edges)).toEqual(['cli.ts → demo.ts → cli.ts']);
    expect(cycles(folderEdges(graph.edges))).toHaveLength(2);
    expect(cycles(folderEdges(graph.edges))).toContain('sync/ → engines/ → sync/');
  });

  it('finds a cycle of folders made by a single file (core reaching into measure for a clock)', () => {
    const graph = buildGraph(
      files({
        'measure/clock.ts': '',
        'core/rules.ts': "import { now } from '../measure/clock.js';",
        'core/types.ts': '',
        'measure/stats.ts': "import type { UrlRecord } from '../core/types.js';",
      }),
    );
    expect(layerViolations(graph)).toEqual(['core/rules.ts (layer 1) imports measure/clock.ts (layer 2)']);
    expect(cycles(folderEdges(graph.edges))).toHaveLength(1);
  });

  it('names every layer of the design', () => {
    expect(existsSync(join(dirname(SRC), 'src'))).toBe(true);
    expect([...new Set(LAYERS.map(([, layer]) => layer))]).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });
});
