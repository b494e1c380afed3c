// The exit status, decided in one place: a pure function from how a command ended to its code.

import { FAIL_CLASSES, type FailClass, type FailCounts } from './core/errors.js';
import type { StopReason } from './signals.js';

/** Every status fetchall exits with (documented in --help and the README). */
export const EXIT = {
  OK: 0,
  /** One or more URLs failed, or the run could not start (FatalError). */
  FAILED: 1,
  /** A bad flag, an unreadable file, nothing to fetch. */
  USAGE: 2,
  /** A bug: an error nobody expected (BSD's EX_SOFTWARE). */
  INTERNAL: 70,
  /** Output could not be written: a full disk, /dev/full, the --json file (BSD's EX_IOERR). */
  OUTPUT: 74,
  SIGINT: 130,
  /** The reader went away (`| head`): 128 + SIGPIPE. */
  EPIPE: 141,
  SIGTERM: 143,
} as const;

/** How a command ended: what each command returns and cli.ts completes with what it caught. */
export interface Outcome {
  /** URLs that failed (bad input lines included). */
  failed: number;
  /** What stopped the run early, if anything. */
  stop: StopReason | null;
  /** A write failed (not a reader gone): stdout, stderr, help text, the --json file. */
  writeFailed: boolean;
  /** The command line was wrong: a flag, a file, commander's own complaints. */
  usage: boolean;
  /** The input held no URLs. */
  nothingToFetch: boolean;
  /** Something outside the user's control kept the run from starting (a pool that would not start). */
  fatal: boolean;
  /** An error nobody expected. */
  internal: boolean;
  /** The failed URLs by class (`error`, `4xx`, `5xx`); null when a command did not count them (then every failure counts). */
  failedBy: FailCounts | null;
  /** `--fail-on`: the classes whose failures make the status 1 (empty: none does). */
  failOn: readonly FailClass[];
}

/** An outcome with nothing wrong; commands spread it and set what happened. */
export const CLEAN: Outcome = {
  failed: 0,
  stop: null,
  writeFailed: false,
  usage: false,
  nothingToFetch: false,
  fatal: false,
  internal: false,
  failedBy: null,
  failOn: FAIL_CLASSES,
};

/**
 * The status for an outcome. Precedence: a signal's status always stands (the user asked to
 * stop, and a shell reads 130/143 as that); then a failed write (the output is incomplete, which
 * outweighs everything it would have said); then a closed stdout; then the kinds of error; then
 * failed URLs of the classes `--fail-on` names.
 */
export function getExitCode(o: Outcome): number {
  if (o.stop === 'SIGINT' || o.stop === 'SIGTERM') return EXIT[o.stop];
  if (o.writeFailed) return EXIT.OUTPUT;
  if (o.stop === 'EPIPE') return EXIT.EPIPE;
  if (o.internal) return EXIT.INTERNAL;
  if (o.usage || o.nothingToFetch) return EXIT.USAGE;
  if (o.fatal || failing(o) > 0) return EXIT.FAILED;
  return EXIT.OK;
}

/** Failed URLs that count against the run: those of the `--fail-on` classes, or all when unclassified. */
function failing(o: Outcome): number {
  const by = o.failedBy;
  return by === null ? o.failed : o.failOn.reduce((n, c) => n + by[c], 0);
}
