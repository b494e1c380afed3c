// Builds the man page and the bash/zsh completion scripts from the built CLI's own --help, so they cannot drift from it.
// Run after `npm run build` (prepack does): node scripts/gen-docs.mjs [outDir, default dist]
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the strings are bash, whose ${...} is meant literally

import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const BIN = join(ROOT, 'bin', 'fetchall.js');
const NAME = 'fetchall';

function cli(args) {
  const env = { ...process.env, NO_COLOR: '1' };
  delete env.FORCE_COLOR;
  try {
    return execFileSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    throw new Error(`gen-docs: \`${NAME} ${args.join(' ')}\` failed (is dist/ built? run \`npm run build\`): ${err.stderr || err.message}`);
  }
}

// ---- reading commander's help -------------------------------------------------------------------------------

const ITEM_SECTIONS = new Set(['Arguments', 'Options', 'Commands']);

/**
 * One command's help as data. Commander wraps at 80 columns when stdout is a pipe: an item is a line indented by
 * two spaces, its term ends at the first run of two or more spaces, and deeper-indented lines continue its text.
 */
export function parseHelp(text) {
  const lines = text.replace(/\r/g, '').split('\n');
  const help = { usage: '', description: '', arguments: [], options: [], commands: [], extra: [] };
  const blocks = [];
  let block = [];
  for (const line of lines) {
    if (line.trim() === '') {
      if (block.length) blocks.push(block);
      block = [];
    } else block.push(line);
  }
  if (block.length) blocks.push(block);
  for (const [i, b] of blocks.entries()) {
    const head = b[0];
    const usage = /^Usage: (.*)$/.exec(head);
    const section = /^([A-Z][A-Za-z ]*):$/.exec(head);
    if (usage) help.usage = usage[1].trim();
    else if (section && ITEM_SECTIONS.has(section[1])) help[section[1].toLowerCase()].push(...parseItems(b.slice(1)));
    else if (i === 1 && !section) help.description = joinWrapped(b);
    else if (section) help.extra.push({ title: section[1], verbatim: b.slice(1).map((l) => l.replace(/^ {2}/, '')) });
    else {
      const titled = /^([A-Z][A-Za-z ]*):\s+(.*)$/.exec(head);
      if (titled) help.extra.push({ title: titled[1], text: joinWrapped([titled[2], ...b.slice(1)]) });
      else help.extra.push({ title: '', text: joinWrapped(b) });
    }
  }
  return help;
}

function joinWrapped(lines) {
  return lines
    .map((l) => l.trim())
    .join(' ')
    .replace(/\s+/g, ' ');
}

function parseItems(lines) {
  const items = [];
  for (const line of lines) {
    const m = /^ {2}(\S(?:.*?\S)?)(?: {2,}(\S.*))?$/.exec(line);
    if (m) items.push({ term: m[1], description: m[2] ?? '' });
    else if (items.length && /^ {3,}\S/.test(line)) {
      const last = items[items.length - 1];
      last.description = (last.description + ' ' + line.trim()).trim();
    }
  }
  return items;
}

