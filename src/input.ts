// Sources (files, stdin, URL arguments) → a stream of jobs and bad-line reports, never read whole.

import { closeSync, constants, createReadStream, fstatSync, openSync, statSync } from 'node:fs';
import { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { isatty, ReadStream as TtyReadStream } from 'node:tty';
import { UsageError } from './core/errors.js';
import type { Job } from './core/types.js';

export type InputItem =
  | { kind: 'job'; job: Job }
  /** A line that is not a fetchable URL: `where` is 'FILE:LINE'. */
  | { kind: 'bad'; index: number; where: string; text: string; reason: string };

export type Source = { kind: 'url'; url: string } | { kind: 'file'; path: string } | { kind: 'stdin' };

/** A longer line is reported and skipped rather than buffered without bound. */
const MAX_LINE = 16 * 1024;

/** Decide what each argument is, and fail now (exit 2) on a file that cannot be read. */
export function resolveSources(args: string[], stdinIsTTY: boolean): Source[] {
  if (args.length === 0) {
    if (stdinIsTTY) {
      throw new UsageError({ flag: null, reason: 'nothing to fetch: give a file of URLs, a URL, or pipe URLs on stdin (see --help)' });
    }
    return [{ kind: 'stdin' }];
  }
  return args.map((arg): Source => {
    if (arg === '-') return { kind: 'stdin' };
    // Anything shaped like scheme://… is meant as a URL; checkUrl then says what is wrong with it.
    if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(arg) || /^https?:/i.test(arg)) return { kind: 'url', url: arg };
    let st: ReturnType<typeof statSync>;
    try {
      st = statSync(arg);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const hint = code === 'ENOENT' && looksLikeHost(arg) ? ` (for a URL, write ${schemeFor(arg)}${arg})` : '';
      throw new UsageError({ flag: null, reason: `cannot read: ${readFailure(err)}${hint}`, value: arg });
    }
    if (st.isDirectory()) throw new UsageError({ flag: null, reason: 'cannot read: is a directory', value: arg });
    return { kind: 'file', path: arg };
  });
}

/**
 * The command a bare word (no dot, no slash: not a path or host) most likely meant, within two
 * edits ('comapre' → compare, 'serv' → serve); null when none is that close. The caller asks
 * only about a word that is not an existing file.
 */
export function suggestCommand(word: string, names: readonly string[]): string | null {
  if (!/^[A-Za-z][A-Za-z-]*$/.test(word) || word.length < 3) return null;
  let best: { name: string; d: number } | null = null;
  for (const name of names) {
    const d = editDistance(word.toLowerCase(), name);
    if (d <= 2 && (best === null || d < best.d)) best = { name, d };
  }
  return best?.name ?? null;
}

/** Levenshtein distance, with a swap of two neighbours counted as one edit (Damerau). */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/** Why a source could not be read, in the words of strerror, for 'FILE: cannot read: …'. */
function readFailure(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  const words: Record<string, string> = {
    ENOENT: 'no such file',
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    EISDIR: 'is a directory',
    EIO: 'input/output error',
  };
  return (e?.code && words[e.code]) ?? e?.code ?? String(e?.message ?? err);
}

/** 'example.com' or 'example.com/x' — not 'urls.txt'. */
function looksLikeHost(arg: string): boolean {
  return (
    /^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+(:\d+)?(\/\S*)?$/.test(arg) && !/\.(txt|text|list|lst|urls?|csv|tsv|ndjson|json|log|in)$/i.test(arg)
  );
}

/**
 * The scheme to suggest for a URL written without one: `http://` for an IP address, localhost or a
 * host with a port, as curl assumes (a local test server rarely speaks TLS), else `https://`.
 */
