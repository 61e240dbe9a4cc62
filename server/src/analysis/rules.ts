// The rule catalogue: every FS### code, its title, default severity and what it is about. Codes are never reused.
export type Severity = 'error' | 'warning' | 'information' | 'hint';
export type SeveritySetting = Severity | 'off';

export const RULE_CODES = ['FS001', 'FS002', 'FS003', 'FS004', 'FS005', 'FS006', 'FS007', 'FS008', 'FS009', 'FS010', 'FS011'] as const;
export type RuleCode = (typeof RULE_CODES)[number];

export interface Rule {
  code: RuleCode;
  /** Short name, used as the SARIF rule name. */
  name: string;
  title: string;
  defaultSeverity: Severity;
}

export const RULES: Record<RuleCode, Rule> = {
  FS001: { code: 'FS001', name: 'LongLivedWritablePinUnprotected', title: 'Long-lived writable pin of user memory is not protected against fork()', defaultSeverity: 'error' },
  FS002: { code: 'FS002', name: 'LongLivedReadOnlyPinUnprotected', title: 'Long-lived read-only pin of user memory goes stale after fork()', defaultSeverity: 'warning' },
  FS003: { code: 'FS003', name: 'ProtectionNotVerified', title: 'Fork protection is assumed or found only elsewhere: verify it', defaultSeverity: 'information' },
  FS004: { code: 'FS004', name: 'FollGetForLongLivedDma', title: 'get_user_pages*() used for a long-lived DMA pin where pin_user_pages*() exists', defaultSeverity: 'information' },
  FS005: { code: 'FS005', name: 'LongLivedPinWithoutLongterm', title: 'Long-lived pin_user_pages*() pin without FOLL_LONGTERM', defaultSeverity: 'warning' },
  FS006: { code: 'FS006', name: 'ReleaseMismatch', title: 'Pages released with the wrong API for how they were pinned', defaultSeverity: 'warning' },
  FS007: { code: 'FS007', name: 'ShortLivedPin', title: 'Short-lived pin: exposed to fork() only for the duration of the I/O', defaultSeverity: 'hint' },
  FS008: { code: 'FS008', name: 'SuppressionWithoutReason', title: 'forksafe-ignore without a reason', defaultSeverity: 'warning' },
  FS009: { code: 'FS009', name: 'AnalysisIncomplete', title: 'The analysis of this file was cut short', defaultSeverity: 'information' },
  FS010: { code: 'FS010', name: 'IoBoundedPin', title: 'Pin held until an asynchronous request completes: exposed to fork() for the I/O', defaultSeverity: 'information' },
  FS011: { code: 'FS011', name: 'InvalidGupFlags', title: 'The kernel rejects this pin call: invalid flag combination', defaultSeverity: 'error' },
};

export function isRuleCode(text: string): text is RuleCode {
  return (RULE_CODES as readonly string[]).includes(text);
}

const SEVERITY_RANK: Record<Severity, number> = { error: 0, warning: 1, information: 2, hint: 3 };
/** Among codes of one severity: a call the kernel rejects first (nothing is pinned), then the fork() bug itself, then the pin-API advice, then the notes. */
const CODE_RANK: Partial<Record<RuleCode, number>> = { FS011: -1, FS001: 0, FS002: 1, FS005: 2, FS004: 3, FS003: 4, FS010: 5, FS007: 6 };

/**
 * Which of several codes on one pin stands (lower first): the higher configured severity, then the order above
 * (docs/analysis.md, "How many"). `severity` undefined (the rule is off) ranks last.
 */
export function verdictRank(code: RuleCode, severity: Severity | undefined): number {
  return (severity ? SEVERITY_RANK[severity] : 9) * 10 + (CODE_RANK[code] ?? 9);
}
