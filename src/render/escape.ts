// The one escaping step for strings from the network or the input (URLs, Location values, error
// messages, file names, bad lines) before they reach a terminal, a file or a pipe.

/**
 * C0 controls, DEL and the C1 controls U+0080–U+009F. A C1 control is a single character that a
 * terminal may read as ESC + a letter (U+009B is CSI), so it is as dangerous as a raw ESC.
 */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

/**
 * `s` with every control character written as `\xNN` (ESC → `\x1b`, U+009B → `\x9b`); nothing else
 * changes. Newlines and tabs are escaped too (inside one field they would break the line or
 * column), unless listed in `keep` for a format that quotes them (csv).
 */
export function escapeControls(s: string, keep = ''): string {
  CONTROL.lastIndex = 0;
  if (!CONTROL.test(s)) return s;
  return s.replace(CONTROL, (c) => (keep.includes(c) ? c : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`));
}

/**
 * JSON text for a value, with DEL and the C1 controls written as `\u00NN`: JSON.stringify escapes
 * only U+0000–U+001F and leaves them raw. Lossless (JSON.parse gives back the same strings), so
 * records keep exact URLs while the bytes on stdout stay printable.
 */
export function jsonText(value: unknown, indent?: number): string {
  const text = JSON.stringify(value, null, indent);
  // Tested first: a replace copies even a string it leaves alone, and almost every record is one.
  return C1.test(text) ? text.replace(C1_ALL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`) : text;
}

const C1 = /[\u007f-\u009f]/;
const C1_ALL = /[\u007f-\u009f]/g;
