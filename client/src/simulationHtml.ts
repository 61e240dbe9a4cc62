// The simulation view's HTML as a pure function of the server's forksafe/simulation response: strict CSP with a nonce, every string escaped, no vscode import.
import type { SimulationCell, SimulationResponse } from '../../server/src/lsp/protocol';

export interface SimulationHtmlOptions {
  /** A fresh random nonce per render; only elements carrying it may run or style. */
  nonce: string;
  /** webview.cspSource. */
  cspSource: string;
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * Nonces and CSP sources go into attributes and the CSP header: refuse anything but what they are made of (host and
 * scheme sources, and quoted keywords such as 'self', which VS Code's cspSource includes).
 */
function safeToken(text: string, what: string): string {
  const tokens = text.trim().split(/\s+/);
  if (tokens.length === 0 || !tokens.every((t) => /^[A-Za-z0-9+/=:.*-]+$/.test(t) || /^'[a-z-]+'$/.test(t))) throw new Error(`unsafe ${what}`);
  return text.trim();
}

/** A nonce is base64: nothing that could close an attribute or the CSP. */
function safeNonce(nonce: string): string {
  if (!/^[A-Za-z0-9+/=]+$/.test(nonce)) throw new Error('unsafe nonce');
  return nonce;
}

function safeColour(colour: string | undefined): string | undefined {
  return colour && /^#[0-9a-fA-F]{6}$/.test(colour) ? colour : undefined;
}

export function contentSecurityPolicy(o: SimulationHtmlOptions): string {
  const nonce = safeNonce(o.nonce);
  const src = safeToken(o.cspSource, 'CSP source');
  return `default-src 'none'; style-src ${src} 'nonce-${nonce}'; script-src 'nonce-${nonce}'; img-src ${src} data:;`;
}

const STYLE = `
body { font-family: var(--vscode-font-family, sans-serif); color: var(--vscode-foreground, #222); background: var(--vscode-editor-background, #fff); padding: 0 16px 24px; }
h1 { font-size: 1.2em; }
code { font-family: var(--vscode-editor-font-family, monospace); }
.outcome { font-weight: bold; }
.facts { display: grid; grid-template-columns: max-content auto; gap: 2px 12px; }
.facts dt { font-weight: bold; }
.facts dd { margin: 0; }
.controls { display: flex; flex-wrap: wrap; gap: 8px 16px; align-items: center; margin: 12px 0; }
.controls label { max-width: 100%; }
.controls select { max-width: 100%; }
.timeline-scroll { overflow-x: auto; max-width: 100%; }
table.timeline { border-collapse: separate; border-spacing: 4px; }
table.timeline th { text-align: left; font-weight: normal; vertical-align: bottom; max-width: 12em; overflow-wrap: normal; word-break: normal; hyphens: none; }
table.timeline th.row { font-weight: bold; white-space: nowrap; position: sticky; left: 0; z-index: 1; background: var(--vscode-editor-background, #fff); }
td.cell { vertical-align: top; }
.box { border-radius: 4px; padding: 4px 6px; min-width: 7em; min-height: 2.6em; border: 1px solid #333; color: #fff; }
.box.empty { border: 1px dashed #999; color: var(--vscode-descriptionForeground, #555); background: transparent; }
.diverged { outline: 2px solid #d62728; background: rgba(255, 243, 205, 0.25); }
.future { opacity: 0.15; }
.current { box-shadow: 0 0 0 2px var(--vscode-focusBorder, #007fd4); }
ol.details li.future { display: none; }
.verdict td { padding: 1px 8px 1px 0; }
img.svg { max-width: 100%; background: #fff; }
`;

function cellHtml(c: SimulationCell, step: number, row: string, diverged: boolean): string {
  const cls = ['cell', diverged ? 'diverged' : ''].filter(Boolean).join(' ');
  const colourClass = c.frame !== undefined && safeColour(c.colour) ? `box frame-${c.frame}` : 'box empty';
  const inner = c.frameName ? `<strong>${escapeHtml(c.frameName)}</strong><br>${escapeHtml(c.contents ?? '')}` : escapeHtml(c.text);
  return `<td class="${cls}" data-step="${step}" data-row="${row}" title="${escapeHtml(`${row} at step ${step}: ${c.text}`)}"><div class="${colourClass}">${inner}</div></td>`;
}

function option(value: string, label: string, selected: boolean): string {
  return `<option value="${escapeHtml(value)}"${selected ? ' selected' : ''}>${escapeHtml(label)}</option>`;
}

function yesNo(b: boolean): string {
  return b ? 'yes' : 'no';
}

/** The whole webview page for one simulation response. */
export function renderSimulationHtml(r: SimulationResponse, o: SimulationHtmlOptions): string {
  const nonce = safeNonce(o.nonce);
  const frames = new Map<number, string>();
  for (const s of r.steps) for (const c of [s.parent, s.child, s.device]) {
    const colour = safeColour(c.colour);
    if (c.frame !== undefined && colour) frames.set(c.frame, colour);
  }
  const frameCss = [...frames].map(([frame, colour]) => `.frame-${Math.trunc(frame)} { background: ${colour}; }`).join('\n');
  const divergence = r.verdict.divergenceStep;
  const head = r.site.callee === r.site.api ? `<code>${escapeHtml(r.site.api)}()</code>` : `<code>${escapeHtml(r.site.callee)}()</code> → <code>${escapeHtml(r.site.api)}()</code>`;
  const facts: string[] = [];
  const fact = (k: string, v: string | undefined, code = true): void => { if (v) facts.push(`<dt>${escapeHtml(k)}</dt><dd>${code ? `<code>${escapeHtml(v)}</code>` : escapeHtml(v)}</dd>`); };
  fact('user address', r.site.start);
  fact('pages array', r.site.pages);
  fact('flags', r.site.flags);
  if (r.site.via.length > 0) fact('through', r.site.via.join(' → '));
  fact('findings', r.site.codes.length > 0 ? r.site.codes.join(', ') : 'none', false);
  fact('kernel', `${r.kernel.version} (${r.kernel.source}): ${r.era.name}`, false);
  fact('era commit', r.era.commit, false);
  fact('scenario', `${r.scenario.ref === 'pin' ? 'FOLL_PIN' : 'FOLL_GET'}, ${r.scenario.access}, ${r.scenario.longterm ? 'FOLL_LONGTERM, ' : ''}${r.scenario.longLived ? 'long-lived' : 'short-lived'}${r.scenario.protections.length > 0 ? `, protected by ${r.scenario.protections.join(' + ')}` : ''}`, false);

  // Step labels break only between flags and arguments (`pin_user_pages(FOLL_WRITE|FOLL_LONGTERM)`), never inside a
  // name; the table scrolls sideways inside its own box when the view is narrow, its row labels staying in place.
  const breakable = (label: string): string => escapeHtml(label).replace(/([|(,])/g, '$1<wbr>');
  const stepHeaders = r.steps.map((s) => `<th class="step${s.index === divergence ? ' diverged' : ''}" data-step="${s.index}">${s.index}. ${breakable(s.label)}</th>`).join('');
  const rows = (['parent', 'child', 'device'] as const).map((row) =>
    `<tr><th class="row">${row}</th>${r.steps.map((s) => cellHtml(s[row], s.index, row, s.diverged)).join('')}</tr>`).join('\n');
  const details = r.steps.map((s) => `<li value="${s.index}" data-step="${s.index}">${s.diverged ? '<strong>* </strong>' : ''}${escapeHtml(s.detail || s.label)}</li>`).join('\n');
  const v = r.verdict;
  const verdict = [
    ['device shares with parent', `${yesNo(v.deviceSharesWithParent)}${v.diverges && divergence !== undefined ? ` (they part at step ${divergence})` : ''}`],
    ['DMA writes land in', v.dmaWritesLandIn],
    ['child can read parent data', yesNo(v.childCanReadParentData)],
    ['parent reads stale data', yesNo(v.parentReadsStale)],
    ['device reads stale data', yesNo(v.deviceReadsStale)],
    ['faults', v.faults.length > 0 ? v.faults.join('; ') : 'none'],
    ['window', v.window === 'pin-lifetime' ? 'as long as the pin is held' : 'one short I/O'],
  ].map(([k, val]) => `<tr><td>${escapeHtml(k)}</td><td>${escapeHtml(val)}</td></tr>`).join('');
  const svg = Buffer.from(r.svg, 'utf8').toString('base64');
  const initial = divergence ?? r.steps.length - 1;

  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(contentSecurityPolicy(o))}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<style nonce="${nonce}">${STYLE}
${frameCss}</style>
<title>forksafe: fork() simulation</title>
</head>
<body data-steps="${r.steps.length}" data-initial-step="${initial}">
<h1>fork() simulation: ${head}</h1>
<p class="outcome" id="outcome">${escapeHtml(r.outcome)}</p>
<dl class="facts">${facts.join('')}</dl>
<div class="controls">
<label>Kernel era <select id="era">${r.eras.map((e) => option(e.id, `${e.name}${e.shipped ? '' : ' (never released alone)'}`, e.id === r.era.id)).join('')}</select></label>
<label>Event order <select id="order">${r.orders.map((x) => option(x.id, `${x.title}${x.id === r.worstOrder ? ' (worst)' : ''}`, x.id === r.order)).join('')}</select></label>
${r.protectionsFound.length > 0 ? `<label><input type="checkbox" id="protections"${r.withProtections ? ' checked' : ''}> with the protection found (${escapeHtml(r.protectionsFound.join(' + '))})</label>` : ''}
<span><button id="first" type="button" title="first step">first</button> <button id="prev" type="button">◀ step</button> <span id="step-label">step ${initial} of ${r.steps.length - 1}</span> <button id="next" type="button">step ▶</button> <button id="last" type="button" title="last step">last</button></span>
${r.docs ? `<a href="${escapeHtml(r.docs)}">${escapeHtml(r.site.codes[0] ?? 'rule')} rule</a>` : ''}
</div>
<div class="timeline-scroll">
<table class="timeline">
<thead><tr><th class="row"></th>${stepHeaders}</tr></thead>
<tbody>
${rows}
</tbody>
</table>
</div>
<p>Highlighted columns: the device maps a different page than the parent.</p>
<ol class="details" start="0">
${details}
</ol>
<h2>Verdict</h2>
<table class="verdict">${verdict}</table>
<details><summary>Trace as text</summary><pre>${escapeHtml(r.trace)}</pre></details>
<details><summary>Timeline as a picture (SVG)</summary><img class="svg" alt="timeline of the same trace" src="data:image/svg+xml;base64,${svg}"></details>
<script nonce="${nonce}">
(function () {
  const vscode = acquireVsCodeApi();
  const body = document.body;
  const total = Number(body.dataset.steps);
  let step = Number(body.dataset.initialStep);
  function show() {
    for (const el of document.querySelectorAll('[data-step]')) {
      const s = Number(el.getAttribute('data-step'));
      el.classList.toggle('future', s > step);
      el.classList.toggle('current', s === step && el.tagName === 'TH');
    }
    document.getElementById('step-label').textContent = 'step ' + step + ' of ' + (total - 1);
  }
  function go(s) { step = Math.max(0, Math.min(total - 1, s)); show(); }
  document.getElementById('first').addEventListener('click', function () { go(0); });
  document.getElementById('prev').addEventListener('click', function () { go(step - 1); });
  document.getElementById('next').addEventListener('click', function () { go(step + 1); });
  document.getElementById('last').addEventListener('click', function () { go(total - 1); });
  function simulate() {
    const protections = document.getElementById('protections');
    vscode.postMessage({ type: 'simulate', eraId: document.getElementById('era').value, order: document.getElementById('order').value,
      withProtections: protections ? protections.checked : false });
  }
  document.getElementById('era').addEventListener('change', simulate);
  document.getElementById('order').addEventListener('change', simulate);
  const protections = document.getElementById('protections');
  if (protections) protections.addEventListener('change', simulate);
  show();
})();
</script>
</body>
</html>
`;
}

/** A page that only says something (no site at the cursor, server not ready). */
export function renderMessageHtml(message: string, o: SimulationHtmlOptions): string {
  return `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="${escapeHtml(contentSecurityPolicy(o))}"><title>forksafe: fork() simulation</title></head>
<body><p>${escapeHtml(message)}</p></body>
</html>
`;
}
