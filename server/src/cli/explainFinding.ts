// `--explain`: the simulated fork() outcome of a finding in a line or two (from the finding's site scenario), and its message split into headline, why and fix.
import type { Finding } from '../analysis/finding';
import { formatKernelVersion } from '../simulation/kernelEra';
import { describeOutcome, simulateFinding } from '../simulation/outcome';
import type { ScenarioInput } from '../simulation/scenario';

/** The first sentence of a message: the one-line outcome the text format prints. */
export function headlineOf(message: string): string {
  for (let i = 0; i < message.length; i++) {
    const c = message[i];
    if (c !== '.' && c !== '!' && c !== '?') continue;
    if (i + 1 === message.length) return message;
    if (message[i + 1] === ' ' && /[A-Z]/.test(message[i + 2] ?? '')) return message.slice(0, i + 1);
  }
  return message;
}

/** What follows the headline, one line per part ("Why: …", "Fix: …"). */
export function detailLinesOf(message: string): string[] {
  const rest = message.slice(headlineOf(message).length).trim();
  if (rest === '') return [];
  return rest.split(/\s+(?=(?:Why|Fix|With it|Without it): )/).map((s) => s.trim()).filter((s) => s !== '');
}

function describeScenario(input: ScenarioInput): string {
  const prot = Object.entries(input.protections).filter(([, on]) => on).map(([k]) => k);
  return [
    `kernel ${formatKernelVersion(input.kernel)}`,
    input.ref === 'pin' ? 'FOLL_PIN' : 'FOLL_GET',
    input.longterm ? 'FOLL_LONGTERM' : undefined,
    input.access === 'write' ? 'device writes' : 'device reads',
    input.longLived ? 'long-lived' : 'short-lived',
    prot.length > 0 ? `protected by ${prot.join(' + ')}` : 'no protection',
  ].filter((s) => s !== undefined).join(', ');
}

/** "simulated: …; worst of 3 orders is parent writes first: diverges" and, unless the message already opens with it, the outcome sentence. */
function simulationText(label: string, input: ScenarioInput, message: string): string[] {
  const { results, worst } = simulateFinding(input);
  const verdict = worst.verdict.diverges ? 'the device and the parent part' : 'the device stays with the parent';
  const outcome = describeOutcome(worst);
  const lines = [`${label}: ${describeScenario(input)} (${worst.era.name}); worst of ${results.length} orders is ${worst.scenario.title}: ${verdict}`];
  if (!message.includes(outcome)) lines.push(`  ${outcome}`);
  return lines;
}

/**
 * The simulated outcome of a finding about a pin site (its scenario without protection and, when the site has
 * protections, with them), from the site details the engine attaches. Empty for FS008/FS009, which are not about a pin.
 */
export function simulationLines(f: Finding): string[] {
  const site = f.site;
  if (!site) return [];
  const lines = simulationText('simulated', site.scenario, f.message);
  if (site.protectedScenario) lines.push(...simulationText('with the protection', site.protectedScenario, f.message));
  return lines;
}

/**
 * The callers of a pin inside a driver helper, one per line with where it is and what it does with the pages
 * (docs/analysis.md): the finding stands on the pin, these decide its verdict.
 */
export function callerLines(f: Finding, display: (uri: string) => string): string[] {
  return (f.site?.callers ?? []).map((c) => `caller ${display(c.uri)}:${c.span.start.line + 1}: ${c.message}`);
}

/** The preprocessor arm judged on this kernel and what the other arms would pin (docs/analysis.md). */
export function branchLines(f: Finding): string[] {
  const facts = f.site?.facts;
  if (!facts?.branch) return [];
  return [`branch: ${facts.branch}`, ...facts.alternatives.map((a) => `  other arm: ${a}`)];
}

/** Everything --explain prints under a finding: the simulation, its callers, then the why and the fix from the message. */
export function explainLines(f: Finding, display: (uri: string) => string): string[] {
  return [...simulationLines(f), ...branchLines(f), ...callerLines(f, display), ...detailLinesOf(f.message)];
}
