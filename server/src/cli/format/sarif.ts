// SARIF 2.1.0 output for code-scanning services: rules with help, results with locations, related locations, fixes and partial fingerprints.
import * as fs from 'fs';
import * as path from 'path';
import { pathToFileURL } from 'url';
import type * as Sarif from 'sarif';
import type { Span } from '../../analysis/span';
import { RULE_CODES, RULES, RuleCode, Severity } from '../../analysis/rules';
import type { Fix } from '../../analysis/finding';
import type { Located, ReportedFinding, ScanReport } from '../scanReport';
import { portableFingerprint } from '../baseline';

export const SARIF_SCHEMA_URI = 'https://json.schemastore.org/sarif-2.1.0.json';
const SRCROOT = '%SRCROOT%';
const LEVEL: Record<Severity, Sarif.Result.level> = { error: 'error', warning: 'warning', information: 'note', hint: 'note' };

function region(span: Span): Sarif.Region {
  return { startLine: span.start.line + 1, startColumn: span.start.character + 1, endLine: span.end.line + 1, endColumn: span.end.character + 1 };
}

/** Inside the root: a relative URI against %SRCROOT% (what code-scanning services resolve); outside: an absolute file: URI. */
function artifactLocation(loc: Located): Sarif.ArtifactLocation {
  if (path.isAbsolute(loc.relPath)) return { uri: pathToFileURL(loc.file).href };
  return { uri: loc.relPath.split('/').map(encodeURIComponent).join('/'), uriBaseId: SRCROOT };
}

function physical(loc: Located, span?: Span): Sarif.PhysicalLocation {
  return span ? { artifactLocation: artifactLocation(loc), region: region(span) } : { artifactLocation: artifactLocation(loc) };
}

/** The rule page shipped beside the tool (docs/rules/FS###.md), when it is there. */
function rulePage(docsRoot: string | undefined, code: RuleCode): string | undefined {
  if (!docsRoot) return undefined;
  try { return fs.readFileSync(path.join(docsRoot, `${code}.md`), 'utf8'); } catch { return undefined; }
}

function helpUri(report: ScanReport, docsRoot: string | undefined, code: RuleCode): string | undefined {
  const base = report.settings.docsBaseUrl.replace(/\/+$/, '');
  if (base) return `${base}/${code}.md`;
  return docsRoot ? pathToFileURL(path.join(docsRoot, `${code}.md`)).href : undefined;
}

function sarifRule(report: ScanReport, docsRoot: string | undefined, code: RuleCode): Sarif.ReportingDescriptor {
  const rule = RULES[code];
  const setting = report.settings.severity[code] ?? rule.defaultSeverity;
  const page = rulePage(docsRoot, code);
  const uri = helpUri(report, docsRoot, code);
  return {
    id: code, name: rule.name,
    shortDescription: { text: rule.title },
    fullDescription: { text: rule.title },
    ...(uri ? { helpUri: uri } : {}),
    help: page ? { text: page, markdown: page } : { text: rule.title },
    defaultConfiguration: setting === 'off' ? { enabled: false, level: LEVEL[rule.defaultSeverity] } : { enabled: true, level: LEVEL[setting] },
    properties: { tags: ['linux-kernel', 'fork', 'dma'] },
  };
}

function sarifFix(locate: ScanReport['locate'], fix: Fix): Sarif.Fix | undefined {
  if (fix.edits.length === 0) return undefined;
  const byUri = new Map<string, Sarif.Replacement[]>();
  for (const e of fix.edits) {
    const list = byUri.get(e.uri) ?? [];
    list.push({ deletedRegion: region(e.span), insertedContent: { text: e.newText } });
    byUri.set(e.uri, list);
  }
  return {
    description: { text: fix.title },
    artifactChanges: [...byUri.entries()].map(([uri, replacements]) => ({ artifactLocation: artifactLocation(locate(uri)), replacements })),
  };
}

function sarifResult(report: ScanReport, r: ReportedFinding): Sarif.Result {
  const f = r.finding;
  const fixes = f.fixes.map((x) => sarifFix(report.locate, x)).filter((x): x is Sarif.Fix => x !== undefined);
  const result: Sarif.Result = {
    ruleId: f.code, ruleIndex: RULE_CODES.indexOf(f.code), level: LEVEL[f.severity],
    message: { text: f.message },
    locations: [{ physicalLocation: physical(r, f.span) }],
    partialFingerprints: { 'forksafe/v1': portableFingerprint(f, r.relPath) },
    properties: { severity: f.severity },
  };
  if (f.related.length > 0) {
    result.relatedLocations = f.related.map((rel, i) => ({ id: i + 1, physicalLocation: physical(report.locate(rel.uri), rel.span), message: { text: rel.message } }));
  }
  if (fixes.length > 0) result.fixes = fixes;
  if (report.baselineInUse) result.baselineState = 'new';
  return result;
}

/** `docsRoot`: the folder of the rule pages shipped with forksafe (their text becomes each rule's help). */
export function toSarif(report: ScanReport, docsRoot: string | undefined): Sarif.Log {
  const notifications: Sarif.Notification[] = report.errors.map((e) => ({
    level: 'error', message: { text: `${e.display}: ${e.error}` }, locations: [{ physicalLocation: physical(e) }],
  }));
  return {
    $schema: SARIF_SCHEMA_URI,
    version: '2.1.0',
    runs: [{
      tool: { driver: { name: 'forksafe', version: report.tool.version, semanticVersion: report.tool.version, rules: RULE_CODES.map((c) => sarifRule(report, docsRoot, c)) } },
      originalUriBaseIds: { [SRCROOT]: { uri: pathToFileURL(report.root).href.replace(/\/?$/, '/') } },
      columnKind: 'utf16CodeUnits',
      results: report.findings.map((r) => sarifResult(report, r)),
      invocations: [{ executionSuccessful: report.errors.length === 0, toolExecutionNotifications: notifications }],
    }],
  };
}

export function formatSarif(report: ScanReport, docsRoot: string | undefined): string {
  return JSON.stringify(toSarif(report, docsRoot), null, 2) + '\n';
}
