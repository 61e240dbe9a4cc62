// Loads the grammar once for unit tests, and runs the engine on a text with default or given settings.
import { analyze, Report } from '../../server/src/engine';
import type { CSyntax } from '../../server/src/analysis/parser';
import { loadSyntax } from '../../server/src/runtime/loadSyntax';
import { resolveSettings } from '../../server/src/settings';

export async function syntax(): Promise<CSyntax> {
  return loadSyntax();
}

export async function analyzeText(text: string, settings: object = {}, uri = 'file:///t/drv.c'): Promise<Report> {
  return analyze(await loadSyntax(), { uri, text }, resolveSettings(settings));
}
