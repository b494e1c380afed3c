// One saved record as `fetchall report` reads it back (records.ts parses it, tally.ts folds it).

/** One record as `-f ndjson` writes it, times back to epoch ms. */
export interface SavedRecord {
  index: number;
  url: string;
  mode: string;
  ok: boolean;
  status: number | null;
  bytes: number;
  start: number;
  end: number;
  ms: number;
  attempts: number;
  worker: number | null;
  error: { code: string; message: string } | null;
  file: string | null;
  /** Fields added later (start_ms … work_ms): null when a record predates them or has none. */
  finalUrl: string | null;
  redirects: number | null;
  ttfbMs: number | null;
  contentType: string | null;
  workMs: number | null;
}
