// The Finding: what the analysis concluded about one site, with the evidence a user needs to trust it.
import type { RuleCode, Severity } from './rules';
import type { Span } from './span';

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
}

export interface Fix {
  title: string;
  /** Safe fixes are applied by source.fixAll.forksafe; others only on request. */
  safe: boolean;
  edits: TextEditSpan[];
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
}
