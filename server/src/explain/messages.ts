// Words every diagnostic: what fork() does here (from the simulation), why (flags, lifetime, protection), and what to do.
import type { RuleCode } from '../analysis/rules';
import type { LifetimeReason } from '../analysis/lifetime/lifetime';
import type { ProtectionKind, ProtectionPlace } from '../analysis/protections';
import type { Tri } from '../analysis/flags';
import type { KernelVersionLite, RefKind } from '../analysis/pinApis';
import { kernelAtLeast } from '../simulation/kernelEra';

export interface SiteFacts {
  api: string;
  /** The wrapper or macro called at the site, when the API is reached through one. */
  via: string[];
  ref: RefKind;
  write: Tri;
  longterm: Tri;
  longLived: boolean;
  lifetimeReason: LifetimeReason;
  kernel: KernelVersionLite;
  kernelSource: string;
  pinEquivalent?: string;
  /** Other arms (a compat #ifdef, a macro defined per kernel): what they pin and on which kernels they compile. */
  alternatives: string[];
  /** Which preprocessor arm was judged and why, when the pin sits in one (docs/analysis.md, "Kernel eras and compat branches"). */
  branch?: string;
  /** The caller that keeps the pages, when the pin sits in a driver function its callers reach: `f() (file.c:LINE)`. */
  keptBy?: string;
  /** The pages buffer as the code writes it where it is kept (`mr->pages`, `ctx->ring`), for the headline. */
  buffer?: string;
}

export interface ProtectionFact {
  kind: ProtectionKind; place: ProtectionPlace;
  /** `file.c:LINE` as the message prints it. */
  where: string;
  reason?: string;
  /** The file and zero-based line `where` names: a report reused after an edit that moves this line must be recomputed. */
  at?: { uri: string; line: number };
}

const PROTECTION_NAMES: Record<ProtectionKind, string> = {
  dontfork: 'VM_DONTCOPY / MADV_DONTFORK',
  wipeonfork: 'VM_WIPEONFORK / MADV_WIPEONFORK',
  notifier: 'an mmu notifier',
};

const PLACE_PHRASE: Record<ProtectionPlace, string> = {
  function: 'seen in this function at',
  file: 'seen in this file at',
  assumed: 'assumed by the annotation at',
  driver: 'tied to this pin, in another file of the driver at',
};

const LIFETIME_WHY: Record<LifetimeReason, string> = {
  longterm: 'it is a FOLL_LONGTERM pin',
  stored: 'the pages are stored in a structure that outlives the call',
  returned: 'the pages are returned to the caller',
  'out-param': 'the pages are passed out through a pointer',
  mapped: 'the pages are mapped (scatterlist/DMA/vmap) beyond the call',
  global: 'the pages are kept in a global',
  'caller-array': "the pages belong to the caller's array and are not released here",
  kept: 'the pages are not released on the success path',
  released: 'the pages are released before the function returns',
  'io-bounded': 'the pages are released when the asynchronous request completes',
  'handed-back': 'the pages are handed back to callers outside the analysed code, which decide how long they live',
};

function v(k: KernelVersionLite): string {
  return `${k.major}.${k.minor}`;
}

function callName(f: SiteFacts): string {
  return f.via.length > 0 ? `${f.via[0]}() (reaching ${f.api}())` : `${f.api}()`;
}

function refPhrase(f: SiteFacts): string {
  return f.ref === 'pin' ? 'a FOLL_PIN pin' : 'FOLL_GET page references';
}

function writePhrase(f: SiteFacts): string {
  if (f.write === 'always') return 'with FOLL_WRITE';
  if (f.write === 'conditional') return 'with FOLL_WRITE on some paths';
  return 'read-only';
}

function kernelPhrase(f: SiteFacts): string {
  return `kernel ${v(f.kernel)} (${f.kernelSource})`;
}

