// Loads the C grammar and queries once per process, from wherever this code runs (bundle or compiled tests).
import { CSyntax } from '../analysis/parser';
import { loadGrammarAssets } from './assets';

let loaded: Promise<CSyntax> | undefined;

export function loadSyntax(): Promise<CSyntax> {
  loaded ??= CSyntax.load(loadGrammarAssets());
  return loaded;
}
