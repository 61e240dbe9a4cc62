// Reads a fixture's inline expectations: `// expect: FS001 FS004` on the line after the diagnostic's line, and
// `// forksafe-fixture: kernel=X.Y` (or `kernels=4.19,5.4,...` with `// expect@4.19: FS001` lines per kernel).
export interface FixtureExpectations {
  /** Zero-based line of the diagnostic → sorted codes expected there, at `kernel`. */
  byLine: Map<number, string[]>;
  /** The kernel the fixture is analysed at (the first of `kernels=`). */
  kernel?: string;
  /** Every kernel a `kernels=` fixture is checked at, with what each expects (`expect:` lines hold at all of them). */
  eras: Map<string, Map<number, string[]>>;
}

const EXPECT = /(?:\/\/|\/\*)\s*expect(?:@([\d.,]+))?:\s*([A-Z0-9 ,]+?)\s*(?:\*\/)?\s*$/;

export function readExpectations(text: string): FixtureExpectations {
  let kernel: string | undefined;
  let kernels: string[] = [];
  const lines = text.split(/\r?\n/);
  const found: Array<{ line: number; at: string[] | undefined; codes: string[] }> = [];
  let target = -1;
  lines.forEach((line, i) => {
    const expect = EXPECT.exec(line);
    if (expect) {
      // Consecutive expectation lines (one per kernel) all describe the line above the first of them.
      if (!EXPECT.test(lines[i - 1] ?? '')) target = i - 1;
      found.push({ line: target, at: expect[1]?.split(',').filter(Boolean), codes: expect[2].split(/[\s,]+/).filter(Boolean) });
    }
    const header = /forksafe-fixture:.*\bkernels?=(\S+)/.exec(line);
    if (header) { kernels = header[1].split(',').filter(Boolean); kernel = kernels[0]; }
  });
  const at = (k: string | undefined): Map<number, string[]> => {
    const byLine = new Map<number, string[]>();
    for (const f of found) {
      if (f.at && (!k || !f.at.includes(k))) continue;
      byLine.set(f.line, [...(byLine.get(f.line) ?? []), ...f.codes].sort());
    }
    return byLine;
  };
  const eras = new Map(kernels.length > 1 ? kernels.map((k) => [k, at(k)] as const) : []);
  return { byLine: at(kernel), kernel, eras };
}

/** Groups actual (line, code) pairs the same way, for a deep-equal comparison with the expectations. */
export function groupByLine(items: { line: number; code: string }[]): Map<number, string[]> {
  const out = new Map<number, string[]>();
  for (const { line, code } of items) out.set(line, [...(out.get(line) ?? []), code].sort());
  return out;
}

export function mapToObject(m: Map<number, string[]>): Record<string, string[]> {
  return Object.fromEntries([...m.entries()].sort((a, b) => a[0] - b[0]).map(([line, codes]) => [`line ${line + 1}`, codes]));
}
