// Every custom forksafe/* request, notification and command of the language server, in one file the client imports too.
import { NotificationType, RequestType } from 'vscode-languageserver-protocol';

export const SHOW_SIMULATION_COMMAND = 'forksafe.showSimulation';
export const SCAN_WORKSPACE_COMMAND = 'forksafe.scanWorkspace';
/** The code action kind of "fix all safe forksafe problems in this file" (editor.codeActionsOnSave). */
export const FIX_ALL_KIND = 'source.fixAll.forksafe';

export interface LspPosition { line: number; character: number }
export interface LspRange { start: LspPosition; end: LspPosition }

/** Arguments of forksafe.showSimulation (code action command and hover link). */
export interface ShowSimulationArgs {
  uri: string;
  position: LspPosition;
  /** The diagnostic's fingerprint, when started from one: picks that finding even if several sites share the position. */
  fingerprint?: string;
}

export type SimulationOrderId = 'child-writes-first' | 'parent-writes-first' | 'child-exits-then-parent-writes' | 'pin-after-fork';

export interface SimulationParams {
  textDocument: { uri: string };
  /** A position inside the pin call (or wrapper call); or give `fingerprint` or `findingIndex`. */
  position?: LspPosition;
  fingerprint?: string;
  /** Index into the findings of the document's current analysis. */
  findingIndex?: number;
  /** Simulate another kernel era by id ('mapcount', 'gup-breaks-cow', 'refcount', 'early-cow', 'anon-exclusive')... */
  eraId?: string;
  /** ...or by version ("5.4"); default: the kernel the document was analysed for. */
  kernel?: string;
  /** The event order to show; default: the worst order for this site. */
  order?: SimulationOrderId;
  /** Simulate with the protections found (assumed or elsewhere) instead of the bare pin the diagnostic is about. */
  withProtections?: boolean;
}

/** One box of the timeline: a process's or the device's view of the pinned page at one step. */
export interface SimulationCell {
  /** What the cell says: "0xCAFE rw: parent data #1", "(no child yet)", ... */
  text: string;
  frame?: number;
  frameName?: string;
  contents?: string;
  /** The frame's colour (same as the SVG's), for a mapped cell. */
  colour?: string;
}

export interface SimulationStepView {
  index: number;
  label: string;
  detail: string;
  diverged: boolean;
  parent: SimulationCell;
  child: SimulationCell;
  device: SimulationCell;
}

export interface SimulationResponse {
  uri: string;
  site: {
    callee: string;
    api: string;
    range: LspRange;
    /** Text from the user's code: render it escaped. */
    start?: string;
    pages?: string;
    flags?: string;
    via: string[];
    codes: string[];
  };
  kernel: { version: string; source: string };
  era: { id: string; name: string; commit: string; summary: string };
  eras: Array<{ id: string; name: string; from: string; shipped: boolean }>;
  orders: Array<{ id: SimulationOrderId; title: string; simulatedForFinding: boolean }>;
  order: SimulationOrderId;
  worstOrder: SimulationOrderId;
  scenario: { id: string; title: string; ref: 'get' | 'pin'; access: 'read' | 'write'; longterm: boolean; longLived: boolean; protections: string[] };
  /** Protections the engine found for this site (so the view can offer "with protections"). */
  protectionsFound: string[];
  withProtections: boolean;
  steps: SimulationStepView[];
  verdict: {
    deviceSharesWithParent: boolean;
    dmaWritesLandIn: string;
    childCanReadParentData: boolean;
    parentReadsStale: boolean;
    deviceReadsStale: boolean;
    faults: string[];
    window: string;
    diverges: boolean;
    divergenceStep?: number;
  };
  /** One sentence: what fork() does in this trace. */
  outcome: string;
  /** The plain-text trace table (as `forksafe simulate` prints it). */
  trace: string;
  /** A standalone SVG timeline of the same trace. */
  svg: string;
  /** The rule page of the site's first code, when it has one. */
  docs?: string;
}

export const SimulationRequest = new RequestType<SimulationParams, SimulationResponse | null, void>('forksafe/simulation');

export interface StatusParams {
  /** The document this status is about (the one just analysed); absent after a workspace scan. */
  uri?: string;
  /** Kernel version the document was analysed for, and where it came from. */
  kernel: string;
  kernelSource: string;
  fileFindings: number;
  /** Findings the server currently reports: open documents plus files filled in by a workspace scan. */
  totalFindings: number;
  scanning: boolean;
}

export const StatusNotification = new NotificationType<StatusParams>('forksafe/status');

/** The result of workspace/executeCommand forksafe.scanWorkspace. */
export interface ScanWorkspaceResult {
  files: number;
  findings: number;
  /** Files over the size limit or unreadable; each is logged. */
  skipped: number;
  cancelled: boolean;
}
