// The Finding: what the analysis concluded about one site, with the evidence a user needs to trust it and the site details the editor explains.
import type { RuleCode, Severity } from './rules';
import type { Span } from './span';
import type { ScenarioInput } from '../simulation/scenario';
import type { ProtectionFact, SiteFacts } from '../explain/messages';

export interface RelatedLocation {
  uri: string;
  span: Span;
  message: string;
}

/** A text edit in our own coordinates; explain/ computes them, lsp/ and SARIF translate them. */
export interface TextEditSpan {
  uri: string;
  span: Span;
  newText: string;
  /** The same insertion as an LSP snippet (`${1:...}` placeholders to select), for editors that take snippet edits. */
  snippet?: string;
}

export type FixKind = 'convertToPin' | 'addLongterm' | 'fixRelease' | 'suppress' | 'assumeContract' | 'vmDontcopy';

export interface Fix {
  kind: FixKind;
  title: string;
  /** Safe fixes are applied by source.fixAll.forksafe; others only on request. */
  safe: boolean;
  /** Applying the fix makes this finding go away (the simulation of the fixed site no longer diverges). */
  resolves: boolean;
  edits: TextEditSpan[];
  /** Set when the fix cannot be offered here (e.g. no pin_user_pages*() on this kernel); edits is then empty. */
  disabledReason?: string;
  /**
   * Findings the fix knowingly leaves at the pin, its title saying why (a conversion that does not add FOLL_LONGTERM
   * on a path some caller uses briefly leaves FS005): after applying it the file shows what is left, not nothing.
   */
  leaves?: RuleCode[];
}

/** An argument of the pin as written at the outermost call (through wrappers); span only when it is real source text. */
export interface SiteArg {
  text: string;
  uri?: string;
  span?: Span;
}

/** Everything the editor needs to explain and simulate one pin site without re-deriving it. */
export interface SiteDetails {
  uri: string;
  /**
   * The whole call the site is reported on: the pin API call, or the driver's call of the macro or header shim that
   * reaches it (never a wrapper's caller: those are `callers`).
   */
  call: Span;
  /** The called name at that call. */
  callee: string;
  calleeSpan: Span;
  /**
   * The outermost call of this site (the wrapper call whose arguments choose the flags and own the pages) with the
   * whole chain from it to the API; the same call as `call` when the driver calls the API, a macro or a shim itself.
   */
  from: { uri: string; span: Span; callee: string; calleeSpan: Span; chain: SiteDetails['chain'] };
  /** Set on a site seen from its outermost call (lsp/analysisStore.ts callerView): the call it is reported on. */
  reportedAt?: { uri: string; span: Span; callee: string };
  /** The outermost calls that reach this pin through driver functions, each with what it does with the pages. */
  callers: Array<{ name: string; uri: string; span: Span; message: string }>;
  /** The pinning API reached, and where it is called (inside the last wrapper, or the site itself). */
  api: string;
  apiCall: { uri: string; span: Span };
  /** Macros and header shims from `call` down to the API call, outermost first. */
  chain: Array<{ name: string; kind: 'macro' | 'function'; uri: string; span: Span }>;
  /** The user virtual address, the pages array and the flags (or old `write` int), as written at the site. */
  start?: SiteArg;
  pages?: SiteArg;
  flags?: SiteArg;
  facts: SiteFacts;
  /** The scenario simulated for the diagnostic: this pin without any protection. */
  scenario: ScenarioInput;
  /** The same scenario with the protections found (seen, assumed or elsewhere), when there are any. */
  protectedScenario?: ScenarioInput;
  protections: ProtectionFact[];
  /** One sentence from the simulation of `scenario`. */
  outcome: string;
  /** The release calls found for these pages (pinning function, callers, other functions using the same field). */
  releases: Array<{ uri: string; span: Span; api: string }>;
  /** The codes reported at this site (empty for a pin that is fine). */
  codes: RuleCode[];
}

export interface Finding {
  code: RuleCode;
  severity: Severity;
  uri: string;
  span: Span;
  /** What fork() does here, why, and what to do. */
  message: string;
  related: RelatedLocation[];
  fixes: Fix[];
  /** Stable across line moves: rule, function, API and a hash of the call's normalised text. */
  fingerprint: string;
  /** The pin site this finding is about (absent for FS008/FS009, which are not about a pin). */
  site?: SiteDetails;
}
