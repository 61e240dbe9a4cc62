// The one entry point for the language server and the CLI: text in, Report out, so the editor and CI never disagree.
import { CSyntax, Tree } from './analysis/parser';
import { findCalls, findDirectPinCalls } from './analysis/pinSites';
import { mentionsFlag } from './analysis/flags';
import type { Finding } from './analysis/finding';
import { RULES, RuleCode, Severity } from './analysis/rules';
import { spanOf } from './analysis/span';
import type { ForksafeSettings } from './settings';
import { fingerprintOf } from './analysis/fingerprint';

export interface Report {
  uri: string;
  findings: Finding[];
  /** Messages for the log: why a file was skipped or cut short. */
  notes: string[];
  stats: { bytes: number; parseMs: number; analyzeMs: number; budgetHit: boolean; skipped: boolean };
}

export interface AnalyzeInput {
  uri: string;
  text: string;
  /** A tree the caller keeps for this text (editor path: incremental re-parse); parsed here when absent. */
  tree?: Tree;
  /** Set by a caller whose own parse of this text hit the time budget (editor path). */
  parseBudgetHitAfterMs?: number;
}

function severityFor(code: RuleCode, settings: ForksafeSettings): Severity | undefined {
  const s = settings.severity[code] ?? RULES[code].defaultSeverity;
  return s === 'off' ? undefined : s;
}

/** Analyses one file. Never throws on bad input: oversize or pathological files yield an FS009 note instead. */
export function analyze(syntax: CSyntax, input: AnalyzeInput, settings: ForksafeSettings): Report {
  const report: Report = {
    uri: input.uri, findings: [], notes: [],
    stats: { bytes: input.text.length, parseMs: 0, analyzeMs: 0, budgetHit: false, skipped: false },
  };
  const limit = settings.maxFileSizeKb * 1024;
  if (input.text.length > limit) {
    report.stats.skipped = true;
    const note = `${input.uri}: not analysed: ${Math.round(input.text.length / 1024)} KB is over the ${settings.maxFileSizeKb} KB limit (forksafe.maxFileSizeKb)`;
    report.notes.push(note);
    pushIncomplete(report, settings, `forksafe did not analyse this file: it is ${Math.round(input.text.length / 1024)} KB, over the ${settings.maxFileSizeKb} KB limit. Pins in it are not checked. Raise forksafe.maxFileSizeKb to analyse it.`);
    return report;
  }
  let tree = input.tree;
  let ownTree = false;
  let budgetHitAfterMs = input.parseBudgetHitAfterMs;
  if (!tree && budgetHitAfterMs === undefined) {
    const parsed = syntax.parse(input.text, undefined, settings.timeBudgetMs);
    report.stats.parseMs = parsed.elapsedMs;
    if (parsed.tree) { tree = parsed.tree; ownTree = true; } else budgetHitAfterMs = parsed.elapsedMs;
  }
  if (!tree) {
    const ms = Math.round(budgetHitAfterMs ?? 0);
    report.stats.budgetHit = true;
    report.notes.push(`${input.uri}: parsing stopped after ${ms} ms (forksafe.timeBudgetMs = ${settings.timeBudgetMs})`);
    pushIncomplete(report, settings, `forksafe stopped parsing this file after ${ms} ms (time budget ${settings.timeBudgetMs} ms). Pins in it are not checked. Raise forksafe.timeBudgetMs to analyse it.`);
    return report;
  }
  try {
    const analyzeStart = performance.now();
    for (const site of findDirectPinCalls(findCalls(syntax, tree))) {
      if (!site.args.some((a) => mentionsFlag(a, 'FOLL_WRITE'))) continue;
      const severity = severityFor('FS001', settings);
      if (!severity) continue;
      report.findings.push({
        code: 'FS001', severity, uri: input.uri, span: spanOf(site.call),
        message: `${site.name}() pins user pages with FOLL_WRITE: after fork(), copy-on-write can move the parent to a new page while the device keeps writing the old one, so DMA lands in the child's memory. Protect the range (VM_DONTCOPY / MADV_DONTFORK, or an mmu notifier), or use pin_user_pages*() with FOLL_LONGTERM on kernels that copy pinned pages at fork.`,
        related: [], fixes: [],
        fingerprint: fingerprintOf('FS001', site.call.text),
      });
    }
    report.stats.analyzeMs = performance.now() - analyzeStart;
  } finally {
    if (ownTree) tree.delete();
  }
  return report;
}

function pushIncomplete(report: Report, settings: ForksafeSettings, message: string): void {
  const severity = severityFor('FS009', settings);
  if (!severity) return;
  const zero = { line: 0, character: 0 };
  report.findings.push({
    code: 'FS009', severity, uri: report.uri, span: { start: zero, end: zero }, message,
    related: [], fixes: [], fingerprint: fingerprintOf('FS009', report.uri),
  });
}
