// The simulation webview's HTML in headless Chromium: code text from the driver is shown as text, never run, and the CSP is strict.
import { strict as assert } from 'assert';
import type { Browser, Page } from 'playwright-core';
import { renderSimulationHtml } from '../../client/src/simulationHtml';
import type { SimulationCell, SimulationResponse } from '../../server/src/lsp/protocol';
import { launchChromium } from '../helpers/chromium';
import { LspProcess } from '../helpers/lspProcess';

const PAYLOAD = '</script><img src=x onerror="window.__pwned=1">';
const NONCE = 'bm9uY2UtZm9yLXRoZS1jc3AtdGVzdA==';
/** What VS Code 1.100 passes as webview.cspSource (webviewGenericCspSource in its extension host). */
const VSCODE_CSP_SOURCE = "'self' https://*.vscode-cdn.net";
/** The page is served from here by page.route: nothing leaves the browser. */
const PAGE_URL = 'http://127.0.0.1/forksafe-simulation.html';

/** What the page's scripts see, typed here because the tests compile without the DOM library. */
interface PageElement { tagName: string; nonce?: string; className: string; getAttribute(name: string): string | null }
interface Pwned {
  __pwned?: number;
  __posted: unknown[];
  __violations: string[];
  acquireVsCodeApi?: () => unknown;
  document: {
    querySelectorAll(selector: string): ArrayLike<PageElement> & Iterable<PageElement>;
    images: Iterable<PageElement>;
    addEventListener(type: 'securitypolicyviolation', listener: (e: { violatedDirective: string; sample: string }) => void): void;
  };
}

function cell(frame?: number): SimulationCell {
  return frame === undefined ? { text: PAYLOAD } : { text: PAYLOAD, frame, frameName: PAYLOAD, contents: PAYLOAD, colour: `#fff;}</style><script>window.__pwned=1</script>` };
}

/** A response in which every string that can come from the user's code, or that the view prints, is the payload. */
function hostileResponse(): SimulationResponse {
  const step = (index: number) => ({ index, label: PAYLOAD, detail: PAYLOAD, diverged: index === 1, parent: cell(0xcafe), child: cell(), device: cell(0xcafe) });
  return {
    uri: 'file:///drv/evil.c',
    site: { callee: PAYLOAD, api: 'get_user_pages', range: { start: { line: 0, character: 0 }, end: { line: 0, character: 1 } }, start: PAYLOAD, pages: PAYLOAD, flags: PAYLOAD, via: [PAYLOAD], codes: [PAYLOAD] },
    kernel: { version: PAYLOAD, source: PAYLOAD },
    era: { id: PAYLOAD, name: PAYLOAD, commit: PAYLOAD, summary: PAYLOAD },
    eras: [{ id: PAYLOAD, name: PAYLOAD, from: PAYLOAD, shipped: false }],
    orders: [{ id: 'child-writes-first', title: PAYLOAD, simulatedForFinding: true }],
    order: 'child-writes-first',
    worstOrder: 'child-writes-first',
    scenario: { id: PAYLOAD, title: PAYLOAD, ref: 'get', access: 'write', longterm: false, longLived: true, protections: [PAYLOAD] },
    protectionsFound: [PAYLOAD],
    withProtections: false,
    steps: [step(0), step(1), step(2)],
    verdict: {
      deviceSharesWithParent: false, dmaWritesLandIn: PAYLOAD, childCanReadParentData: true, parentReadsStale: true, deviceReadsStale: false,
      faults: [PAYLOAD], window: PAYLOAD, diverges: true, divergenceStep: 1,
    },
    outcome: PAYLOAD,
    trace: PAYLOAD,
    svg: `<svg xmlns="http://www.w3.org/2000/svg"><script>window.__pwned=1</script><text>${PAYLOAD.replace(/[<>&"]/g, '')}</text></svg>`,
    docs: `javascript:window.__pwned=1//${PAYLOAD}`,
  };
}

/** The directives of the page's CSP meta element. */
async function csp(page: Page): Promise<Map<string, string[]>> {
  const content = await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content');
  assert.ok(content, 'a Content-Security-Policy meta element');
  return new Map(content.split(';').map((d) => d.trim()).filter(Boolean).map((d) => {
    const [name, ...values] = d.split(/\s+/);
    return [name, values];
  }));
}

