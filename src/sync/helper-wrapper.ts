// Runs sync-rpc's helper server, but exits when the process that started it is gone, so no
// helper outlives fetchall, even after a SIGKILL that left no chance to clean up.
// argv: [node, this file, sync-rpc/lib/worker.js, port, key]

import { createRequire } from 'node:module';

const target = process.argv[2]!;
process.argv.splice(2, 1);
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) process.exit(0);
}, 200).unref();
createRequire(import.meta.url)(target);