/** What to do, specific to the reference kind and the kernel era. */
export function remedy(f: SiteFacts): string {
  const protect = 'set VM_DONTCOPY on the vma in the driver (or have userspace call madvise(MADV_DONTFORK) and state it with a forksafe-assume comment), or follow the CPU page tables with an mmu interval notifier';
  if (f.ref === 'get') {
    if (kernelAtLeast(f.kernel, 5, 9)) return `Use ${f.pinEquivalent ?? 'pin_user_pages*'}() with FOLL_LONGTERM (kernels from 5.9 copy FOLL_PIN pages to the child at fork, 70e806e4e645), or ${protect}.`;
    if (kernelAtLeast(f.kernel, 5, 6)) return `On ${v(f.kernel)} even pin_user_pages*() is not copied at fork (that came in 5.9): ${protect}; converting to ${f.pinEquivalent ?? 'pin_user_pages*'}() with FOLL_LONGTERM also fixes it from 5.9 on.`;
    return `pin_user_pages*() does not exist before 5.6: ${protect}.`;
  }
  if (!kernelAtLeast(f.kernel, 5, 9)) return `Kernels before 5.9 do not copy pinned pages at fork (70e806e4e645): ${protect}.`;
  if (f.write === 'never' && !kernelAtLeast(f.kernel, 5, 19)) {
    // The only FOLL_PIN case left exposed on 5.9-5.18: a read-only pin taken on a page still COW-shared with a child.
    return `Before 5.19 a read-only pin can land on a page still shared copy-on-write with an earlier child: pin with FOLL_WRITE as well (GUP then breaks COW and the parent owns the page), require 5.19 or later (PageAnonExclusive unshares read-only pins), or ${protect}.`;
  }
  return `Add FOLL_LONGTERM, or ${protect}.`;
}

export interface MessageInput {
  code: RuleCode;
  facts: SiteFacts;
  /** One sentence from the simulation of this site without any protection (what fork() does). */
  outcome: string;
  /** One sentence from the simulation with the protections taken into account. */
  protectedOutcome?: string;
  protections: ProtectionFact[];
  /** Flags this kernel refuses in the call (FS011), with the version and the kernel change that refuses them. */
  refused?: RefusedFlag[];
}

export interface RefusedFlag { flag: string; why: string; since: string; source: string; always: boolean }

/** What to do about one refused flag. */
function refusedFix(f: SiteFacts, x: RefusedFlag): string {
  if (x.flag === 'FOLL_LONGTERM') return `pin with ${f.pinEquivalent ?? 'pin_user_pages*'}() and FOLL_LONGTERM (release with unpin_user_pages()), which is also what makes the pin survive fork() from 5.9`;
  if (x.flag === 'FOLL_PIN' && f.ref === 'get') return `call ${f.pinEquivalent ?? 'pin_user_pages*'}() instead of passing FOLL_PIN (release with unpin_user_pages())`;
  return `drop ${x.flag} from the flags: ${f.api}() sets what it needs itself`;
}

/** The buffer as a message names it: the code's own expression, without `&` or casts, short. */
function bufferName(f: SiteFacts): string {
  const raw = (f.buffer ?? '').replace(/\s+/g, ' ').replace(/^\(\s*[\w\s*]+\)\s*/, '').replace(/^&\s*/, '').trim();
  if (!raw) return 'its pages';
  return raw.length > 40 ? `${raw.slice(0, 37)}...` : raw;
}

/**
 * The first sentence of a pin finding: the call, the buffer and the consequence, short enough for a Problems panel
 * row (issue 16), so that findings in one file read differently when they differ. The simulated outcome, the why and
 * the fix follow it.
 */
export function headline(code: RuleCode, f: SiteFacts): string | undefined {
  const call = callName(f);
  const buf = bufferName(f);
  const access = f.write === 'never' ? 'read-only' : f.write === 'conditional' ? 'writable on some paths' : 'writable';
  switch (code) {
    case 'FS001': return `${call} pins ${buf} ${access} past the call: after fork() the device writes where the parent no longer is.`;
    case 'FS002': return `${call} pins ${buf} read-only past the call: after fork() a parent write leaves the device reading stale data.`;
    case 'FS003': return `${call} on ${buf} relies on a protection forksafe cannot see in this code: verify it.`;
    case 'FS004': return `${call} pins ${buf} with FOLL_GET for long-lived DMA: only its protection keeps it right across fork().`;
    case 'FS005': return `${call} keeps ${buf} pinned past the call without FOLL_LONGTERM.`;
    case 'FS007': return `Short-lived pin: ${call} on ${buf} (${access}) is exposed to fork() only during this I/O.`;
    case 'FS010': return `I/O-bounded pin: ${call} on ${buf} (${access}) is exposed to fork() only while the request is in flight.`;
    default: return undefined;
  }
}

export function siteMessage(m: MessageInput): string {
  const head = headline(m.code, m.facts);
  const body = siteMessageBody(m);
  return head ? `${head} ${body}` : body;
}