describe('simulation webview: CSP and escaping in Chromium', function () {
  this.timeout(60000);
  let browser: Browser;
  let page: Page;

  /** Loads `html` as the webview would, with a stand-in for acquireVsCodeApi that records posted messages. */
  async function load(html: string): Promise<void> {
    await page.route(PAGE_URL, (route) => route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', body: html }));
    await page.goto(PAGE_URL);
  }

  before(async function () {
    browser = await launchChromium();
  });
  after(async function () {
    await browser?.close();
  });
  beforeEach(async function () {
    page = await browser.newPage();
    // Runs before the page's own scripts: what VS Code provides in a webview, and a record of CSP violations.
    await page.addInitScript(() => {
      const w = globalThis as unknown as Pwned;
      w.__posted = [];
      w.__violations = [];
      w.acquireVsCodeApi = () => ({ postMessage: (m: unknown) => w.__posted.push(m), setState() {}, getState() {} });
      w.document.addEventListener('securitypolicyviolation', (e) => w.__violations.push(`${e.violatedDirective} ${e.sample}`));
    });
  });
  afterEach(async function () {
    await page?.close();
  });

  it('the CSP has a nonce, no unsafe-inline or unsafe-eval, and every script and style carries that nonce', async function () {
    const html = renderSimulationHtml(hostileResponse(), { nonce: NONCE, cspSource: VSCODE_CSP_SOURCE });
    await load(html);
    const policy = await csp(page);
    assert.deepEqual(policy.get('default-src'), ["'none'"]);
    assert.deepEqual(policy.get('script-src'), [`'nonce-${NONCE}'`]);
    assert.ok(policy.get('style-src')?.includes(`'nonce-${NONCE}'`), `style-src: ${policy.get('style-src')}`);
    for (const [name, values] of policy) {
      assert.ok(!values.some((v) => /unsafe-(inline|eval|hashes)/.test(v)), `${name} ${values.join(' ')}`);
      assert.ok(!values.includes('*'), `${name} allows any source`);
      if (name !== 'img-src') assert.ok(!values.includes('data:'), `${name} allows data:`);
    }
    const elements = await page.evaluate(() => [...(globalThis as unknown as Pwned).document.querySelectorAll('script, style')].map((e) => ({ tag: e.tagName, nonce: e.nonce })));
    assert.ok(elements.some((e) => e.tag === 'SCRIPT'), 'the view has its own script');
    assert.deepEqual(elements.filter((e) => e.nonce !== NONCE), [], 'every script and style has the nonce');
    assert.equal(await page.locator('[onerror], [onload], [onclick], [onmouseover]').count(), 0, 'no inline event handler attribute');
  });

  it('shows the injected code as text: no <img> from it, no script run, and the view\'s own nonce script still works', async function () {
    await load(renderSimulationHtml(hostileResponse(), { nonce: NONCE, cspSource: VSCODE_CSP_SOURCE }));
    // The view's own script ran (the nonce lets it): it marks the current step and answers the step buttons.
    await page.locator('th.current').first().waitFor({ state: 'attached' });
    const label = page.locator('#step-label');
    assert.equal(await label.innerText(), 'step 1 of 2');
    await page.locator('#next').click();
    assert.equal(await label.innerText(), 'step 2 of 2');
    await page.locator('#era').dispatchEvent('change');
    assert.deepEqual(await page.evaluate(() => (globalThis as unknown as Pwned).__posted.map((m) => (m as { type: string }).type)), ['simulate']);

    // The payload is on screen as the characters the driver has, wherever the view prints code.
    const asText = page.locator('dd code', { hasText: PAYLOAD });
    assert.ok(await asText.count() >= 3, 'start, pages and flags are shown as text');
    assert.equal(await asText.first().textContent(), PAYLOAD);
    assert.ok(await asText.first().isVisible());
    assert.equal(await page.locator('h1').textContent(), `fork() simulation: ${PAYLOAD}() → get_user_pages()`);

    // The only image is the view's own SVG timeline, as a data: URI (an <img> never runs the SVG's script).
    const images = await page.evaluate(() => [...(globalThis as unknown as Pwned).document.images].map((i) => ({ cls: i.className, src: i.getAttribute('src')?.slice(0, 26) })));
    assert.deepEqual(images, [{ cls: 'svg', src: 'data:image/svg+xml;base64,' }]);
    assert.equal(await page.evaluate(() => (globalThis as unknown as Pwned).document.querySelectorAll('script').length), 1);
    assert.equal(await page.evaluate(() => (globalThis as unknown as Pwned).__pwned), undefined);
    assert.deepEqual(await page.evaluate(() => (globalThis as unknown as Pwned).__violations), [], 'nothing was even attempted');

    // A rule link is a setting (forksafe.docsBaseUrl, which a workspace can set): a javascript: URL in it is refused by the CSP when clicked.
    const violation = page.waitForFunction(() => (globalThis as unknown as Pwned).__violations.length > 0);
    await page.locator('.controls a').click();
    await violation;
    assert.equal(await page.evaluate(() => (globalThis as unknown as Pwned).__pwned), undefined);
  });

  it('if escaping ever failed, the CSP would still block the injected handler (and the payload does run without the CSP)', async function () {
    const html = renderSimulationHtml(hostileResponse(), { nonce: NONCE, cspSource: VSCODE_CSP_SOURCE });
    // Simulate an escaping bug: put the raw payload into the page body.
    const broken = html.replace(/(<body[^>]*>)/, `$1${PAYLOAD}`);
    assert.notEqual(broken, html);
    await load(broken);
    const violation = page.waitForFunction(() => (globalThis as unknown as Pwned).__violations.length > 0);
    await page.locator('img[src="x"]').first().waitFor({ state: 'attached' });
    await violation;
    assert.equal(await page.evaluate(() => (globalThis as unknown as Pwned).__pwned), undefined, 'the CSP blocked the inline onerror');
    assert.match((await page.evaluate(() => (globalThis as unknown as Pwned).__violations)).join('\n'), /script-src/);

    // The control: the same page without its CSP runs the payload, so this harness does notice a script that runs.
    const noCsp = broken.replace(/<meta http-equiv="Content-Security-Policy"[^>]*>/, '');
    await page.unroute(PAGE_URL);
    await load(noCsp);
    await page.waitForFunction(() => (globalThis as unknown as Pwned).__pwned === 1);
  });

  it('renders the real server response for a driver whose code holds the payload, escaped', async function () {
    const server = new LspProcess('stdio');
    try {
      await server.initialize();
      const uri = 'file:///drv/evil.c';
      // In C the payload is a string literal, so its own quotes become single quotes; it is just as live in HTML.
      const payload = PAYLOAD.replace(/"/g, "'");
      const call = `get_user_pages((unsigned long)"${payload}", 1, FOLL_WRITE, mr->pages)`;
      const text = `struct mr { struct page **pages; };\nint reg(struct mr *mr)\n{\n\treturn ${call};\n}\n`;
      await server.open(uri, text);
      const diags = await server.diagnosticsForCurrentVersion(uri);
      assert.ok(diags.length > 0, 'the pin call is a finding');
      const response = await server.request<SimulationResponse | null>('forksafe/simulation', { textDocument: { uri }, position: { line: 3, character: 9 } });
      assert.ok(response, 'forksafe/simulation answered for the pin call');
      assert.ok(response.site.start?.includes(payload), `the response carries the driver's text as the start argument: ${response.site.start}`);
      await load(renderSimulationHtml(response, { nonce: NONCE, cspSource: VSCODE_CSP_SOURCE }));
      assert.ok(await page.getByText(payload).first().isVisible(), 'the code is visible as text');
      assert.equal(await page.locator('img:not(.svg)').count(), 0);
      assert.equal(await page.evaluate(() => (globalThis as unknown as Pwned).__pwned), undefined);
      assert.deepEqual(await page.evaluate(() => (globalThis as unknown as Pwned).__violations), []);
    } finally {
      assert.equal(await server.shutdown(), 0, server.stderr.join(''));
    }
  });
});
