// The HTML report: one self-contained page (inline SVG and CSS, no script, nothing fetched) with the
// waterfall, the in-flight chart, the figures and the run's parameters. Pure: data in, HTML out.

import type { RunSummary } from '../measure/stats.js';
import { bytes, duration, fixed } from './format.js';
import { type FlightLane, inFlightSvg } from './html-inflight.js';
import { REPORT_CSS } from './html-style.js';
import { extentMs, type Lane, waterfallSvg } from './html-waterfall.js';
import { type Figure, summaryKnownText } from './known.js';
import { plain } from './paint.js';
import { esc, type TimeFrame } from './svg.js';

/** What was measured, passed in by the caller (a renderer reads no flags, clock or machine). */
export interface ReportParams {
  modes: readonly string[];
  /** -c; null when unknown (records do not carry it). */
  concurrency: number | null;
  /** --per-host; 'no limit' when a live run had none; null when unknown. */
  perHost: number | 'no limit' | null;
  timeoutMs: number | null;
  retries: number | null;
  /** process.version of the run, e.g. 'v20.18.1'. */
  node: string | null;
  /** e.g. 'linux x64, 2 × AMD EPYC 7B13'. */
  machine: string | null;
  /** Anything else worth saying, in order: [['command', 'fetchall compare …']]. */
  extra?: readonly (readonly [string, string])[];
}

export interface ReportMode {
  mode: string;
  /** One or more runs; the waterfall draws the median one by wall time. */
  runs: readonly RunSummary[];
  /** The most requests the server saw at once during this mode (the demo knows it). */
  serverPeak?: number | null;
  /** Figures the source could not know (records hold no CPU or memory). */
  unknown?: readonly Figure[];
}

export interface ReportInput {
  title: string;
  params: ReportParams;
  modes: readonly ReportMode[];
  /** compare: the table and the verdict lines, as the terminal prints them (no colour). */
  compare?: { table: string; verdicts: readonly string[] } | null;
  /** Lines said under the title (duplicates merged, bad lines skipped …). */
  notes?: readonly string[];
}

const WIDTH = 1100;
const LEFT = 200;
const RIGHT = 40;

/** The run a mode's waterfall shows: the median by wall time, so one slow run does not speak for all. */
export function drawnRun(m: ReportMode): { run: RunSummary; note?: string } {
  const order = m.runs.map((run, i) => ({ run, i })).sort((a, b) => a.run.wallMs - b.run.wallMs);
  const pick = order[Math.floor((order.length - 1) / 2)]!;
  return m.runs.length > 1 ? { run: pick.run, note: `run ${pick.i + 1} of ${m.runs.length} (median wall)` } : { run: pick.run };
}

/** A mode's own time axis, from its start to the end of its last request: its bars span the chart whatever the other modes took. */
export function laneFrame(lane: Lane): TimeFrame {
  return { left: LEFT, width: WIDTH - LEFT - RIGHT, totalMs: Math.max(1, extentMs(lane.run)) };
}

const LEGEND = `<div class="legend"><span><i class="sw ok"></i>ok</span><span><i class="sw http"></i>failed: HTTP status</span><span><i class="sw err"></i>failed: network, timeout, other</span><span><i class="sw band"></i>failure band: where a failed URL was in flight</span><span><i class="sw end"></i>the mode's run ended</span></div>`;

const OWN_AXES =
  'Each mode is drawn from its own start on its own time axis, scaled to its own run (its scale is under it): compare bars within a mode, and modes by their times, not by the length of their bars.';

function waterfallSection(lanes: Lane[]): string {
  return `<section id="waterfall"><h2>Waterfall</h2><p class="lede">One bar per URL, from the start of its first attempt to the end of its last; hover a bar for its URL, status and time. Bars side by side in time were in flight together, and a staircase means one request at a time. ${OWN_AXES}</p>${LEGEND}<div class="chart">${waterfallSvg(lanes, laneFrame, WIDTH)}</div></section>`;
}

function inFlightSection(lanes: FlightLane[]): string {
  const legend = `<div class="legend"><span><i class="sw area"></i>in flight (average per time slice)</span><span><i class="sw limit"></i>the -c limit</span><span><i class="sw server"></i>the server's own peak</span></div>`;
  return `<section id="inflight"><h2>Requests in flight</h2><p class="lede">How many requests each mode had open at once over time, each mode on its waterfall's time axis and all on one vertical scale.</p>${legend}<div class="chart">${inFlightSvg(lanes, laneFrame, WIDTH)}</div></section>`;
}

