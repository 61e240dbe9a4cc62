// forksafe/simulation over stdio: the trace, verdict and SVG for a site, other eras and orders on request; and the webview page built from it shows hostile code text as text.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { parse } from 'parse5';
import { EDITOR_CAPABILITIES, LspProcess, REPO_ROOT } from '../helpers/lspProcess';
import type { SimulationResponse } from '../../server/src/lsp/protocol';
import { renderSimulationHtml } from '../../client/src/simulationHtml';

const URI = 'file:///virtual/sim/drv.c';
const TEXT = 'struct r { struct page **pages; };\nint reg(struct r *r, unsigned long a)\n{\n\treturn get_user_pages_fast(a, 1, FOLL_WRITE, r->pages);\n}\n';

interface HtmlNode { nodeName: string; tagName?: string; attrs?: Array<{ name: string; value: string }>; childNodes?: HtmlNode[]; value?: string; content?: HtmlNode }

function walk(node: HtmlNode, visit: (n: HtmlNode) => void): void {
  visit(node);
  for (const c of node.childNodes ?? []) walk(c, visit);
  if (node.content) walk(node.content, visit);
}

function attr(n: HtmlNode, name: string): string | undefined {
  return n.attrs?.find((a) => a.name === name)?.value;
}

function textOf(node: HtmlNode): string {
  let out = '';
  walk(node, (n) => { if (n.nodeName === '#text') out += n.value ?? ''; });
  return out;
}

