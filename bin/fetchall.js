#!/usr/bin/env node
// The shim: the CLI lives in the compiled dist/cli.js (run `npm run build` first).
import { main } from '../dist/cli.js';

await main(process.argv.slice(2));
