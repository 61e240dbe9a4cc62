// `forksafe simulate`: runs the fork simulator for a pin described on the command line and prints or saves the trace.

import { parseArgs } from 'util';
import { type SimulationResult, simulateFork } from '../simulation/fork';
import {
  type EraId,
  NEWEST_MODELLED_KERNEL,
  KERNEL_ERAS,
  eraById,
  newerThanModelledNote,
  formatKernelVersion,
  parseKernelVersion,
} from '../simulation/kernelEra';
import { describeOutcome, simulateFinding } from '../simulation/outcome';
import {
  EVENT_ORDERS,
  type Protections,
  type RefKind,
  type ScenarioInput,
  buildScenario,
  isEventOrder,
} from '../simulation/scenario';
import { renderTimelineSvg } from '../simulation/timelineSvg';
import { formatTraceTable } from '../simulation/traceTable';
import { hostKernel } from '../kernelProbe/probeRunner';

export interface SimulateIo {
  out: (s: string) => void;
  err: (s: string) => void;
  writeFile: (path: string, data: string) => void;
}

export const SIMULATE_USAGE = `usage: forksafe simulate [options]

Simulates what fork() does to a user page a driver holds for DMA, step by step.

options:
  --kernel X.Y|host         kernel version, or host for this machine's (default ${formatKernelVersion(NEWEST_MODELLED_KERNEL)});
                            a version newer than ${formatKernelVersion(NEWEST_MODELLED_KERNEL)} gets the newest era's rules, with a note
  --api NAME                the pinning call: get_user_pages*, get_vaddr_frames (FOLL_GET) or pin_user_pages* (FOLL_PIN)
  --ref get|pin             the reference kind, instead of --api (default get)
  --write | --read          the device writes the page (default) or only reads it
  --longterm                the pin uses FOLL_LONGTERM
  --long-lived | --short-lived
                            the pin is held beyond one I/O (default) or dropped when the I/O completes
  --protection P            none|dontfork|wipeonfork|notifier; repeat for several (default none)
  --order ORDER|all         ${EVENT_ORDERS.join('|')}|all (default all)
  --hugetlb                 the buffer is hugetlb memory (hugetlb write faults reuse a page mapped once; early COW
                            covers it from 5.12; MADV_WIPEONFORK fails on it)
  --era ID                  force an era's rules whatever the version: ${KERNEL_ERAS.map((e) => e.id).join('|')}
  --json                    print the results as JSON
  --svg FILE                write an SVG timeline of the selected (or worst) order to FILE
  -h, --help                this help
`;

class UsageError extends Error {}

const PROTECTION_NAMES = ['none', 'dontfork', 'wipeonfork', 'notifier'] as const;

/** get_user_pages*() and get_vaddr_frames() take FOLL_GET references; pin_user_pages*() take FOLL_PIN pins. */
export function refKindForApi(api: string): RefKind | undefined {
  const name = api.trim().replace(/\(\)$/, '');
  if (/^get_user_pages\w*$/.test(name) || name === 'get_vaddr_frames') {
    return 'get';
  }
  if (/^pin_user_pages\w*$/.test(name)) {
    return 'pin';
  }
  return undefined;
}

function parseProtections(values: string[]): Protections {
  const protections: Protections = { dontfork: false, wipeonfork: false, notifier: false };
  const names = values.flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v.length > 0);
  for (const name of names) {
    if (!(PROTECTION_NAMES as readonly string[]).includes(name)) {
      throw new UsageError(`unknown --protection '${name}' (expected ${PROTECTION_NAMES.join('|')})`);
    }
    if (name !== 'none') {
      protections[name as keyof Protections] = true;
    }
  }
  if (names.includes('none') && Object.values(protections).some(Boolean)) {
    throw new UsageError("--protection none cannot be combined with other protections");
  }
  return protections;
}

interface Options {
  input: ScenarioInput;
  order: string;
  json: boolean;
  svg: string | undefined;
  help: boolean;
}

