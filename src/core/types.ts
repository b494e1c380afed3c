// The one contract the engines share with the scheduler and sinks: jobs in, events out. Engines print nothing.

export const MODES = ['async', 'threads', 'processes', 'inline'] as const;
export type Mode = (typeof MODES)[number];

/** One URL to fetch; `index` is its 0-based position in the input. */
export interface Job {
  index: number;
  url: string;
}

/** What every engine must honour the same way, so a comparison compares only the model. */
export interface RequestOptions {
  method: string;
  /** Extra headers, in the order given; the user agent is separate. */
  headers: [string, string][];
  userAgent: string;
  /** Deadline for the whole request, body included, in ms. */
  timeoutMs: number;
  /** 0 = return the 3xx itself. */
  maxRedirects: number;
  /** Fail a body larger than this many bytes. */
  maxSize: number;
  /** Save bodies here; null = discard them. */
  outputDir: string | null;
  /** With outputDir: the run's table of names already saved (engines/save.ts saveName), shared by its threads. */
  saveClaims: SharedArrayBuffer | null;
  /** -d / --data-binary: the body sent on every hop that keeps the method (core/rules.ts redirectStep); null = none. */
  body: RequestBody | null;
  /** Which proxy each URL goes through (core/rules.ts proxyFor). */
  proxy: ProxySettings;
  /** -k: do not verify the server's certificate. */
  insecure: boolean;
  /** --cacert: absolute path of a PEM bundle trusted besides the system's CAs; null = none. */
  cacert: string | null;
  /** --work: a CPU-bound step per successful page (engines/work.ts), its rounds calibrated once per run; null = none. */
  work?: WorkSpec | null;
}

/** --work's step: about `ms` of hashing, as `rounds` rounds measured on this machine. */
export interface WorkSpec {
  ms: number;
  rounds: number;
}

/** A request body, sent byte for byte by every engine. */
export interface RequestBody {
  bytes: Uint8Array;
  /** The Content-Type it brings (-d's form type), null when -H names one. */
  contentType: string | null;
  /**
   * Blocking engines: the bytes spooled to this temp file (engines/blocking.ts spoolBody), which
   * the relay thread streams; `bytes` is then empty, so no copy crosses a thread or a process.
   */
  file?: string;
}

/** Where proxies come from: --proxy, --no-proxy, and the environment's (either case). */
export interface ProxySettings {
  /** --proxy: the proxy for every URL (NO_PROXY still applies); null = from the environment. */
  proxy: string | null;
  /** --no-proxy: no proxy at all, whatever else says. */
  noProxy: boolean;
  /** The proxy variables as found in the environment (http_proxy, HTTPS_PROXY, no_proxy, …). */
  env: Record<string, string | undefined>;
}

/** A stable, documented error code plus a human message. */
export interface FetchError {
  code: string;
  message: string;
}

/** The outcome of one attempt at one URL, as an engine reports it. */
export interface AttemptResult {
  status: number | null;
  bytes: number;
  /** Epoch ms (fractional), from the shared clock. */
  start: number;
  end: number;
  worker: number | null;
  error: FetchError | null;
  file: string | null;
  /** ms to wait before a retry, from a Retry-After header. */
  retryAfterMs: number | null;
  /** The last URL requested, as sent (core/rules.ts requestedUrl); null when no request went out. */
  finalUrl: string | null;
  /** Redirect hops followed. */
  redirects: number;
  /** ms from this attempt's start to the head of the last response received; null when none came. */
  ttfbMs: number | null;
  /** That response's Content-Type (the first, if repeated); null when none. */
  contentType: string | null;
  /** --work: ms the CPU-bound step took on this page, where the mode runs it; null (or absent) when none ran. */
  workMs?: number | null;
}

/** The record of one URL after all attempts: the ndjson/csv row. */
export interface UrlRecord {
  index: number;
  url: string;
  mode: Mode;
  ok: boolean;
  status: number | null;
  bytes: number;
  /** Epoch ms (fractional) of the first attempt's start and the last attempt's end. */
  start: number;
  end: number;
  ms: number;
  attempts: number;
  worker: number | null;
  error: FetchError | null;
  file: string | null;
  /** From the last attempt (see AttemptResult); finalUrl is null only for a bad input line. */
  finalUrl: string | null;
  redirects: number;
  ttfbMs: number | null;
  contentType: string | null;
  workMs?: number | null;
}

export type RunEvent =
  | { kind: 'start'; index: number; url: string; t: number; worker: number | null; attempt: number }
  | { kind: 'done'; record: UrlRecord }
  | { kind: 'fail'; record: UrlRecord };

/** How an engine was set up: reported apart from the fetch time. */
export interface EngineInfo {
  /** ms spent starting and warming (threads: the pool); 0 when nothing to start. */
  startupMs: number;
  /** JS threads used, the main thread included. */
  threads: number;
  /**
   * A pool that started fewer members than asked, for want of file descriptors: how many of how
   * many, its word for a member, and the open-file limit (null when unknown).
   */
  short?: { started: number; asked: number; noun: string; limit: number | null };
}

/**
 * The run's rate gate as an engine sees it: --rate and --per-host-rate count every request sent,
 * so each redirect hop takes its tokens too (the first hop's were taken as the job left the queue).
 */
export interface HopGate {
  /** Take the tokens for a request to `url` if they are there (0), else the ms until they may be. */
  tryTake(url: string): number;
}

export interface Engine {
  readonly mode: Mode;
  /** Start whatever the engine needs before the clock starts. */
  init(): Promise<EngineInfo>;
  /**
   * Fetch one URL once. Resolves (never rejects) with the attempt's outcome;
   * `onStart` is called with the thread id and time as the request really starts.
   */
  fetch(job: Job, signal: AbortSignal, onStart: (t: number, worker: number | null) => void, gate?: HopGate | null): Promise<AttemptResult>;
  /**
   * The longest time this engine itself held the event loop (inline: one blocking request), so
   * the stall is reported even when Node's loop-delay monitor took no sample during it.
   */
  longestBlockMs?(): number;
  /** Helper processes alive now (pids), for counting and for cleanup. */
  helperPids(): number[];
  /** Stop everything the engine started: threads, sockets, helper processes. */
  close(): Promise<void>;
}