/** `-m, --mode <mode>` → flags, the value's name and whether it is required, the choices if commander lists them. */
export function parseOption(item) {
  const m = /^((?:-[\w?], )?-{1,2}[\w-]+)(?: ([<[])(.*)[>\]])?$/.exec(item.term);
  if (!m) return undefined;
  const flags = m[1].split(', ');
  const choices = /\(choices: ((?:"[^"]*"(?:, )?)+)/.exec(item.description);
  return {
    flags,
    short: flags.find((f) => /^-[^-]/.test(f)),
    long: flags.find((f) => f.startsWith('--')),
    value: m[3],
    valueRequired: m[2] === '<',
    choices: choices ? [...choices[1].matchAll(/"([^"]*)"/g)].map((c) => c[1]) : undefined,
    // the parenthetical lists are for --help; completion menus show the plain sentence
    about: item.description.replace(/\s*\((?:choices|default):.*\)\s*$/, ''),
    description: item.description,
  };
}

/** What a value completes to: a fixed list, file names, directory names, or nothing useful. */
export function valueKind(opt) {
  if (opt.choices) return { kind: 'words', words: opt.choices };
  if (/^(file|path|cert|cacert|ca)$/i.test(opt.value ?? '') || /\bFILE\b/.test(opt.description)) return { kind: 'file' };
  if (/^dir/i.test(opt.value ?? '')) return { kind: 'dir' };
  return { kind: 'none' };
}

function readCli() {
  const root = parseHelp(cli(['--help']));
  const version = cli(['--version']).trim();
  const commands = root.commands
    .map((c) => ({ name: c.term.split(' ')[0], term: c.term, description: c.description }))
    .filter((c) => c.name !== 'help');
  for (const c of commands) c.help = parseHelp(cli([c.name, '--help']));
  return { root, version, commands };
}

// ---- the man page (roff, man(7) macros) ---------------------------------------------------------------------

/** Escape running text for roff: backslashes, and a leading dot or quote that would read as a request. */
function roff(text) {
  return text
    .replace(/\\/g, '\\e')
    .replace(/^([.'])/gm, '\\&$1')
    .replace(/[^\x00-\x7f]/gu, (c) => `\\[u${c.codePointAt(0).toString(16).toUpperCase().padStart(4, '0')}]`);
}
const dash = (s) => roff(s).replace(/-/g, '\\-');

function manOptions(items) {
  const out = [];
  for (const item of items) {
    const opt = parseOption(item);
    out.push('.TP');
    if (opt) {
      const flags = opt.flags.map((f) => `\\fB${dash(f)}\\fR`).join(', ');
      const value = opt.value ? (opt.valueRequired ? ` \\fI${roff(opt.value)}\\fR` : ` [\\fI${roff(opt.value)}\\fR]`) : '';
      out.push(flags + value);
    } else out.push(`\\fB${dash(item.term)}\\fR`);
    out.push(roff(item.description));
  }
  return out;
}

export function manPage({ root, version, commands }) {
  const title = NAME.toUpperCase();
  const out = [
    `.\\" Generated by scripts/gen-docs.mjs from \`${NAME} --help\`; edit the help text in src/cli.ts, not this file.`,
    `.TH ${title} 1 "" "${NAME} ${roff(version)}" "User Commands"`,
    '.SH NAME',
    `${NAME} \\- ${roff(root.description.replace(/:.*$/, '').replace(/\.$/, ''))}`,
    '.SH SYNOPSIS',
    `.B ${NAME}`,
    dash(root.usage.replace(new RegExp(`^${NAME}\\s*`), '')),
  ];
  for (const c of commands) out.push('.br', `.B ${NAME} ${c.name}`, dash(c.help.usage.replace(new RegExp(`^${NAME} ${c.name}\\s*`), '')));
  out.push('.SH DESCRIPTION', roff(root.description));
  if (root.arguments.length) {
    out.push('.SH ARGUMENTS');
    for (const a of root.arguments) out.push('.TP', `\\fI${roff(a.term)}\\fR`, roff(a.description));
  }
  out.push('.SH OPTIONS', ...manOptions(root.options));
  if (commands.length) {
    out.push('.SH COMMANDS');
    for (const c of commands) {
      out.push(`.SS "${NAME} ${dash(c.term)}"`, roff(c.help.description || c.description));
      if (c.help.options.length) out.push('.PP', 'Options:', '.RS', ...manOptions(c.help.options), '.RE');
    }
  }
  for (const x of root.extra) {
    out.push(`.SH ${x.title ? `"${roff(x.title.toUpperCase())}"` : 'NOTES'}`);
    if (x.text !== undefined) out.push(roff(x.text));
    else out.push('.PP', '.nf', '.RS 4', ...x.verbatim.map(dash), '.RE', '.fi');
  }
  out.push('.SH "SEE ALSO"', '.BR curl (1),', '.BR xargs (1),', '.BR parallel (1)');
  return out.join('\n') + '\n';
}

// ---- bash -------------------------------------------------------------------------------------------------------

const shq = (s) => `'${s.replace(/'/g, `'\\''`)}'`;

function bashBranch(help, { files }) {
  const opts = help.options.map(parseOption).filter(Boolean);
  const lines = ['      case $prev in'];
  const byKind = new Map();
  for (const o of opts.filter((o) => o.value && o.valueRequired)) {
    const k = valueKind(o);
    const key = k.kind === 'words' ? `words:${k.words.join(' ')}` : k.kind;
    byKind.set(key, [...(byKind.get(key) ?? []), ...o.flags]);
  }
  for (const [key, flags] of byKind) {
    const pattern = flags.join('|');
    if (key.startsWith('words:')) lines.push(`        ${pattern}) COMPREPLY=($(compgen -W ${shq(key.slice(6))} -- "$cur")); return ;;`);
    else if (key === 'file')
      lines.push(`        ${pattern}) compopt -o filenames 2>/dev/null; mapfile -t COMPREPLY < <(compgen -f -- "$cur"); return ;;`);
    else if (key === 'dir')
      lines.push(`        ${pattern}) compopt -o filenames 2>/dev/null; mapfile -t COMPREPLY < <(compgen -d -- "$cur"); return ;;`);
    else lines.push(`        ${pattern}) return ;;`);
  }
  lines.push('      esac');
  const all = opts.flatMap((o) => o.flags).join(' ');
  lines.push(`      if [[ $cur == -* ]]; then COMPREPLY=($(compgen -W ${shq(all)} -- "$cur")); return; fi`);
  if (files.commands) lines.push(`      [[ -z $seen ]] && COMPREPLY=($(compgen -W ${shq(files.commands)} -- "$cur"))`);
  if (files.sources)
    lines.push('      compopt -o filenames 2>/dev/null; mapfile -t -O ${#COMPREPLY[@]} COMPREPLY < <(compgen -f -- "$cur")');
  return lines;
}

export function bashCompletion({ root, commands }) {
  const names = commands.map((c) => c.name);
  const takesSources = (help) => help.arguments.length > 0 || /\[source\.\.\.]|<source/.test(help.usage);
  const valued = root.options
    .map(parseOption)
    .filter((o) => o?.value && o.valueRequired)
    .flatMap((o) => o.flags);
  const out = [
    `# bash completion for ${NAME}. Generated by scripts/gen-docs.mjs from \`${NAME} --help\`.`,
    `# Use: source this file, or copy it to ~/.local/share/bash-completion/completions/${NAME}`,
    `_${NAME}() {`,
    '  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} cmd=root seen= i',
    '  COMPREPLY=()',
    '  # the first word that is neither an option nor its value is a command, or a source (then there is no command)',
    '  for ((i = 1; i < COMP_CWORD; i++)); do',
  ];
  if (valued.length) out.push(`    case \${COMP_WORDS[i-1]} in ${valued.join('|')}) continue ;; esac`);
  out.push('    case ${COMP_WORDS[i]} in', '      -*) ;;');
  if (names.length) out.push(`      ${names.join('|')}) cmd=\${COMP_WORDS[i]}; break ;;`);
  out.push('      *) seen=1; break ;;', '    esac', '  done', '  case $cmd in', '    root)');
  out.push(...bashBranch(root, { files: { commands: names.join(' '), sources: takesSources(root) } }), '      ;;');
  for (const c of commands) {
    out.push(`    ${c.name})`, ...bashBranch(c.help, { files: { sources: takesSources(c.help) } }), '      ;;');
  }
  out.push('  esac', '}', `complete -F _${NAME} ${NAME}`);
  return out.join('\n') + '\n';
}

