// What every command sets up: the terminal as decided at the edge, the stop controller, the
// stdout/stderr writers, and how a failed write turns into the outcome.

import type { Writable } from 'node:stream';
import { CLEAN, getExitCode, type Outcome } from '../exit.js';
import type { Paint } from '../render/paint.js';
import { describeStream, Out, writeFailure } from '../render/write.js';
import { type StopReason, stopOnSignals } from '../signals.js';
import type { Outputs } from '../sinks/types.js';

/** Where output goes and what the terminal is like: decided once, at the edge. */
export interface Terminal {
  stdout: Writable;
  stderr: Writable;
  stdoutIsTTY: boolean;
  stderrIsTTY: boolean;
  columns: number;
  rows: number;
  /** stderr's terminal width now (it follows a resize); 80 when stderr is not a terminal. */
  readonly errColumns: number;
  paint: Paint;
  errPaint: Paint;
  ci: boolean;
}

/** A command's session; its `out`, `err` and paints are what the sinks write through. */
export interface Session extends Outputs {
  term: Terminal;
  ctl: AbortController;
  /** Why the run stopped, or null. */
  stopped(): StopReason | null;
  /** Stop listening for signals. */
  unhook(): void;
  /**
   * The outcome once output is done: a failed write (not EPIPE) is noted, after one line on
   * stderr naming stdout when stdout is the one that failed.
   */
  finish(outcome: Partial<Outcome>): Outcome;
}

/**
 * The stop controller and writers, and the ways a run is stopped (signals, a closed or failing
 * stdout). `live`: write each stdout line at once rather than batching.
 */
export function session(term: Terminal, live: boolean): Session {
  const ctl = new AbortController();
  const out = new Out(term.stdout, live, 'stdout');
  const err = new Out(term.stderr, true, 'stderr');
  // stdout carries the product: once it takes no more, stop. 'EPIPE' is the stop reason for both
  // a reader gone and a failed write (no report follows either); out.error tells them apart.
  out.onClose = () => {
    if (!ctl.signal.aborted) ctl.abort('EPIPE');
  };
  // A failing stderr loses only diagnostics: the run goes on, and the outcome says so at the end.
  watchPipe(term.stdout, out);
  watchPipe(term.stderr, err);
  const unhook = stopOnSignals(ctl, (sig) => getExitCode({ ...CLEAN, stop: sig }));
  const finish = (outcome: Partial<Outcome>): Outcome => {
    if (out.error) err.line(writeFailure(describeStream('stdout', term.stdout), out.error));
    const writeFailed = Boolean(outcome.writeFailed || out.error || err.error);
    return { ...CLEAN, ...outcome, writeFailed };
  };
  const stopped = () => (ctl.signal.aborted ? (ctl.signal.reason as StopReason) : null);
  return { term, ctl, out, err, paint: term.paint, errPaint: term.errPaint, stopped, unhook, finish };
}

/** Write errors that arrive as events (a pipe or socket), not thrown: EPIPE stops quietly. */
function watchPipe(stream: Writable, out: Out): void {
  stream.on('error', (e: NodeJS.ErrnoException) => out.fail(e));
}
