// The latest analysis of each open document, keyed by the document version it was made for, so hovers, code actions and simulations answer from it and refuse when it is stale.
import type { Finding, SiteDetails } from '../analysis/finding';
import { comparePositions, spanContains, Span, Position } from '../analysis/span';
import type { Report } from '../engine';
import type { ForksafeSettings } from '../settings';

export interface StoredAnalysis {
  uri: string;
  /** The document version the report was computed for. */
  version: number;
  report: Report;
  settings: ForksafeSettings;
  /** Versions of the other open documents the analysis read (their edits in a fix are only valid at these versions). */
  contextVersions: Map<string, number>;
  /** The rule page link for a code (docsBaseUrl or the shipped docs). */
  docsLink: (code: string) => string;
  /** Set when something the analysis may have read besides the document (another document, a file on disk, settings) changed since. */
  contextStale?: boolean;
}

export class AnalysisStore {
  private readonly byUri = new Map<string, StoredAnalysis>();
  /** Findings of files analysed by a workspace scan (not open), for the status counts. */
  private readonly scanned = new Map<string, number>();

  set(a: StoredAnalysis): void {
    this.byUri.set(a.uri, a);
    this.scanned.delete(a.uri);
  }

  get(uri: string): StoredAnalysis | undefined {
    return this.byUri.get(uri);
  }

  /** The analysis when it was made for exactly `version`; undefined when the document has moved on. */
  current(uri: string, version: number | undefined): StoredAnalysis | undefined {
    const a = this.byUri.get(uri);
    return a && version !== undefined && a.version === version ? a : undefined;
  }

  /** Another document, a file on disk or the settings changed: no stored analysis (but `except`'s) may be reused as is. */
  markContextChanged(except?: string): void {
    for (const a of this.byUri.values()) if (a.uri !== except) a.contextStale = true;
  }

  delete(uri: string): void {
    this.byUri.delete(uri);
  }

  setScanned(uri: string, findings: number): void {
    if (!this.byUri.has(uri)) this.scanned.set(uri, findings);
  }

  totalFindings(): number {
    let n = 0;
    for (const a of this.byUri.values()) n += a.report.findings.length;
    for (const c of this.scanned.values()) n += c;
    return n;
  }
}

function spanSize(s: Span): number {
  return (s.end.line - s.start.line) * 100000 + (s.end.character - s.start.character);
}

/**
 * The innermost pin site whose call contains `pos`; else the site of a wrapper call containing `pos` (a caller of a
 * pin reported inside the wrapper), seen from that call: its callee, chain and span.
 */
export function siteAt(report: Report, pos: Position): SiteDetails | undefined {
  const inner = (list: SiteDetails[], span: (s: SiteDetails) => Span): SiteDetails | undefined =>
    list.filter((s) => spanContains(span(s), pos)).sort((a, b) => spanSize(span(a)) - spanSize(span(b)))[0];
  const sites = report.sites ?? [];
  const atPin = inner(sites.filter((s) => s.uri === report.uri), (s) => s.call);
  if (atPin) return atPin;
  const atCaller = inner(sites.filter((s) => s.from.uri === report.uri && !(s.uri === s.from.uri && spanEquals(s.call, s.from.span))), (s) => s.from.span);
  return atCaller && callerView(atCaller);
}

/** A site as seen from its outermost call: the hover and the simulation view name that call and the whole chain. */
export function callerView(s: SiteDetails): SiteDetails {
  return { ...s, uri: s.from.uri, call: s.from.span, callee: s.from.callee, calleeSpan: s.from.calleeSpan, chain: s.from.chain, reportedAt: { uri: s.uri, span: s.call, callee: s.callee } };
}

function spanEquals(a: Span, b: Span): boolean {
  return comparePositions(a.start, b.start) === 0 && comparePositions(a.end, b.end) === 0;
}

/** A site whose API call (inside a wrapper of this file) contains `pos`: hovering the call inside the wrapper explains a caller's site. */
export function siteByApiCallAt(report: Report, uri: string, pos: Position): SiteDetails | undefined {
  return (report.sites ?? []).find((s) => s.apiCall.uri === uri && spanContains(s.apiCall.span, pos));
}

export function findingFor(report: Report, code: string, range: Span, fingerprint?: string): Finding | undefined {
  return report.findings.find((f) => f.code === code && (fingerprint === undefined || f.fingerprint === fingerprint) &&
    comparePositions(f.span.start, range.start) === 0 && comparePositions(f.span.end, range.end) === 0);
}
