// `node out/bench/editInFunction.js FILE FUNCTION [--edits 200] [--seed 1] [--cycles 10]`: the editor's latency for
// typing inside one function of a real driver file (the function that pins, where a developer edits while fixing a
// finding), and for the edits that change its report (FOLL_WRITE removed and back, a local renamed, the release moved).
// The server reads the file's folder from disk as its driver context, as in the editor. Prints numbers; never asserts.
import * as fs from 'fs';
import * as path from 'path';
import { pathToFileURL } from 'url';
import { parseArgs } from 'util';
import { measureEdits, measureScriptedEdits } from './measure/lspLatency';
import { inFunctionEdits } from './editScript';

/**
 * The zero-based lines of the body of `name`'s definition: a line starting at column 0 that names it (kernel style),
 * whose declarator reaches a `{` before any `;`, down to the brace that closes it.
 */
export function functionLines(text: string, name: string): [number, number] | undefined {
  const lines = text.split('\n');
  const names = new RegExp(`^[A-Za-z_].*\\b${name}\\s*\\(`);
  for (let start = 0; start < lines.length; start++) {
    if (!names.test(lines[start])) continue;
    let depth = 0;
    let opened = false;
    for (let i = start; i < lines.length; i++) {
      for (const c of lines[i]) {
        if (!opened && c === ';') break;
        if (c === '{') { depth++; opened = true; } else if (c === '}') depth--;
      }
      if (!opened && /;\s*$/.test(lines[i])) break;
      if (opened && depth === 0) return [start + 1, Math.max(start + 1, i - 1)];
    }
  }
  return undefined;
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { edits: { type: 'string', default: '200' }, seed: { type: 'string', default: '1' }, cycles: { type: 'string', default: '10' } } });
  const [file, fn] = positionals;
  if (!file || !fn) { process.stderr.write('usage: node out/bench/editInFunction.js FILE FUNCTION [--edits N] [--seed N]\n'); process.exit(2); }
  const text = fs.readFileSync(file, 'utf8');
  const range = functionLines(text, fn);
  if (!range) { process.stderr.write(`${fn}() not found in ${file}\n`); process.exit(2); }
  const edits = Number(values.edits);
  const r = await measureEdits(pathToFileURL(path.resolve(file)).toString(), text, edits, Number(values.seed), [], null, range);
  const ms = (v: number): string => `${v.toFixed(1)} ms`;
  process.stdout.write(`${path.basename(file)} (${text.split('\n').length} lines), ${edits} one-character edits inside ${fn}() (lines ${range[0] + 1}-${range[1] + 1}): ` +
    `p50 ${ms(r.latency.p50)}, p95 ${ms(r.latency.p95)}, max ${ms(r.latency.max)}; server cpu per edit ${ms(r.serverCpuMsPerEdit)}; ` +
    `open -> diagnostics ${ms(r.openToDiagnosticsMs)}; diagnostics per publish ${r.diagnosticCounts.join('/')}\n`);
  const script = inFunctionEdits(text, range);
  const cycles = Number(values.cycles);
  const s = await measureScriptedEdits(pathToFileURL(path.resolve(file)).toString(), text, script, cycles);
  process.stdout.write(`  edits that change the report (${s.edits}: ${[...new Set(script.map((e) => e.kind))].join(', ')} x ${cycles}): ` +
    `p50 ${ms(s.latency.p50)}, p95 ${ms(s.latency.p95)}, max ${ms(s.latency.max)}; ` +
    Object.entries(s.byKind).map(([k, p]) => `${k} p95 ${ms(p.p95)}`).join(', ') + `; diagnostics per publish ${s.diagnosticCounts.join('/')}\n`);
}

void main();
