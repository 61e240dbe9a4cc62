// A standalone SVG timeline of one simulation: rows parent, child, device; one column per step; boxes coloured by frame.

import type { SimulationResult } from './fork';
import { formatKernelVersion } from './kernelEra';
import { CHILD_COPY_FRAME, FIRST_FRAME, PARENT_COPY_FRAME, ZERO_FRAME } from './memoryModel';
import { describeOutcome } from './outcome';
import { deviceCell, processCell } from './traceTable';
import type { MappingView, StateSnapshot } from './trace';

/** Fixed colours for the illustration's frames, so 0xCAFE looks the same in every picture. */
const NAMED_FRAME_COLOURS: ReadonlyMap<number, string> = new Map([
  [FIRST_FRAME, '#4e79a7'],
  [CHILD_COPY_FRAME, '#e15759'],
  [PARENT_COPY_FRAME, '#59a14f'],
  [ZERO_FRAME, '#bab0ac'],
]);
const FURTHER_COLOURS = ['#f28e2b', '#76b7b2', '#edc948', '#b07aa1', '#ff9da7', '#9c755f'];

export function colourForFrame(frame: number): string {
  return NAMED_FRAME_COLOURS.get(frame) ?? FURTHER_COLOURS[frame % FURTHER_COLOURS.length] ?? '#999999';
}

export function escapeXml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

const ROWS = ['parent', 'child', 'device'] as const;
type Row = (typeof ROWS)[number];

const LABEL_WIDTH = 80;
const COLUMN_WIDTH = 132;
const CELL_WIDTH = 116;
const CELL_HEIGHT = 40;
const ROW_GAP = 10;
const TOP = 56;
const LABEL_LINE = 13;

function mappingOf(state: StateSnapshot, row: Row): MappingView | undefined {
  return row === 'device' ? state.device.mapping : state[row].mapping;
}

function fallbackText(state: StateSnapshot, row: Row): string {
  return row === 'device' ? deviceCell(state.device) : processCell(state[row]);
}

/** Breaks a label into short lines at spaces and flag separators. */
function wrapLabel(text: string, max: number): string[] {
  const parts = text.split(/(?<=[ |(])/);
  const lines: string[] = [];
  let current = '';
  for (const part of parts) {
    if (current.length > 0 && (current + part).length > max) {
      lines.push(current.trimEnd());
      current = '';
    }
    current += part;
  }
  if (current.trim().length > 0) {
    lines.push(current.trimEnd());
  }
  return lines;
}

function textLines(x: number, y: number, lines: string[], attrs: string): string {
  const spans = lines
    .map((l, i) => `<tspan x="${x}" dy="${i === 0 ? 0 : LABEL_LINE}">${escapeXml(l)}</tspan>`)
    .join('');
  return `<text x="${x}" y="${y}" ${attrs}>${spans}</text>`;
}

export function renderTimelineSvg(result: SimulationResult): string {
  const { steps, verdict, scenario } = result;
  const labelLines = steps.map((s) => wrapLabel(`${s.index}. ${s.label}`, 18));
  const maxLabelLines = Math.max(1, ...labelLines.map((l) => l.length));
  const rowsBottom = TOP + ROWS.length * (CELL_HEIGHT + ROW_GAP);
  const width = LABEL_WIDTH + steps.length * COLUMN_WIDTH + 16;
  // About 6 px per character at 11 px sans-serif.
  const sentenceLines = wrapLabel(describeOutcome(result), Math.max(40, Math.floor((width - 16) / 6)));
  const sentenceTop = rowsBottom + maxLabelLines * LABEL_LINE + 32;
  const height = sentenceTop + sentenceLines.length * LABEL_LINE + 12;
  const parts: string[] = [];

  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ` +
      'font-family="sans-serif" font-size="11">',
  );
  parts.push(`<title>${escapeXml(`forksafe: ${scenario.title} (${scenario.id})`)}</title>`);
  parts.push(`<rect class="background" x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`);
  parts.push(
    textLines(
      8,
      22,
      [`${scenario.title}, kernel ${formatKernelVersion(scenario.input.kernel)}: ${result.era.name}`],
      'font-size="14" font-weight="bold" fill="#222222"',
    ),
  );

  if (verdict.divergenceStep !== undefined) {
    const x = LABEL_WIDTH + verdict.divergenceStep * COLUMN_WIDTH;
    parts.push(
      `<rect class="divergence" x="${x}" y="${TOP - 18}" width="${COLUMN_WIDTH}" height="${rowsBottom - TOP + 18}" ` +
        'fill="#fff3cd" stroke="#d62728" stroke-width="2"/>',
    );
    parts.push(textLines(x + 6, TOP - 6, ['device and parent part here'], 'fill="#d62728"'));
  }

  ROWS.forEach((row, r) => {
    const y = TOP + r * (CELL_HEIGHT + ROW_GAP);
    parts.push(textLines(8, y + CELL_HEIGHT / 2 + 4, [row], 'font-weight="bold" fill="#222222"'));
    steps.forEach((step, c) => {
      const x = LABEL_WIDTH + c * COLUMN_WIDTH + (COLUMN_WIDTH - CELL_WIDTH) / 2;
      const mapping = mappingOf(step.state, row);
      const fill = mapping ? colourForFrame(mapping.frame) : '#ffffff';
      const stroke = mapping ? '#333333' : '#999999';
      const dash = mapping ? '' : ' stroke-dasharray="4 3"';
      const text = mapping ? [mapping.frameName, mapping.contents] : [fallbackText(step.state, row)];
      const colour = mapping ? '#ffffff' : '#555555';
      parts.push(
        `<rect class="cell" data-row="${row}" data-step="${step.index}" x="${x}" y="${y}" width="${CELL_WIDTH}" ` +
          `height="${CELL_HEIGHT}" rx="4" fill="${fill}" stroke="${stroke}"${dash}>` +
          `<title>${escapeXml(`${row} at step ${step.index}: ${text.join(', ')}`)}</title></rect>`,
      );
      parts.push(textLines(x + 6, y + 16, text.map((t) => (t.length > 20 ? `${t.slice(0, 19)}…` : t)), `fill="${colour}"`));
    });
  });

  steps.forEach((step, c) => {
    const x = LABEL_WIDTH + c * COLUMN_WIDTH + 8;
    parts.push(textLines(x, rowsBottom + 12, labelLines[c] ?? [], `class="step-label" data-step="${step.index}" fill="#222222"`));
  });

  parts.push(textLines(8, sentenceTop, sentenceLines, 'class="outcome" fill="#222222"'));
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