export function schemeFor(text: string): 'http://' | 'https://' {
  const host = /^([^/?#]*)/.exec(text)![1]!;
  return /:\d+$/.test(host) || /^(localhost|\d+\.\d+\.\d+\.\d+|\[[0-9a-f:.]+\])(:\d+)?$/i.test(host) ? 'http://' : 'https://';
}

/** Why a trimmed line is not a fetchable URL, or null when it is one. */
export function checkUrl(text: string): string | null {
  if (/[\u0000-\u001f\u007f\ufffd]/.test(text)) return 'not a URL (binary or control characters)';
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(text);
  const other = /^([A-Za-z][A-Za-z0-9+.-]*):(?!\d)/.exec(text);
  if (!scheme && other && /^https?$/i.test(other[1]!)) return `not a URL (expected ${other[1]!.toLowerCase()}://)`;
  if (!scheme && other) return `unsupported scheme '${other[1]!.toLowerCase()}:' (only http and https)`;
  if (!scheme) {
    if (/^[A-Za-z0-9.-]+\.[A-Za-z0-9-]+(:\d+)?([/?#]\S*)?$/.test(text) || /^(localhost|\d+\.\d+\.\d+\.\d+)(:\d+)?([/?#]\S*)?$/.test(text)) {
      return `missing scheme (did you mean ${schemeFor(text)}${text} ?)`;
    }
    return 'not a URL';
  }
  const proto = scheme[1]!.toLowerCase();
  if (proto !== 'http' && proto !== 'https') return `unsupported scheme '${proto}:' (only http and https)`;
  if (/\s/.test(text)) return 'not a URL (contains whitespace)';
  try {
    const u = new URL(text);
    if (!u.hostname) return 'not a URL (no host)';
    // DNS's limits (RFC 1035), checked here: past them the resolvers fail each mode differently.
    const name = u.hostname.replace(/\.$/, '');
    if (name.length > 253 || name.split('.').some((l) => l.length > 63)) return 'not a URL (host name too long)';
  } catch {
    return 'not a URL';
  }
  return null;
}

/** Lines of a byte stream, with a cap on line length; yields [lineNo, text|null] (null = too long). */
export async function* lines(stream: Readable, maxLine = MAX_LINE): AsyncGenerator<[number, string | null]> {
  for await (const batch of lineBatches(stream, maxLine)) yield* batch;
}

/**
 * The same lines, a chunk's worth at a time: one await per chunk rather than per line, for a
 * reader that goes through millions of lines (fetchall report).
 */
export async function* lineBatches(stream: Readable, maxLine = MAX_LINE): AsyncGenerator<[number, string | null][]> {
  const decoder = new TextDecoder('utf-8', { fatal: false });
  let partial = '';
  let tooLong = false;
  let lineNo = 0;
  for await (const chunk of stream) {
    const text = decoder.decode(chunk as Buffer, { stream: true });
    const batch: [number, string | null][] = [];
    let from = 0;
    for (;;) {
      const nl = text.indexOf('\n', from);
      if (nl === -1) break;
      lineNo++;
      if (tooLong || partial.length + nl - from > maxLine) batch.push([lineNo, null]);
      else batch.push([lineNo, partial + text.slice(from, nl)]);
      partial = '';
      tooLong = false;
      from = nl + 1;
    }
    if (!tooLong) {
      partial += text.slice(from);
      if (partial.length > maxLine) {
        tooLong = true;
        partial = '';
      }
    }
    if (batch.length > 0) yield batch;
  }
  const rest = partial + decoder.decode();
  if (tooLong || rest.length > 0) yield [[lineNo + 1, tooLong ? null : rest]];
}

function excerpt(text: string): string {
  const s = JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}…` : text);
  return s.slice(1, -1);
}

/**
 * A byte stream for a file source, opened once. A FIFO, pipe or terminal (a named FIFO,
 * /dev/stdin, `<(…)`, /dev/tty) is read through the event loop, not by fs reads: an fs read of an
 * idle one blocks a libuv pool thread, and even process.exit() waits for it, so a stop could not
 * end the run.
 */
export function openFile(path: string, stdin: Readable): Readable {
  if (isOurStdin(path)) return stdin;
  let st: ReturnType<typeof statSync> | null = null;
  try {
    st = statSync(path);
  } catch {}
  if (!st?.isFIFO() && !st?.isCharacterDevice()) return createReadStream(path);
  // O_NONBLOCK: a FIFO with no writer yet must not block the open; the socket waits for one.
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  if (fstatSync(fd).isFIFO()) return new Socket({ fd, readable: true, writable: false });
  if (isatty(fd)) return new TtyReadStream(fd);
  // Another device (/dev/null, /dev/zero): plain reads, which never wait.
  closeSync(fd);
  return createReadStream(path);
}

/** /dev/stdin, /dev/fd/0 and the like: our fd 0 by another name, best read as process.stdin. */
function isOurStdin(path: string): boolean {
  try {
    const a = statSync(path);
    const b = fstatSync(0);
    return a.dev === b.dev && a.ino === b.ino && !a.isFile();
  } catch {
    return false;
  }
}

/**
 * Every source in order, as jobs (numbered across sources) and bad lines. Each source is read
 * once. When `signal` aborts, reading stops at once: the open stream is destroyed, even while it
 * waits for an idle writer, and the generator ends quietly. A source that cannot be read (at its
 * open or part-way through) goes to `onUnreadable` as 'FILE: cannot read: …', keeping the lines
 * read before, and the next source is read; without `onUnreadable` that error is thrown.
 */
export async function* readJobs(
  sources: Source[],
  stdin: Readable = process.stdin,
  signal?: AbortSignal,
  onUnreadable?: (err: UsageError) => void,
): AsyncGenerator<InputItem> {
  let index = 0;
  for (const source of sources) {
    if (signal?.aborted) return;
    if (source.kind === 'url') {
      const reason = checkUrl(source.url);
      if (reason) yield { kind: 'bad', index: index++, where: `argument '${excerpt(source.url)}'`, text: source.url, reason };
      else yield { kind: 'job', job: { index: index++, url: source.url } };
      continue;
    }
    const name = source.kind === 'file' ? source.path : '<stdin>';
    const unreadable = (err: unknown) => {
      const e = new UsageError({ flag: null, reason: `cannot read: ${readFailure(err)}`, value: name });
      if (!onUnreadable) throw e;
      onUnreadable(e);
    };
    let stream: Readable;
    try {
      stream = source.kind === 'file' ? openFile(source.path, stdin) : stdin;
    } catch (err) {
      unreadable(err);
      continue;
    }
    const stop = () => stream.destroy();
    signal?.addEventListener('abort', stop, { once: true });
    try {
      for await (const [lineNo, raw] of lines(stream)) {
        if (raw === null) {
          yield { kind: 'bad', index: index++, where: `${name}:${lineNo}`, text: '', reason: `line longer than ${MAX_LINE} characters` };
          continue;
        }
        let text = raw.trim();
        if (lineNo === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1).trim();
        if (text === '' || text.startsWith('#')) continue;
        const reason = checkUrl(text);
        if (reason) yield { kind: 'bad', index: index++, where: `${name}:${lineNo}`, text: text.slice(0, 2048), reason };
        else yield { kind: 'job', job: { index: index++, url: text } };
      }
    } catch (err) {
      // The stream destroyed by the stop ends the input; any other read error is this source's.
      if (signal?.aborted) return;
      unreadable(err);
    } finally {
      signal?.removeEventListener('abort', stop);
      if (stream !== stdin) stream.destroy();
    }
  }
}

/**
 * Whether the sources can be counted by a second pass: URLs and regular files only. A FIFO,
 * a pipe, stdin or a device can be read only once (a second reader would steal its lines).
 */
export function countable(sources: Source[]): boolean {
  return sources.every((s) => {
    if (s.kind === 'url') return true;
    if (s.kind === 'stdin') return false;
    try {
      return statSync(s.path).isFile();
    } catch {
      return false;
    }
  });
}

/**
 * How many jobs (URLs and bad lines) the sources hold, by a second streaming pass; null when
 * they are not countable or their files hold more than `maxBytes` between them. `keep`: count
 * only these (a shard, URLs not skipped by --resume).
 */
export async function countJobs(
  sources: Source[],
  maxBytes = Number.POSITIVE_INFINITY,
  keep: (item: InputItem) => boolean = () => true,
): Promise<number | null> {
  if (!countable(sources)) return null;
  let size = 0;
  for (const s of sources) if (s.kind === 'file') size += statSync(s.path).size;
  if (size > maxBytes) return null;
  let n = 0;
  // Each pass below numbers from 0; `base` makes the indexes the run's own, which a shard by index needs.
  let base = 0;
  for (const source of sources) {
    if (source.kind === 'stdin') return null;
    let stream: Readable | undefined;
    if (source.kind === 'file') {
      // Checked again on the open file, in case the path was replaced by a FIFO meanwhile.
      const fd = openSync(source.path, constants.O_RDONLY | constants.O_NONBLOCK);
      if (!fstatSync(fd).isFile()) {
        closeSync(fd);
        return null;
      }
      // The opened file, read as a stream of lines as stdin is.
      stream = createReadStream('', { fd });
    }
    let read = 0;
    for await (const item of readJobs(source.kind === 'url' ? [source] : [{ kind: 'stdin' }], stream)) {
      read++;
      if (keep(rebase(item, base))) n++;
    }
    base += read;
  }
  return n;
}

function rebase(item: InputItem, base: number): InputItem {
  if (base === 0) return item;
  return item.kind === 'job' ? { kind: 'job', job: { ...item.job, index: item.job.index + base } } : { ...item, index: item.index + base };
}

/** The items `keep` keeps, in order, with their input index unchanged (so records sort back). */
export async function* filterItems(items: AsyncIterable<InputItem>, keep: (item: InputItem) => boolean): AsyncGenerator<InputItem> {
  for await (const item of items) if (keep(item)) yield item;
}
