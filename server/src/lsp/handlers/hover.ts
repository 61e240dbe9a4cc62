// textDocument/hover: pin calls, wrapper calls and the flag, madvise and notifier names, explained from the stored analysis.
import type { Hover, HoverParams } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { SiteDetails } from '../../analysis/finding';
import { spanContains } from '../../analysis/span';
import { isHoverKeyword, keywordHover, siteHover, HoverLinks } from '../../explain/hover';
import { siteAt, siteByApiCallAt, StoredAnalysis } from '../analysisStore';
import { SHOW_SIMULATION_COMMAND, ShowSimulationArgs } from '../protocol';
import { worstFor } from './simulation';

/** The identifier under the cursor and its range on the line. */
export function wordAt(document: TextDocument, line: number, character: number): { word: string; start: number; end: number } | undefined {
  const text = document.getText({ start: { line, character: 0 }, end: { line: line + 1, character: 0 } });
  const re = /[A-Za-z_]\w*/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (m.index <= character && character <= m.index + m[0].length) return { word: m[0], start: m.index, end: m.index + m[0].length };
  }
  return undefined;
}

/** A command: link that opens the simulation view (VS Code runs it; other editors show it as a plain link). */
export function simulationLink(site: SiteDetails): string {
  const args: ShowSimulationArgs = { uri: site.uri, position: { ...site.call.start } };
  return `command:${SHOW_SIMULATION_COMMAND}?${encodeURIComponent(JSON.stringify([args]))}`;
}

/** Where the simulation is, for clients that cannot run a command: link (issue 16: neovim showed the raw URI). */
export const SIMULATION_HINT = 'The full simulation: the "Show fork simulation" code action on this call.';

function linksFor(a: StoredAnalysis, site: SiteDetails, commandLinks: boolean): HoverLinks {
  const docs = site.codes[0] ? a.docsLink(site.codes[0]) : undefined;
  return commandLinks ? { docs, simulation: simulationLink(site) } : { docs, simulationText: SIMULATION_HINT };
}

/**
 * `commandLinks`: the client runs `command:` links in markdown (the VS Code extension says so in
 * capabilities.experimental.forksafe.commandLinks; LSP has no standard capability for it).
 */
export function handleHover(params: HoverParams, document: TextDocument, a: StoredAnalysis, commandLinks = false): Hover | null {
  const pos = params.position;
  const word = wordAt(document, pos.line, pos.character);
  if (!word) return null;
  const range = { start: { line: pos.line, character: word.start }, end: { line: pos.line, character: word.end } };
  const site = siteAt(a.report, pos) ?? siteByApiCallAt(a.report, a.uri, pos);
  if (isHoverKeyword(word.word)) {
    const value = keywordHover(word.word, a.report.kernel, site ? { details: site, worst: worstFor(site) } : undefined, site ? linksFor(a, site, commandLinks) : {});
    return value ? { contents: { kind: 'markdown', value }, range } : null;
  }
  if (!site) return null;
  // On the callee name at the site (or the API name inside the wrapper), explain the site; anywhere else in the call stays quiet.
  const onCallee = spanContains(site.calleeSpan, pos) || (site.apiCall.uri === a.uri && word.word === site.api);
  if (!onCallee) return null;
  return { contents: { kind: 'markdown', value: siteHover(site, worstFor(site), linksFor(a, site, commandLinks)) }, range };
}
