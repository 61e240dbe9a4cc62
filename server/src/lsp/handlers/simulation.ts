// forksafe/simulation: the trace, verdict and SVG of one pin site's fork simulation, for any kernel era and event order.
import type { SiteDetails } from '../../analysis/finding';
import { simulateFork, SimulationResult } from '../../simulation/fork';
import { eraById, eraFor, formatKernelVersion, KERNEL_ERAS, parseKernelVersion } from '../../simulation/kernelEra';
import { describeOutcome, simulateFinding } from '../../simulation/outcome';
import { buildScenario, EVENT_ORDERS, EventOrder, isEventOrder, ordersFor, ScenarioInput } from '../../simulation/scenario';
import { colourForFrame, renderTimelineSvg } from '../../simulation/timelineSvg';
import { deviceCell, formatTraceTable, processCell } from '../../simulation/traceTable';
import type { MappingView, Step } from '../../simulation/trace';
import { StoredAnalysis, siteAt } from '../analysisStore';
import { toRange } from '../convert';
import type { SimulationCell, SimulationParams, SimulationResponse } from '../protocol';

const ORDER_TITLES: Record<EventOrder, string> = {
  'child-writes-first': 'child writes first',
  'parent-writes-first': 'parent writes first',
  'child-exits-then-parent-writes': 'child exits, then parent writes',
  'pin-after-fork': 'pin taken after fork()',
};

/** The site a request names: by fingerprint, by finding index, or by a position inside its call. */
export function siteForRequest(a: StoredAnalysis, p: Pick<SimulationParams, 'fingerprint' | 'findingIndex' | 'position'>): SiteDetails | undefined {
  if (p.fingerprint) {
    const f = a.report.findings.find((x) => x.fingerprint === p.fingerprint && x.site);
    if (f?.site) return f.site;
  }
  if (p.findingIndex !== undefined) {
    const f = a.report.findings[p.findingIndex];
    if (f?.site) return f.site;
  }
  const at = p.position ? siteAt(a.report, p.position) : undefined;
  if (at) return at;
  // The cursor is elsewhere and the file has one finding about a pin: that is the one the user means (issue 16).
  const pinned = a.report.findings.filter((f) => f.site);
  return pinned.length === 1 ? pinned[0].site : undefined;
}

/** The scenario input for a request: the site's, on the requested kernel or era, with or without its protections. */
export function scenarioForRequest(site: SiteDetails, p: Pick<SimulationParams, 'eraId' | 'kernel' | 'withProtections'>): ScenarioInput {
  const base = p.withProtections && site.protectedScenario ? site.protectedScenario : site.scenario;
  const input: ScenarioInput = { ...base, protections: { ...base.protections } };
  const era = p.eraId ? eraById(p.eraId) : undefined;
  if (era) {
    input.eraId = era.id;
    // A kernel inside the era keeps version-dependent details (hugetlb early COW, 5.12) consistent with the era chosen.
    if (eraFor(input.kernel).id !== era.id) input.kernel = { ...era.from };
  } else if (p.kernel) {
    const v = parseKernelVersion(p.kernel);
    if (v) { input.kernel = v; delete input.eraId; }
  }
  return input;
}

/** The worst simulated order for the site as the diagnostic describes it (used by hover). */
export function worstFor(site: SiteDetails): SimulationResult {
  return simulateFinding(site.scenario).worst;
}

function cellOf(m: MappingView | undefined, text: string): SimulationCell {
  return m ? { text, frame: m.frame, frameName: m.frameName, contents: m.contents, colour: colourForFrame(m.frame) } : { text };
}

function stepView(s: Step): SimulationResponse['steps'][number] {
  return {
    index: s.index, label: s.label, detail: s.detail, diverged: s.diverged,
    parent: cellOf(s.state.parent.status === 'running' ? s.state.parent.mapping : undefined, processCell(s.state.parent)),
    child: cellOf(s.state.child.status === 'running' ? s.state.child.mapping : undefined, processCell(s.state.child)),
    device: cellOf(s.state.device.mapping, deviceCell(s.state.device)),
  };
}

export function simulationResponse(a: StoredAnalysis, site: SiteDetails, p: SimulationParams): SimulationResponse {
  const input = scenarioForRequest(site, p);
  const forFinding = ordersFor(input);
  const { results, worst } = simulateFinding(input);
  const order: EventOrder = p.order && isEventOrder(p.order) ? p.order : worst.scenario.order;
  const chosen = results.find((r) => r.scenario.order === order) ?? simulateFork(buildScenario(input, order));
  const era = eraById(chosen.era.id) ?? eraFor(input.kernel);
  const protections = (Object.keys(input.protections) as Array<keyof ScenarioInput['protections']>).filter((k) => input.protections[k]);
  const found = site.protectedScenario ? (Object.keys(site.protectedScenario.protections) as Array<keyof ScenarioInput['protections']>).filter((k) => site.protectedScenario!.protections[k]) : [];
  const v = chosen.verdict;
  return {
    uri: site.uri,
    site: {
      callee: site.callee, api: site.api, range: toRange(site.call), start: site.start?.text, pages: site.pages?.text, flags: site.flags?.text,
      via: site.chain.map((c) => c.name), codes: [...site.codes],
    },
    kernel: { version: formatKernelVersion(input.kernel), source: p.eraId || p.kernel ? 'chosen in the simulation view' : site.facts.kernelSource },
    era: { id: era.id, name: era.name, commit: era.commit, summary: era.summary },
    eras: KERNEL_ERAS.map((e) => ({ id: e.id, name: e.name, from: formatKernelVersion(e.from), shipped: e.shipped })),
    orders: EVENT_ORDERS.map((id) => ({ id, title: ORDER_TITLES[id], simulatedForFinding: forFinding.includes(id) })),
    order, worstOrder: worst.scenario.order,
    scenario: { id: chosen.scenario.id, title: chosen.scenario.title, ref: input.ref, access: input.access, longterm: input.longterm, longLived: input.longLived, protections },
    protectionsFound: found,
    withProtections: !!p.withProtections && !!site.protectedScenario,
    steps: chosen.steps.map(stepView),
    verdict: {
      deviceSharesWithParent: v.deviceSharesWithParent, dmaWritesLandIn: v.dmaWritesLandIn, childCanReadParentData: v.childCanReadParentData,
      parentReadsStale: v.parentReadsStale, deviceReadsStale: v.deviceReadsStale, faults: [...v.faults], window: v.window, diverges: v.diverges,
      divergenceStep: v.divergenceStep,
    },
    outcome: describeOutcome(chosen),
    trace: formatTraceTable(chosen),
    svg: renderTimelineSvg(chosen),
    docs: site.codes[0] ? a.docsLink(site.codes[0]) : undefined,
  };
}
