// Loads fixture drivers (single files and multi-file driver folders) and runs the engine on them as a scan would.
import * as fs from 'fs';
import * as path from 'path';
import { analyze, Report } from '../../server/src/engine';
import { loadSyntax } from '../../server/src/runtime/loadSyntax';
import { resolveSettings } from '../../server/src/settings';
import { readExpectations, FixtureExpectations } from './expectations';

export const FIXTURE_ROOT = path.resolve(__dirname, '..', '..', '..', 'test', 'fixtures', 'drivers');

export interface FixtureFile { path: string; name: string; text: string; expectations: FixtureExpectations }
export interface FixtureDriver { name: string; files: FixtureFile[] }

function isSource(name: string): boolean {
  return name.endsWith('.c') || name.endsWith('.h');
}

function load(file: string, name: string): FixtureFile {
  const text = fs.readFileSync(file, 'utf8');
  return { path: file, name, text, expectations: readExpectations(text) };
}

/** Every fixture driver: each top-level .c/.h file alone, and each folder as one driver. */
export function listFixtureDrivers(root = FIXTURE_ROOT): FixtureDriver[] {
  const out: FixtureDriver[] = [];
  for (const entry of fs.readdirSync(root, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const full = path.join(root, entry.name);
    if (entry.isDirectory()) {
      const files = fs.readdirSync(full).filter(isSource).sort().map((f) => load(path.join(full, f), `${entry.name}/${f}`));
      if (files.length > 0) out.push({ name: entry.name, files });
    } else if (isSource(entry.name)) {
      out.push({ name: entry.name, files: [load(full, entry.name)] });
    }
  }
  return out;
}

/** Runs the engine over every file of a driver, each with its siblings as context, at the fixture's kernel version. */
export async function analyzeDriver(driver: FixtureDriver, extraSettings: object = {}): Promise<Map<FixtureFile, Report>> {
  const syntax = await loadSyntax();
  const parsed = driver.files.map((f) => ({ f, uri: `file://${f.path}`, tree: syntax.parse(f.text).tree! }));
  const out = new Map<FixtureFile, Report>();
  try {
    for (const { f, uri, tree } of parsed) {
      const kernel = driver.files.map((x) => x.expectations.kernel).find((k) => k !== undefined);
      const settings = resolveSettings({ ...(kernel ? { kernelVersion: kernel } : {}), ...extraSettings });
      const others = parsed.filter((p) => p.f !== f).map((p) => ({ uri: p.uri, text: p.f.text, tree: p.tree }));
      out.set(f, analyze(syntax, { uri, text: f.text, tree }, settings, { files: others }));
    }
  } finally {
    for (const p of parsed) p.tree.delete();
  }
  return out;
}
