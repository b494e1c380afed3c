// Ctrl-C, SIGTERM and a closed stdout all mean: stop new requests, cancel the in-flight ones,
// report what was done, and leave nothing running.

export type StopReason = 'SIGINT' | 'SIGTERM' | 'EPIPE';

/**
 * Abort `ctl` on the first signal; a second one (or a shutdown stuck for 3 s) exits at once, with
 * the status `statusFor` gives (exit.ts decides it). A forced exit still stops every helper
 * process: sync/helpers.ts kills them from the 'exit' event.
 */
export function stopOnSignals(ctl: AbortController, statusFor: (sig: 'SIGINT' | 'SIGTERM') => number): () => void {
  const force = (sig: 'SIGINT' | 'SIGTERM') => {
    process.exitCode = statusFor(sig);
    process.exit();
  };
  // Only these two are listened for.
  const handler = (signal: NodeJS.Signals) => {
    const sig = signal as 'SIGINT' | 'SIGTERM';
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
