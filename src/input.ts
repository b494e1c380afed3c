// Sources (files, stdin, URL arguments) → a stream of jobs and bad-line reports, never read whole.

import { createReadStream, statSync } from 'node:fs';
import type { Readable } from 'node:stream';
import type { Job } from './engines/types.js';
import { UsageError } from './options.js';

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
    if (stdinIsTTY) throw new UsageError('nothing to fetch: give a file of URLs, a URL, or pipe URLs on stdin (see --help)');
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
      const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : String(code);
      throw new UsageError(
        `${arg}: cannot read: ${why}${code === 'ENOENT' && looksLikeHost(arg) ? ` (for a URL, write https://${arg})` : ''}`,
      );
    }
    if (st.isDirectory()) throw new UsageError(`${arg}: cannot read: is a directory`);
    return { kind: 'file', path: arg };
  });
}

/** 'example.com' or 'example.com/x' — not 'urls.txt'. */
function looksLikeHost(arg: string): boolean {
  return (
    /^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+(:\d+)?(\/\S*)?$/.test(arg) && !/\.(txt|text|list|lst|urls?|csv|tsv|ndjson|json|log|in)$/i.test(arg)
  );
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
      return `missing scheme (did you mean https://${text} ?)`;
    }
    return 'not a URL';
  }
  const proto = scheme[1]!.toLowerCase();
  if (proto !== 'http' && proto !== 'https') return `unsupported scheme '${proto}:' (only http and https)`;
  if (/\s/.test(text)) return 'not a URL (contains whitespace)';
  try {
    const u = new URL(text);
    if (!u.hostname) return 'not a URL (no host)';
  } catch {
    return 'not a URL';
  }
  return null;
}

/** Lines of a byte stream, with a cap on line length; yields [lineNo, text|null] (null = too long). */
async function* lines(stream: Readable): AsyncGenerator<[number, string | null]> {
  const decoder = new TextDecoder('utf-8', { fatal: false });
  let partial = '';
  let tooLong = false;
  let lineNo = 0;
  for await (const chunk of stream) {
    const text = decoder.decode(chunk as Buffer, { stream: true });
    let from = 0;
    for (;;) {
      const nl = text.indexOf('\n', from);
      if (nl === -1) break;
      lineNo++;
      if (tooLong || partial.length + nl - from > MAX_LINE) yield [lineNo, null];
      else yield [lineNo, partial + text.slice(from, nl)];
      partial = '';
      tooLong = false;
      from = nl + 1;
    }
    if (!tooLong) {
      partial += text.slice(from);
      if (partial.length > MAX_LINE) {
        tooLong = true;
        partial = '';
      }
    }
  }
  const rest = partial + decoder.decode();
  if (tooLong || rest.length > 0) yield [lineNo + 1, tooLong ? null : rest];
}

function excerpt(text: string): string {
  const s = JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}…` : text);
  return s.slice(1, -1);
}

/** Every source in order, as jobs (numbered across sources) and bad lines. */
export async function* readJobs(sources: Source[], stdin: Readable = process.stdin): AsyncGenerator<InputItem> {
  let index = 0;
  for (const source of sources) {
    if (source.kind === 'url') {
      const reason = checkUrl(source.url);
      if (reason) yield { kind: 'bad', index: index++, where: `argument '${excerpt(source.url)}'`, text: source.url, reason };
      else yield { kind: 'job', job: { index: index++, url: source.url } };
      continue;
    }
    const name = source.kind === 'file' ? source.path : '<stdin>';
    const stream = source.kind === 'file' ? createReadStream(source.path) : stdin;
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
    } finally {
      if (source.kind === 'file') stream.destroy();
    }
  }
}

/** How many jobs (URLs and bad lines) the sources hold, by a second streaming pass. */
export async function countJobs(sources: Source[]): Promise<number> {
  let n = 0;
  for await (const _ of readJobs(sources)) n++;
  return n;
}
