// Preloaded into a CLI child by a test (`node --import …/hwm.mjs bin/fetchall.js …`): at exit, the
// process's peak RSS (getrusage's maxrss, KiB) as the last line on stderr. Not part of the CLI.
process.on('exit', () => process.stderr.write(`maxrss-kib ${process.resourceUsage().maxRSS}\n`));
