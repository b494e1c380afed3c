// One-line notices about the machine's limits, said once on stderr: out of file descriptors
// during a run, and a pool started with fewer members than -c asked for.

/**
 * A limit worth suggesting for `concurrency` requests in flight: room for them and for fetchall
 * itself, in whole thousands, and always above the limit in force (which something else, another
 * process of the user's, may be using up).
 */
function suggestedLimit(concurrency: number, limit: number | null): number {
  const room = Math.ceil((2 * concurrency + 256) / 1024) * 1024;
  return limit !== null && room <= limit ? Math.ceil((2 * limit + 1) / 1024) * 1024 : room;
}

/** 'the open-file limit is 64 (ulimit -n)', or without the figure when it could not be read. */
export function limitPhrase(limit: number | null): string {
  return limit === null ? 'the open-file limit (ulimit -n) is reached' : `the open-file limit is ${limit} (ulimit -n)`;
}

/** Said once, at a run's first URL failed for want of a file descriptor (EMFILE, ENFILE). */
export function fdLimitNotice(limit: number | null, concurrency: number): string {
  const over = limit !== null && concurrency >= limit ? `, so -c ${concurrency} cannot work under it` : '';
  return (
    `fetchall: out of file descriptors: ${limitPhrase(limit)} and each request in flight needs one${over}; ` +
    `raise it (ulimit -n ${suggestedLimit(concurrency, limit)}) or lower -c`
  );
}

/** A pool that started only `started` of the `asked` members, for want of file descriptors. */
export function shortPoolNotice(
  mode: string,
  { started, asked, noun, limit }: { started: number; asked: number; noun: string; limit: number | null },
): string {
  return (
    `fetchall: ${mode} mode started ${started} of ${asked} ${plural(noun)}: ${limitPhrase(limit)}; ` +
    `running with ${started} (raise it with ulimit -n ${suggestedLimit(asked * 8, limit)} for -c ${asked})`
  );
}

/** 'worker threads', 'processes'. */
function plural(noun: string): string {
  return noun.endsWith('s') ? `${noun}es` : `${noun}s`;
}
