// Reads a fixture's inline expectations: `// expect: FS001 FS004` on the line after the diagnostic's line, and `// forksafe-fixture: kernel=X.Y`.
export interface FixtureExpectations {
  /** Zero-based line of the diagnostic → sorted codes expected there. */
  byLine: Map<number, string[]>;
  kernel?: string;
}

export function readExpectations(text: string): FixtureExpectations {
  const byLine = new Map<number, string[]>();
  let kernel: string | undefined;
  const lines = text.split(/\r?\n/);
  lines.forEach((line, i) => {
    const expect = /(?:\/\/|\/\*)\s*expect:\s*([A-Z0-9 ,]+?)\s*(?:\*\/)?\s*$/.exec(line);
    if (expect) {
      const codes = expect[1].split(/[\s,]+/).filter(Boolean);
      byLine.set(i - 1, [...(byLine.get(i - 1) ?? []), ...codes].sort());
    }
    const header = /forksafe-fixture:.*\bkernel=(\S+)/.exec(line);
    if (header) kernel = header[1];
  });
  return { byLine, kernel };
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