function parseOptions(argv: string[]): Options {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: false,
      strict: true,
      options: {
        kernel: { type: 'string' },
        api: { type: 'string' },
        ref: { type: 'string' },
        write: { type: 'boolean' },
        read: { type: 'boolean' },
        longterm: { type: 'boolean' },
        'long-lived': { type: 'boolean' },
        'short-lived': { type: 'boolean' },
        protection: { type: 'string', multiple: true },
        order: { type: 'string' },
        era: { type: 'string' },
        hugetlb: { type: 'boolean' },
        json: { type: 'boolean' },
        svg: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  const v = parsed.values;

  const host = v.kernel === 'host' ? hostKernel() : undefined;
  if (host && !host.version) {
    throw new UsageError(`--kernel host: cannot read this machine's kernel version ('${host.release}' on ${process.platform})`);
  }
  const kernel = v.kernel === undefined ? NEWEST_MODELLED_KERNEL : host ? host.version : parseKernelVersion(v.kernel);
  if (!kernel) {
    throw new UsageError(`cannot read --kernel '${v.kernel ?? ''}' (expected a version such as 5.4 or 6.1.12, or host)`);
  }
  if (v.api !== undefined && v.ref !== undefined) {
    throw new UsageError('give either --api or --ref, not both');
  }
  let ref: RefKind = 'get';
  let longterm = v.longterm === true;
  if (v.api !== undefined) {
    const fromApi = refKindForApi(v.api);
    if (!fromApi) {
      throw new UsageError(`unknown --api '${v.api}' (expected get_user_pages*, get_vaddr_frames or pin_user_pages*)`);
    }
    ref = fromApi;
    // get_user_pages_longterm() (v4.15..v5.1) is FOLL_GET with FOLL_LONGTERM built in.
    longterm ||= v.api.includes('longterm');
  } else if (v.ref !== undefined) {
    if (v.ref !== 'get' && v.ref !== 'pin') {
      throw new UsageError(`unknown --ref '${v.ref}' (expected get or pin)`);
    }
    ref = v.ref;
  }
  if (v.write && v.read) {
    throw new UsageError('give either --write or --read, not both');
  }
  if (v['long-lived'] && v['short-lived']) {
    throw new UsageError('give either --long-lived or --short-lived, not both');
  }
  let eraId: EraId | undefined;
  if (v.era !== undefined) {
    const era = eraById(v.era);
    if (!era) {
      throw new UsageError(`unknown --era '${v.era}'`);
    }
    eraId = era.id;
  }
  const order = v.order ?? 'all';
  if (order !== 'all' && !isEventOrder(order)) {
    throw new UsageError(`unknown --order '${order}' (expected ${EVENT_ORDERS.join('|')}|all)`);
  }
  if (v.svg !== undefined && v.svg.trim() === '') {
    throw new UsageError('--svg needs a file name');
  }
  const input: ScenarioInput = {
    kernel,
    ref,
    access: v.read ? 'read' : 'write',
    longterm,
    longLived: v['short-lived'] !== true,
    protections: parseProtections(v.protection ?? []),
    hugetlb: v.hugetlb === true,
  };
  if (eraId !== undefined) {
    input.eraId = eraId;
  }
  return { input, order, json: v.json === true, svg: v.svg, help: v.help === true };
}

function runOrders(options: Options): { results: SimulationResult[]; shown: SimulationResult } {
  if (options.order === 'all') {
    const { results, worst } = simulateFinding(options.input);
    return { results, shown: worst };
  }
  const order = EVENT_ORDERS.find((o) => o === options.order);
  if (!order) {
    throw new UsageError(`unknown --order '${options.order}'`);
  }
  const result = simulateFork(buildScenario(options.input, order));
  return { results: [result], shown: result };
}

export function runSimulate(argv: string[], io: SimulateIo): number {
  let options: Options;
  try {
    options = parseOptions(argv);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`forksafe simulate: ${err.message}\n${SIMULATE_USAGE}`);
      return 2;
    }
    throw err;
  }
  if (options.help) {
    io.out(SIMULATE_USAGE);
    return 0;
  }
  const { results, shown } = runOrders(options);
  const note = newerThanModelledNote(options.input.kernel);

  if (options.json) {
    const payload = {
      input: options.input,
      ...(note ? { note } : {}),
      worst: shown.scenario.order,
      results: results.map((r) => ({ ...r, outcome: describeOutcome(r) })),
    };
    io.out(`${JSON.stringify(payload, null, 2)}\n`);
  } else {
    const blocks = results.map(formatTraceTable);
    if (note) io.out(`note: ${note}\n\n`);
    io.out(`${blocks.join('\n\n')}\n`);
    if (results.length > 1) {
      io.out(`\nWorst order: ${shown.scenario.title} (${shown.scenario.order})\n`);
    }
  }

  if (options.svg !== undefined) {
    try {
      io.writeFile(options.svg, renderTimelineSvg(shown));
    } catch (err) {
      io.err(`forksafe simulate: cannot write ${options.svg}: ${err instanceof Error ? err.message : String(err)}\n`);
      return 2;
    }
    if (!options.json) {
      io.out(`Timeline of '${shown.scenario.title}' written to ${options.svg}\n`);
    }
  }
  return 0;
}