// ---- zsh ----------------------------------------------------------------------------------------------------------

/** Text inside an _arguments `[...]` (as swift-argument-parser writes it: backslash and brackets escaped) in single quotes. */
const zdesc = (s) =>
  s
    .replace(/\\/g, '\\\\')
    .replace(/([[\]])/g, '\\$1')
    .replace(/'/g, `'\\''`);

function zshSpecs(help) {
  const specs = [];
  for (const item of help.options) {
    const o = parseOption(item);
    if (!o) continue;
    let action = '';
    if (o.value && o.valueRequired) {
      const k = valueKind(o);
      const msg = o.value.replace(/[^\w-]/g, '') || 'value';
      action = `:${msg}:${k.kind === 'words' ? `(${k.words.join(' ')})` : k.kind === 'file' ? '_files' : k.kind === 'dir' ? '_files -/' : ' '}`;
    }
    const desc = `[${zdesc(o.about)}]`;
    if (o.flags.length > 1) specs.push(`'(${o.flags.join(' ')})'{${o.flags.join(',')}}'${desc}${action}'`);
    else specs.push(`'${o.flags[0]}${desc}${action}'`);
  }
  return specs;
}

export function zshCompletion({ root, commands }) {
  const fn = `_${NAME}`;
  const specs = (name, help) => [`  local -a ${name}=(`, ...zshSpecs(help).map((s) => `    ${s}`), '  )'];
  const out = [
    `#compdef ${NAME}`,
    `# zsh completion for ${NAME}. Generated by scripts/gen-docs.mjs from \`${NAME} --help\`.`,
    `# Use: put this file (named _${NAME}) in a directory on $fpath, then run compinit.`,
    `${fn}() {`,
    '  local curcontext=$curcontext state line ret=1',
    '  typeset -A opt_args',
    ...specs('root_opts', root),
  ];
  for (const c of commands) out.push(...specs(`${c.name}_opts`, c.help));
  const cmdList = commands.map((c) => `'${c.name}:${zdesc(c.description)}'`).join(' ');
  out.push(
    `  local -a cmds=(${cmdList})`,
    "  _arguments -C -s $root_opts '1: :->first' '*:: :->rest' && ret=0",
    '  case $state in',
    '    first)',
    "      _alternative 'commands:command:{_describe command cmds}' 'files:source:_files' && ret=0",
    '      ;;',
    '    rest)',
    '      case $line[1] in',
  );
  for (const c of commands) {
    const rest = c.help.arguments.length || /\[source\.\.\.]/.test(c.help.usage) ? " '*:source:_files'" : '';
    out.push(`        ${c.name}) _arguments -s $${c.name}_opts${rest} && ret=0 ;;`);
  }
  out.push(
    "        *) _arguments -s $root_opts '*:source:_files' && ret=0 ;;",
    '      esac',
    '      ;;',
    '  esac',
    '  return ret',
    '}',
    '',
    `${fn} "$@"`,
  );
  return out.join('\n') + '\n';
}

// ---- main -----------------------------------------------------------------------------------------------------------

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const outDir = resolve(ROOT, process.argv[2] ?? 'dist');
  const model = readCli();
  const files = {
    [join(outDir, 'man', `${NAME}.1`)]: manPage(model),
    [join(outDir, 'completion', `${NAME}.bash`)]: bashCompletion(model),
    [join(outDir, 'completion', `_${NAME}`)]: zshCompletion(model),
  };
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
  }
  // stderr: `npm pack --json` shares stdout with this script
  process.stderr.write(`gen-docs: wrote ${Object.keys(files).length} files under ${outDir}\n`);
}
