// Kernel-version conditionals: which versions a definition inside #if LINUX_VERSION_CODE ... / #else applies to.
import type { Node } from './parser';
import { compareKernelVersions, type KernelVersionLite } from './pinApis';

/** [from, until): until exclusive; either end open. */
export interface VersionRange { from?: KernelVersionLite; until?: KernelVersionLite }

const CONDITION = /LINUX_VERSION_CODE\s*(>=|>|<=|<|==)\s*KERNEL_VERSION\s*\(\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*\)/;

function rangeFromCondition(text: string): VersionRange | undefined {
  const m = CONDITION.exec(text);
  if (!m) return undefined;
  const v = { major: Number(m[2]), minor: Number(m[3]) };
  const next = { major: v.major, minor: v.minor + 1 };
  const patch = Number(m[4]);
  switch (m[1]) {
    case '>=': return { from: v };
    // "> KERNEL_VERSION(5,6,0)" admits 5.6.y patch releases; at minor granularity it means from 5.6 (patch 0) or 5.7.
    case '>': return { from: patch === 0 ? v : next };
    case '<': return { until: v };
    case '<=': return { until: next };
    default: return { from: v, until: next };
  }
}

function negate(r: VersionRange): VersionRange | undefined {
  if (r.from && !r.until) return { until: r.from };
  if (r.until && !r.from) return { from: r.until };
  return undefined; // a bounded range's complement is two ranges; we do not narrow then
}

/** The versions in both ranges (either may be open at either end, or absent = all versions). */
export function intersectVersionRanges(a: VersionRange | undefined, b: VersionRange | undefined): VersionRange | undefined {
  if (!a) return b;
  if (!b) return a;
  const later = (x?: KernelVersionLite, y?: KernelVersionLite) => (!x ? y : !y ? x : compareKernelVersions(x, y) >= 0 ? x : y);
  const earlier = (x?: KernelVersionLite, y?: KernelVersionLite) => (!x ? y : !y ? x : compareKernelVersions(x, y) <= 0 ? x : y);
  return { from: later(a.from, b.from), until: earlier(a.until, b.until) };
}

/** The version range implied by the #if/#elif/#else chain around `node`, or undefined when none names a kernel version. */
export function versionRangeOf(node: Node): VersionRange | undefined {
  let range: VersionRange | undefined;
  let child: Node = node;
  for (let p: Node | null = node.parent; p; child = p, p = p.parent) {
    if (p.type !== 'preproc_if' && p.type !== 'preproc_elif' && p.type !== 'preproc_else') continue;
    if (p.type === 'preproc_else') {
      // The #else belongs to the #if/#elif that holds it as its alternative.
      const owner = p.parent;
      const cond = owner?.childForFieldName('condition');
      const r = cond ? rangeFromCondition(cond.text) : undefined;
      const neg = r ? negate(r) : undefined;
      if (neg) range = intersectVersionRanges(range, neg);
      if (owner) { child = owner; p = owner; }
      continue;
    }
    const cond = p.childForFieldName('condition');
    const alternative = p.childForFieldName('alternative');
    const r = cond ? rangeFromCondition(cond.text) : undefined;
    if (alternative && alternative.id === child.id) {
      // In an #elif (or the #else after it): every earlier condition of the ladder was false.
      const neg = r ? negate(r) : undefined;
      if (neg) range = intersectVersionRanges(range, neg);
      continue;
    }
    if (r) range = intersectVersionRanges(range, r);
  }
  return range;
}

export function inVersionRange(v: KernelVersionLite, r: VersionRange | undefined): boolean {
  if (!r) return true;
  return (!r.from || compareKernelVersions(v, r.from) >= 0) && (!r.until || compareKernelVersions(v, r.until) < 0);
}

export function describeVersionRange(r: VersionRange | undefined): string {
  if (!r || (!r.from && !r.until)) return 'all kernels';
  const f = (v: KernelVersionLite) => `${v.major}.${v.minor}`;
  if (r.from && r.until) return `kernels ${f(r.from)} to before ${f(r.until)}`;
  return r.from ? `kernels ${f(r.from)} and later` : `kernels before ${f(r.until!)}`;
}
