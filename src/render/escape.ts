// The one escaping step for strings from the network, a list or a record file (URLs, Location
// values, error codes and messages, file names, bad lines) before they reach a terminal, a file or a pipe.

/**
 * C0 controls, DEL, the C1 controls U+0080–U+009F, and the bidi controls (U+061C, U+200E/F,
 * U+202A–202E, U+2066–2069). A C1 control is a single character that a terminal may read as ESC +
 * a letter (U+009B is CSI), so it is as dangerous as a raw ESC; a bidi override makes the text a
 * reader sees differ from the bytes (a URL that reads backwards, a code that hides its end).
 */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** `\xNN` for a control below U+0100, `\uNNNN` for a bidi control. */
function escapeOne(c: string): string {
  const code = c.charCodeAt(0);
  return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/**
 * `s` with every control character written as `\xNN` (ESC → `\x1b`, U+009B → `\x9b`) and every bidi
 * control as `\uNNNN` (U+202E → `\u202e`); nothing else changes. Newlines and tabs are escaped too
 * (inside one field they would break the line or column), unless listed in `keep` for a format
 * that quotes them (csv).
 */
export function escapeControls(s: string, keep = ''): string {
  CONTROL.lastIndex = 0;
  if (!CONTROL.test(s)) return s;
  CONTROL.lastIndex = 0;
  return s.replace(CONTROL, (c) => (keep.includes(c) ? c : escapeOne(c)));
}

/**
 * JSON text for a value, with DEL, the C1 controls and the bidi controls written as `\uNNNN`:
 * JSON.stringify escapes only U+0000–U+001F and leaves the others raw. Lossless (JSON.parse gives
 * back the same strings), so records keep exact URLs while the bytes on stdout stay inert.
 */
export function jsonText(value: unknown, indent?: number): string {
  const text = JSON.stringify(value, null, indent);
  // Tested first: a replace copies even a string it leaves alone, and almost every record is one.
  return RAW.test(text) ? text.replace(RAW_ALL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`) : text;
}

const RAW = /[\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;
const RAW_ALL = /[\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
