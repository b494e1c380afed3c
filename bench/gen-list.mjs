// A URL list generated on the fly, for a list too long to keep as a file: N lines of
// BASE/delay/D?i=1..N on stdout, written as fast as the reader takes them.   node bench/gen-list.mjs BASE N D
const [base, n, delay] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4] ?? 0)];
if (!/^http:\/\/127\.0\.0\.1:\d+$/.test(base ?? '') || !(n >= 0)) {
  process.stderr.write('usage: node bench/gen-list.mjs http://127.0.0.1:PORT N [DELAY]\n');
  process.exit(2);
}
let i = 0;
const batch = () => {
  let s = '';
  for (let k = 0; k < 1000 && i < n; k++) s += `${base}/delay/${delay}?i=${++i}\n`;
  return s;
};
const write = () => {
  while (i < n) if (!process.stdout.write(batch())) return void process.stdout.once('drain', write);
};
process.stdout.on('error', () => process.exit(0)); // the reader stopped: so do we
write();