const GLANCE: [string, (s: RunSummary) => string][] = [
  ['URLs', (s) => String(s.total)],
  ['failed', (s) => String(s.failed)],
  ['wall (fetch)', (s) => duration(s.wallMs)],
  ['req/s', (s) => fixed(s.reqPerSec, 1)],
  ['p50', (s) => (s.latency ? duration(s.latency.p50) : '–')],
  ['p95', (s) => (s.latency ? duration(s.latency.p95) : '–')],
  ['achieved concurrency', (s) => fixed(s.achievedConcurrency, 2)],
  ['peak in flight', (s) => String(s.peakInFlight)],
  ['bytes', (s) => bytes(s.bytes)],
];

function summarySection(modes: readonly ReportMode[]): string {
  const head = `<tr><th>mode</th>${GLANCE.map(([k]) => `<th>${esc(k)}</th>`).join('')}</tr>`;
  const rows = modes.map((m) => {
    const s = drawnRun(m).run;
    return `<tr><th>${esc(m.mode)}</th>${GLANCE.map(([, get]) => `<td>${esc(get(s))}</td>`).join('')}</tr>`;
  });
  const full = modes.map((m) => {
    const texts = m.runs.map((s) => summaryKnownText(s, plain, m.unknown));
    return `<details${modes.length === 1 ? ' open' : ''}><summary>${esc(m.mode)}: the full summary</summary><pre>${esc(texts.join('\n\n'), true)}</pre></details>`;
  });
  return `<section id="summary"><h2>Summary</h2><table class="glance">${head}${rows.join('')}</table>${full.join('')}</section>`;
}

function compareSection(c: NonNullable<ReportInput['compare']>): string {
  const verdicts = c.verdicts.map((v) => `<p class="verdict">${esc(v)}</p>`).join('');
  return `<section id="compare"><h2>Comparison</h2><pre class="table">${esc(c.table, true)}</pre>${verdicts}</section>`;
}

function paramRows(p: ReportParams): [string, string][] {
  const known = (v: number | string | null) => (v === null ? 'unknown' : String(v));
  return [
    ['modes', p.modes.join(', ')],
    ['-c (concurrency)', known(p.concurrency)],
    ['per host', known(p.perHost)],
    ['timeout', p.timeoutMs === null ? 'unknown' : duration(p.timeoutMs)],
    ['retries', known(p.retries)],
    ['Node', known(p.node)],
    ['machine', known(p.machine)],
    ...(p.extra ?? []).map(([k, v]): [string, string] => [k, v]),
  ];
}

function paramsSection(p: ReportParams): string {
  const rows = paramRows(p).map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`);
  return `<section id="params"><h2>Parameters</h2><table class="params">${rows.join('')}</table></section>`;
}

function header(input: ReportInput): string {
  const p = input.params;
  const line = [`modes ${p.modes.join(', ')}`, p.concurrency === null ? null : `-c ${p.concurrency}`, p.node ? `Node ${p.node}` : null]
    .filter((x) => x !== null)
    .join('  ·  ');
  const notes = (input.notes ?? []).map((n) => `<p class="note">${esc(n)}</p>`).join('');
  return `<header><h1>${esc(input.title)}</h1><p class="sub">${esc(line)}</p>${notes}</header>`;
}

export function htmlReport(input: ReportInput): string {
  const lanes: FlightLane[] = input.modes.map((m) => ({
    mode: m.mode,
    ...drawnRun(m),
    limit: input.params.concurrency,
    serverPeak: m.serverPeak ?? null,
  }));
  const body = [
    header(input),
    lanes.length > 0 ? waterfallSection(lanes) + inFlightSection(lanes) : '<p class="note">No runs to draw.</p>',
    input.compare ? compareSection(input.compare) : '',
    summarySection(input.modes),
    paramsSection(input.params),
    '<footer>Made by fetchall. This file is self-contained: it loads nothing and runs no script.</footer>',
  ].join('\n');
  // The CSP is a second line of defence: were a hostile URL ever to slip past escaping, no script could run.
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(input.title)}</title>
<style>${REPORT_CSS}</style></head>
<body><main>
${body}
</main></body></html>
`;
}
