// Where the bench finds the project: it runs compiled, from bench/out/, against the build in dist/.

import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository: two levels up from bench/out/*.js. */
export const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const CLI = join(ROOT, 'bin', 'fetchall.js');
export const DIST = join(ROOT, 'dist');
export const OUT_DIR = join(ROOT, 'bench', 'out');
export const NODE = process.execPath;
