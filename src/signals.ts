// Ctrl-C, SIGTERM and a closed stdout all mean: stop new requests, cancel the in-flight ones,
// report what was done, and leave nothing running.

export type StopReason = 'SIGINT' | 'SIGTERM' | 'EPIPE';

export const EXIT_FOR: Record<StopReason, number> = { SIGINT: 130, SIGTERM: 143, EPIPE: 141 };

/**
 * Abort `ctl` on the first signal; a second one (or a shutdown stuck for 3 s) exits at once.
 * A forced exit still stops every helper process: sync/helpers.ts kills them from the 'exit' event.
 */
export function stopOnSignals(ctl: AbortController): () => void {
  const force = (sig: NodeJS.Signals) => {
    process.exitCode = EXIT_FOR[sig as 'SIGINT' | 'SIGTERM'] ?? 1;
    process.exit();
  };
  const handler = (sig: NodeJS.Signals) => {
    if (ctl.signal.aborted) force(sig);
    ctl.abort(sig);
    // Shutdown normally takes milliseconds; never let a wedged engine hold the user hostage.
    setTimeout(() => force(sig), 3000).unref();
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}
