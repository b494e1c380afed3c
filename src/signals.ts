// Ctrl-C, SIGTERM and a closed stdout all mean: stop new requests, cancel the in-flight ones,
// report what was done, and leave nothing running.

export type StopReason = 'SIGINT' | 'SIGTERM' | 'EPIPE';

export const EXIT_FOR: Record<StopReason, number> = { SIGINT: 130, SIGTERM: 143, EPIPE: 141 };

/** Abort `ctl` on the first signal; a second one (or a stuck shutdown) exits at once. */
export function stopOnSignals(ctl: AbortController, onForce: () => void): () => void {
  const handler = (sig: NodeJS.Signals) => {
    if (ctl.signal.aborted) {
      process.exitCode = EXIT_FOR[sig as 'SIGINT' | 'SIGTERM'] ?? 1;
      onForce();
      process.exit();
    }
    ctl.abort(sig);
    // Shutdown normally takes milliseconds; never let a wedged engine hold the user hostage.
    setTimeout(() => {
      process.exitCode = EXIT_FOR[sig as 'SIGINT' | 'SIGTERM'] ?? 1;
      onForce();
      process.exit();
    }, 3000).unref();
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}