describe('protocol: forksafe/simulation', function () {
  let server: LspProcess;

  before(async function () {
    server = new LspProcess();
    await server.initialize(EDITOR_CAPABILITIES);
    await server.open(URI, TEXT);
    assert.deepEqual((await server.diagnosticsForCurrentVersion(URI)).map((d) => d.code), ['FS001']);
  });

  after(async function () {
    assert.equal(await server.shutdown(), 0, server.stderr.join(''));
  });

  function simulate(params: object): Promise<SimulationResponse | null> {
    return server.request<SimulationResponse | null>('forksafe/simulation', { textDocument: { uri: URI }, ...params });
  }

  it('answers for a position in the pin call with the worst order of the diagnostic\'s simulation', async function () {
    const r = (await simulate({ position: { line: 3, character: 12 } }))!;
    assert.equal(r.site.api, 'get_user_pages_fast');
    assert.deepEqual(r.site.codes, ['FS001']);
    assert.equal(r.order, 'parent-writes-first');
    assert.equal(r.order, r.worstOrder);
    assert.equal(r.era.id, 'anon-exclusive');
    assert.equal(r.verdict.diverges, true);
    assert.equal(r.verdict.dmaWritesLandIn, 'child');
    assert.equal(r.steps.length, 7);
    assert.equal(r.steps[r.verdict.divergenceStep!].diverged, true);
    assert.deepEqual([r.steps[6].parent.frameName, r.steps[6].device.frameName], ['0xBEEF', '0xCAFE']);
    assert.match(r.outcome, /now the child's/);
    assert.equal(r.steps[0].detail, 'The parent has written its buffer a, which sits on 0xCAFE.', 'the code\'s own name for the buffer (issue 16), not ptr1');
    assert.match(r.trace, /^Scenario: parent writes first/);
    assert.match(r.svg, /^<svg /);
    assert.deepEqual(r.orders.filter((o) => o.simulatedForFinding).map((o) => o.id), ['child-writes-first', 'parent-writes-first', 'child-exits-then-parent-writes']);
    assert.ok(r.docs?.endsWith('/docs/rules/FS001.md'));
  });

  it('the view stays readable in a narrow column: the table scrolls in its own box, labels break between flags only (issue 16)', async function () {
    const r = (await simulate({ findingIndex: 0 }))!;
    const html = renderSimulationHtml(r, { nonce: 'bm9uY2U=', cspSource: 'vscode-resource:' });
    assert.match(html, /<div class="timeline-scroll">\s*<table class="timeline">/);
    assert.match(html, /\.timeline-scroll \{ overflow-x: auto;/);
    assert.match(html, /th\.row \{[^}]*white-space: nowrap;/);
    assert.doesNotMatch(html, /overflow-wrap: anywhere/, 'no letter-by-letter wrapping of labels');
    const pinHeader = /<th class="step[^"]*" data-step="1">([^<]*(?:<wbr>[^<]*)*)<\/th>/.exec(html);
    assert.ok(pinHeader, html.slice(0, 400));
    assert.match(pinHeader[1], /\(<wbr>/, 'a break opportunity after the call\'s parenthesis, none inside a name');
  });

  it('the outcome sentence is the selected order\'s: a writable pin taken after fork() stays with the parent (issue 16)', async function () {
    const after = (await simulate({ findingIndex: 0, order: 'pin-after-fork' }))!;
    assert.equal(after.order, 'pin-after-fork');
    assert.equal(after.verdict.diverges, false);
    assert.match(after.outcome, /^GUP breaks COW before taking its reference/);
    const worst = (await simulate({ findingIndex: 0 }))!;
    assert.notEqual(worst.outcome, after.outcome);
  });

  it('switches era and order on request: on the mapcount era, the child writing first keeps the device with the parent', async function () {
    const r = (await simulate({ findingIndex: 0, eraId: 'mapcount', order: 'child-writes-first' }))!;
    assert.equal(r.era.id, 'mapcount');
    assert.equal(r.order, 'child-writes-first');
    assert.equal(r.verdict.diverges, false);
    assert.equal(r.verdict.deviceSharesWithParent, true);
    const byKernel = (await simulate({ findingIndex: 0, kernel: '5.8', order: 'parent-writes-first' }))!;
    assert.equal(byKernel.era.id, 'gup-breaks-cow');
    assert.equal(byKernel.kernel.version, '5.8');
  });

  it('with the cursor off any pin, answers for the file\'s only finding; null in a file without one (issue 16)', async function () {
    const only = await simulate({ position: { line: 0, character: 2 } });
    assert.ok(only, 'the only finding of the file');
    assert.deepEqual(only.site.codes, ['FS001']);
    const empty = 'file:///virtual/sim/none.c';
    await server.open(empty, 'int f(void)\n{\n\treturn 0;\n}\n');
    await server.diagnosticsForCurrentVersion(empty);
    assert.equal(await server.request<SimulationResponse | null>('forksafe/simulation', { textDocument: { uri: empty }, position: { line: 0, character: 2 } }), null);
  });

  it('the webview page shows code containing </script><img onerror> as text: no injected element, every script carries the nonce', async function () {
    const file = path.join(REPO_ROOT, 'test', 'protocol', 'fixtures', 'hostile_markup_in_code.c');
    const text = fs.readFileSync(file, 'utf8');
    const uri = 'file:///virtual/sim/hostile.c';
    await server.open(uri, text);
    assert.deepEqual((await server.diagnosticsForCurrentVersion(uri)).map((d) => d.code), ['FS001']);
    const r = (await server.request<SimulationResponse | null>('forksafe/simulation', { textDocument: { uri }, findingIndex: 0 }))!;
    const hostile = 'lookup_addr("</script><img src=x onerror=alert(1)>")';
    assert.equal(r.site.start, hostile, 'the response carries the code text unchanged');
    const nonce = 'n0nce+/ABC123=';
    const cspSource = "'self' https://*.vscode-cdn.net"; // what VS Code passes as webview.cspSource
    const html = renderSimulationHtml(r, { nonce, cspSource });
    const doc = parse(html) as unknown as HtmlNode;
    const elements: HtmlNode[] = [];
    walk(doc, (n) => { if (n.tagName) elements.push(n); });
    const scripts = elements.filter((e) => e.tagName === 'script');
    assert.equal(scripts.length, 1);
    assert.ok(scripts.every((s) => attr(s, 'nonce') === nonce), 'every <script> carries the nonce');
    const imgs = elements.filter((e) => e.tagName === 'img');
    assert.deepEqual(imgs.map((i) => (attr(i, 'src') ?? '').slice(0, 26)), ['data:image/svg+xml;base64,'], 'the only image is our own SVG');
    assert.deepEqual(elements.filter((e) => e.attrs?.some((a) => a.name.startsWith('on'))).map((e) => e.tagName), [], 'no event-handler attribute anywhere');
    assert.ok(elements.filter((e) => e.tagName === 'style').every((s) => attr(s, 'nonce') === nonce));
    const csp = elements.find((e) => e.tagName === 'meta' && attr(e, 'http-equiv') === 'Content-Security-Policy');
    assert.equal(attr(csp!, 'content'), `default-src 'none'; style-src ${cspSource} 'nonce-${nonce}'; script-src 'nonce-${nonce}'; img-src ${cspSource} data:;`);
    assert.throws(() => renderSimulationHtml(r, { nonce: 'x" onload="y', cspSource }), /unsafe nonce/);
    assert.throws(() => renderSimulationHtml(r, { nonce, cspSource: "https://a; script-src 'unsafe-inline'" }), /unsafe CSP source/);
    assert.doesNotMatch(html, /unsafe-inline|unsafe-eval/);
    const body = elements.find((e) => e.tagName === 'body')!;
    assert.ok(textOf(body).includes(hostile), 'the code is displayed, as text');
    assert.ok(html.includes('lookup_addr(&#34;&#60;/script&#62;&#60;img src=x onerror=alert(1)&#62;&#34;)'), 'and escaped in the markup');
  });

  it('simulationHtml.ts stays pure: no vscode import, so it renders outside the editor', function () {
    const source = fs.readFileSync(path.join(REPO_ROOT, 'client', 'src', 'simulationHtml.ts'), 'utf8');
    assert.doesNotMatch(source, /from ['"]vscode['"]|require\(['"]vscode['"]\)/);
  });
});
