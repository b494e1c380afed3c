// fetchall's version, read once from package.json: for --version, the default User-Agent and the demo.

import { readFileSync } from 'node:fs';

export const VERSION: string = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version;