function siteMessageBody(m: MessageInput): string {
  const f = m.facts;
  const kept = f.keptBy ? ` (in ${f.keptBy})` : '';
  const why = `${callName(f)} takes ${refPhrase(f)} ${writePhrase(f)} and ${LIFETIME_WHY[f.lifetimeReason]}${kept}, on ${kernelPhrase(f)}`;
  // Other arms that compile on some kernel first; at most three in the message (--explain and the hover list all).
  const others = [...f.alternatives].sort((a, b) => Number(a.includes('where a build does not take')) - Number(b.includes('where a build does not take')));
  const shown = others.slice(0, 3).join('; ') + (others.length > 3 ? `; ${others.length - 3} more` : '');
  const alt = f.alternatives.length > 0 ? ` (judged: ${f.branch ?? `${f.api}()`}; other arms: ${shown})` : '';
  switch (m.code) {
    case 'FS001':
    case 'FS002':
      return `${capital(m.outcome)} Why: ${why}${alt}, and nothing in the driver protects this range from fork(). Fix: ${remedy(f)}`;
    case 'FS003': {
      const p = m.protections[0];
      const how = p.place === 'assumed'
        ? `forksafe assumes ${PROTECTION_NAMES[p.kind]} because of the annotation at ${p.where}${p.reason ? ` ("${p.reason}")` : ''}; it cannot see it in the code`
        : `${PROTECTION_NAMES[p.kind]} is found only in another file of the driver (${p.where}), not where this range is set up`;
      return `Verify the fork protection: ${how}. With it: ${m.protectedOutcome ?? 'the device stays with the parent'} Without it: ${m.outcome} Why: ${why}${alt}.`;
    }
    case 'FS004':
      return `${callName(f)} takes FOLL_GET references for a long-lived DMA pin; it relies on ${m.protections.map((p) => `${PROTECTION_NAMES[p.kind]} (${PLACE_PHRASE[p.place]} ${p.where})`).join(', ') || 'a protection'}, and that is its only defence: kernels from 5.9 copy only FOLL_PIN pages at fork. Without it: ${m.outcome} Fix: use ${f.pinEquivalent ?? 'pin_user_pages*'}() with FOLL_LONGTERM and release with unpin_user_pages().`;
    case 'FS005':
      return `${capital(m.outcome)} But a long-lived pin without FOLL_LONGTERM may sit in ZONE_MOVABLE or CMA memory and block migration and memory hot-unplug. Why: ${LIFETIME_WHY[f.lifetimeReason]}. Fix: add FOLL_LONGTERM to the flags.`;
    case 'FS011': {
      const list = m.refused ?? [];
      const first = list[0];
      if (!first) return m.outcome;
      const paths = first.always ? '' : ' on the paths that pass it';
      const reasons = list.map((x) => `${x.why} (since ${x.since}: ${x.source})`).join('; ');
      return `${callName(f)} is refused by ${kernelPhrase(f)}: it is passed ${list.map((x) => x.flag).join(' and ')}${paths}, so it WARNs and returns -EINVAL and no page is pinned. Why: ${reasons}. Fix: ${list.map((x) => refusedFix(f, x)).join('; ')}.`;
    }
    case 'FS010':
      return `${capital(m.outcome)} The pages are kept until the asynchronous request completes; like O_DIRECT AIO this is usually acceptable; ${f.ref === 'get' ? `${f.pinEquivalent ?? 'pin_user_pages*'}() (FOLL_PIN pages are copied at fork from 5.9) closes even that window` : 'FOLL_PIN already closes it from 5.9'}; keep the pages out of objects that outlive the request.`;
    case 'FS007':
      return `${capital(m.outcome)} The pages are released before the call returns: usually acceptable (like O_DIRECT); keep them out of long-lived structures.`;
    default:
      return m.outcome;
  }
}

export function releaseMismatchMessage(release: string, pinnedWith: string, pinRef: RefKind): string {
  if (pinRef === 'pin') {
    return `${release}() releases pages pinned with ${pinnedWith}() (FOLL_PIN): it drops one reference, not the pin bias (GUP_PIN_COUNTING_BIAS = 1024), so the pages stay pinned forever and fork() keeps copying them. Fix: release with unpin_user_page()/unpin_user_pages() (unpin_user_pages_dirty_lock() when the device wrote).`;
  }
  return `${release}() releases pages taken with ${pinnedWith}() (FOLL_GET references): it subtracts the pin bias (GUP_PIN_COUNTING_BIAS = 1024) from a page that holds one reference, underflowing the refcount and freeing the page while it is still mapped. Fix: release with put_page() (set_page_dirty_lock() first when the device wrote), or pin with pin_user_pages*().`;
}

export function suppressionWithoutReasonMessage(codes: string[]): string {
  const example = codes[0] ?? 'FS001';
  const what = codes.length > 0 ? `forksafe-ignore ${codes.join(', ')} has no reason` : 'forksafe-ignore names no rule code (FS###)';
  return `${what}, so it is not applied. Name the rule and say why the pin is safe, e.g. \`// forksafe-ignore ${example}: the buffer is never shared with a child\`.`;
}

function capital(s: string): string {
  return s.length > 0 ? s[0].toUpperCase() + s.slice(1) : s;
}
