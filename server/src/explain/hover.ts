// Hover markdown: a pin site explained from its simulation (address, pages, flags, era, before/after table), and the flag, madvise and notifier names.
import { refusedFlags } from '../analysis/pinApis';
import type { SiteDetails } from '../analysis/finding';
import type { KernelVersionLite } from '../analysis/pinApis';
import type { SimulationResult } from '../simulation/fork';
import { eraFor, formatKernelVersion } from '../simulation/kernelEra';
import { describeOutcome } from '../simulation/outcome';
import { deviceCell, processCell } from '../simulation/traceTable';
import type { Step } from '../simulation/trace';

export interface HoverLinks {
  /** The rule page of the site's first code. */
  docs?: string;
  /** A link that opens the full simulation (a command: URI in VS Code). */
  simulation?: string;
  /** Without command links (clients that cannot run them): say in plain text where the simulation is. */
  simulationText?: string;
}

/** Inline code that survives any text: backtick fences longer than any run inside, newlines flattened. */
export function inlineCode(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  const longest = Math.max(0, ...(flat.match(/`+/g) ?? []).map((r) => r.length));
  const fence = '`'.repeat(longest + 1);
  const pad = flat.startsWith('`') || flat.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${flat}${pad}${fence}`;
}

/** Plain text for markdown: markdown and HTML punctuation escaped, so code text can never become markup. */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_[\]|<>&]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : `\\${c}`));
}

/** Simulator text in a table cell: only the column separator needs escaping. */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

/** The last step before fork() (or the first step when the scenario pins after fork). */
function beforeForkStep(steps: readonly Step[]): Step | undefined {
  const forkAt = steps.findIndex((s) => s.event?.kind === 'fork');
  return forkAt > 0 ? steps[forkAt - 1] : steps[0];
}

/** The before/after table of one trace: parent, child and device, each with the frame it maps, before fork() and at the end. */
export function beforeAfterTable(result: SimulationResult): string {
  const before = beforeForkStep(result.steps);
  const after = result.steps[result.steps.length - 1];
  if (!before || !after) return '';
  const parting = result.verdict.divergenceStep !== undefined ? result.steps[result.verdict.divergenceStep] : undefined;
  const header = parting && parting !== after ? `| | before fork() | step ${parting.index}: ${cell(parting.label)} | after step ${after.index} |` : `| | before fork() | after step ${after.index} |`;
  const sep = parting && parting !== after ? '|---|---|---|---|' : '|---|---|---|';
  const row = (name: string, pick: (s: Step) => string): string =>
    `| **${name}** | ${cell(pick(before))} |${parting && parting !== after ? ` ${cell(pick(parting))} |` : ''} ${cell(pick(after))} |`;
  return [
    header, sep,
    row('parent', (s) => processCell(s.state.parent)),
    row('child', (s) => processCell(s.state.child)),
    row('device', (s) => deviceCell(s.state.device)),
  ].join('\n');
}

function eraLine(kernel: KernelVersionLite, source: string): string {
  const era = eraFor(kernel);
  return `kernel ${formatKernelVersion(kernel)} (${escapeMarkdown(source)}): *${era.name}*, ${era.commit.split(' ')[0]}`;
}

function linksLine(links: HoverLinks, code?: string): string | undefined {
  const parts: string[] = [];
  if (links.docs && code) parts.push(`[${code} rule](${links.docs})`);
  if (links.simulation) parts.push(`[Show the fork simulation](${links.simulation})`);
  else if (links.simulationText) parts.push(escapeMarkdown(links.simulationText));
  return parts.length > 0 ? parts.join(' · ') : undefined;
}

const WRITE_WORDS = { always: 'the device may write (FOLL_WRITE)', conditional: 'the device may write on some paths (FOLL_WRITE)', never: 'read-only (no FOLL_WRITE)' } as const;

/** The hover of a pin call or wrapper call: what fork() does here, for this address, pages array and kernel, from the simulation. */
export function siteHover(site: SiteDetails, worst: SimulationResult, links: HoverLinks): string {
  const f = site.facts;
  const code = site.codes[0];
  const head = site.callee === site.api ? inlineCode(`${site.api}()`) : `${inlineCode(`${site.callee}()`)} → ${inlineCode(`${site.api}()`)}`;
  const verdict = code ? `**forksafe ${code}**` : '**forksafe**: no finding';
  const out: string[] = [`${verdict} · ${head} takes ${f.ref === 'pin' ? 'a FOLL_PIN pin' : 'FOLL_GET references'}, ${WRITE_WORDS[f.write]}`, ''];
  out.push(describeOutcome(worst), '');
  const facts: string[] = [];
  if (site.start) facts.push(`- **user address:** ${inlineCode(site.start.text)}`);
  // `&x` is the address of one page pointer (or of an array object), not "the pages array &x" (issue 16).
  const pagesLabel = site.pages && /^&/.test(site.pages.text.trim())
    ? `- **pages:** written into ${inlineCode(site.pages.text.trim().slice(1))} (passed as ${inlineCode(site.pages.text)})`
    : site.pages ? `- **pages array:** ${inlineCode(site.pages.text)}` : '';
  if (site.pages) facts.push(`${pagesLabel}${f.longLived ? ', kept beyond the call' : f.lifetimeReason === 'handed-back' ? ', handed back to callers outside the analysed code (they decide, and are judged where they keep the pages)' : ', released before the call returns'}`);
  // What the flags resolve to where the text does not say it: a conditional FOLL_WRITE is named too (issue 16).
  const resolved = [
    ...(f.write === 'conditional' ? ['FOLL_WRITE on some paths'] : []),
    ...(f.longterm === 'always' ? ['FOLL_LONGTERM'] : f.longterm === 'conditional' ? ['FOLL_LONGTERM on some paths'] : []),
  ];
  if (site.flags) facts.push(`- **flags:** ${inlineCode(site.flags.text)}${resolved.length > 0 ? ` (${resolved.join('; ')})` : ''}`);
  if (site.chain.length > 0) facts.push(`- **reached through:** ${site.chain.map((c) => inlineCode(c.name)).join(' → ')}`);
  const place = (uri: string, line: number): string => escapeMarkdown(`${uri.replace(/^.*\//, '')}:${line + 1}`);
  if (site.callers.length > 0) facts.push(`- **callers:** ${site.callers.map((c) => `${inlineCode(`${c.name}()`)} at ${place(c.uri, c.span.start.line)}`).join(', ')}`);
  // Seen from a caller: the finding stands on the pin inside the wrapper.
  if (site.reportedAt) facts.push(`- **reported at:** the ${inlineCode(`${site.reportedAt.callee}()`)} call, ${place(site.reportedAt.uri, site.reportedAt.span.start.line)}`);
  facts.push(`- **era:** ${eraLine(f.kernel, f.kernelSource)}`);
  if (f.branch) facts.push(`- **branch judged:** ${escapeMarkdown(f.branch)}${f.alternatives.length > 0 ? `; other arms: ${escapeMarkdown(f.alternatives.join('; '))}` : ''}`);
  if (site.protections.length > 0) facts.push(`- **protection:** ${site.protections.map((p) => `${p.kind} (${p.place}, ${escapeMarkdown(p.where)})`).join(', ')}`);
  out.push(...facts, '');
  out.push(`Worst order simulated: *${worst.scenario.title}*`, '', beforeAfterTable(worst));
  const linkLine = linksLine(links, code);
  if (linkLine) out.push('', linkLine);
  return out.join('\n');
}

interface KeywordInfo { title: string; text: string; since?: string }

const KEYWORDS: Record<string, KeywordInfo> = {
  FOLL_WRITE: { title: 'FOLL_WRITE', text: 'asks GUP for write access: COW is broken first, so the pinned page is private to the caller when the call returns. After fork() the page is shared write-protected again; on a FOLL_GET pin the next write fault moves one side to a new page while the device keeps the old one.' },
  FOLL_LONGTERM: { title: 'FOLL_LONGTERM', since: '5.2 (932f4a630a69)', text: 'declares a pin held for an unbounded, userspace-controlled time (DMA, RDMA): GUP refuses or migrates pages in ZONE_MOVABLE/CMA first. With pin_user_pages*() it is the documented contract for DMA pins that live past the syscall.' },
  FOLL_PIN: { title: 'FOLL_PIN', since: '5.6 (eddb1c228f79)', text: 'set internally by pin_user_pages*(); drivers must not pass it. A FOLL_PIN pin adds GUP_PIN_COUNTING_BIAS (1024) to the refcount, which is how fork() recognises a page that may be under DMA: from 5.9 (70e806e4e645) such pages are copied for the child at fork, so the parent and the device keep the pinned page.' },
  FOLL_GET: { title: 'FOLL_GET', text: 'a plain page reference, what get_user_pages*() takes. fork() does not recognise it as a DMA pin in any kernel modelled, so the COW rules can move the parent away from the device.' },
  FOLL_FORCE: { title: 'FOLL_FORCE', text: 'allows access the vma permissions deny (debugger semantics). It is not FOLL_WRITE: a FOLL_FORCE-only pin is read-only.' },
  MADV_DONTFORK: { title: 'MADV_DONTFORK', since: '2.6.16', text: 'sets VM_DONTCOPY on the range: fork() leaves it out of the child entirely, so the parent and the device keep the page. The child gets SIGSEGV if it touches the range (it does not read zeros). Only forks after the call are covered.' },
  MADV_WIPEONFORK: { title: 'MADV_WIPEONFORK', since: '4.14 (d2cd9ede6e19)', text: 'the child gets the range empty (zero pages on touch); the parent keeps its pages writable, so the device stays with the parent.' },
  VM_DONTCOPY: { title: 'VM_DONTCOPY', text: 'the vma flag MADV_DONTFORK sets: dup_mmap() skips the vma at fork(), so the parent\'s page is never write-protected or shared and the device stays with the parent in every kernel era.' },
  VM_WIPEONFORK: { title: 'VM_WIPEONFORK', since: '4.14', text: 'the vma flag MADV_WIPEONFORK sets: the child gets the vma with nothing in it, and the parent keeps its pages.' },
};

const NOTIFIER_WORDS = ['mmu_notifier_register', '__mmu_notifier_register', 'mmu_notifier_get', 'mmu_notifier_get_locked', 'mmu_interval_notifier_insert',
  'mmu_interval_notifier_insert_locked', 'mmu_notifier_ops', 'mmu_interval_notifier_ops', 'mmu_interval_notifier', 'mmu_notifier', 'hmm_range_fault'];
for (const w of NOTIFIER_WORDS) {
  KEYWORDS[w] = {
    title: w,
    text: 'an mmu notifier: fork()\'s write-protection of the range and a COW copy in the parent invalidate it, the driver drops its device mapping, and the device re-faults onto the parent\'s current page. The device follows the parent instead of keeping a stale page.',
  };
}

export function isHoverKeyword(word: string): boolean {
  return Object.prototype.hasOwnProperty.call(KEYWORDS, word);
}

/**
 * The hover of a flag, madvise or notifier name. Inside a pin site's call it is specialised to the site (what this
 * flag means for this pin on this kernel); elsewhere it says what the name does on the file's kernel.
 */
export function keywordHover(word: string, kernel: { version: KernelVersionLite; source: string }, site?: { details: SiteDetails; worst: SimulationResult }, links: HoverLinks = {}): string | undefined {
  if (!isHoverKeyword(word)) return undefined;
  const info = KEYWORDS[word];
  const out: string[] = [`**${info.title}**${info.since ? ` (since ${info.since})` : ''}: ${info.text}`, ''];
  if (site) {
    const f = site.details.facts;
    const here: string[] = [];
    if (word === 'FOLL_WRITE') here.push(`Here: ${WRITE_WORDS[f.write]}${site.details.flags ? ` from ${inlineCode(site.details.flags.text)}` : ''}.`);
    else if (word === 'FOLL_LONGTERM' && f.ref === 'get' && refusedFlags('get', new Set([word]), f.kernel).length > 0) here.push(`Here ${inlineCode(`${f.api}()`)} refuses it: from 6.3 FOLL_LONGTERM is only valid with FOLL_PIN, so the call fails with -EINVAL and pins nothing (FS011).`);
    else if (word === 'FOLL_LONGTERM') here.push(f.ref === 'get' ? `Here it marks the pin long-lived, but ${inlineCode(`${f.api}()`)} still takes FOLL_GET references, which fork() does not copy.` : 'Here it makes this FOLL_PIN pin a declared long-term DMA pin.');
    else if (word === 'FOLL_PIN') here.push(f.ref === 'pin' ? 'This site takes a FOLL_PIN pin.' : `This site takes FOLL_GET references: convert it to ${inlineCode(`${f.pinEquivalent ?? 'pin_user_pages'}()`)} to get FOLL_PIN.`);
    here.push(`On ${eraLine(f.kernel, f.kernelSource)}: ${describeOutcome(site.worst)}`);
    out.push(here.join(' '), '', beforeAfterTable(site.worst));
  } else {
    out.push(`This file is analysed for ${eraLine(kernel.version, kernel.source)}.`);
  }
  const linkLine = linksLine(links, site?.details.codes[0]);
  if (linkLine) out.push('', linkLine);
  return out.join('\n');
}
