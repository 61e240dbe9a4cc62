// The packaged .vsix installed into a real VS Code (code-server), driven in headless Chromium as a user would, with screenshots.
import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { Browser, Locator, Page } from 'playwright-core';
import { launchChromium } from '../../helpers/chromium';
import { readExpectations } from '../../helpers/expectations';
import { REPO_ROOT } from '../../helpers/lspProcess';
import { CodeServer } from './codeServer';
import { countSyntaxErrors } from '../../helpers/syntaxErrors';
import { syntax } from '../../helpers/syntax';

const EXAMPLE = 'rdma_like_mr.c';
/** A second example with a different finding (FS002 on a read-only pin), for distinct Problems rows and the suppression. */
const SECOND = 'dma_engine_chardev.c';
const ARTIFACTS = path.join(REPO_ROOT, 'test-artifacts', 'vscode');
/** How long a step may take before it counts as not shown at all: a bound for a failure, not a speed assertion. */
const STEP_TIMEOUT = 60_000;

/** The 1-based line that examples/rdma_mr/rdma_like_mr.c says carries FS001, and that line's text. */
function pinLine(): { line: number; text: string } {
  const text = fs.readFileSync(path.join(REPO_ROOT, 'examples', 'rdma_mr', EXAMPLE), 'utf8');
  const lines = [...readExpectations(text).byLine].filter(([, codes]) => codes.includes('FS001')).map(([l]) => l);
  assert.equal(lines.length, 1, `${EXAMPLE} should expect FS001 on exactly one line`);
  return { line: lines[0] + 1, text: text.split('\n')[lines[0]].trim() };
}

/** "category: title" of a command the manifest contributes, as the Command Palette lists it. */
function commandLabel(id: string): string {
  const manifest = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { contributes: { commands?: Array<{ command: string; title: string; category?: string }> } };
  const c = manifest.contributes.commands?.find((x) => x.command === id);
  assert.ok(c, `package.json contributes the command ${id}`);
  return c.category ? `${c.category}: ${c.title}` : c.title;
}

describe('VS Code (code-server): the .vsix as a user sees it', function () {
  this.timeout(300_000);
  const pin = pinLine();
  let tmp: string;
  let server: CodeServer | undefined;
  let browser: Browser | undefined;
  let page: Page;
  const offLoopback: string[] = [];
  const pageErrors: string[] = [];
  let workspaceDir = '';

  async function shot(name: string): Promise<string> {
    const file = path.join(ARTIFACTS, `${name}.png`);
    await page.screenshot({ path: file });
    return file;
  }

  /** Runs a step that waits for something on screen; if it never shows, fails with what the user would have missed and a screenshot. */
  async function see<T>(what: string, step: () => Promise<T>): Promise<T> {
    try {
      return await step();
    } catch (e) {
      const file = await shot(`FAILED-${what.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}`).catch(() => '(no screenshot)');
      const logs = server?.readLogs() ?? '';
      throw new assert.AssertionError({ message: `not seen: ${what}\n${(e as Error).message.split('\n').slice(0, 3).join('\n')}\nscreenshot: ${file}\n${logs.slice(-4000)}` });
    }
  }

  const editor = () => page.locator('.editor-instance .monaco-editor').first();
  const squiggles = () => editor().locator('.squiggly-error');
  /** The rendered editor line whose box holds the vertical centre of `el`. */
  async function lineAt(el: Locator): Promise<{ number: string; text: string }> {
    const box = await boxOf(el);
    const y = box.y + box.height / 2;
    return editor().evaluate((ed, yy) => {
      const hit = (sel: string) => [...ed.querySelectorAll(sel)].find((n) => {
        const r = n.getBoundingClientRect();
        return r.top <= yy && yy < r.bottom;
      });
      return { number: hit('.line-numbers')?.textContent?.trim() ?? '', text: hit('.view-line')?.textContent?.replace(/\u00a0/g, ' ').trim() ?? '' };
    }, y);
  }

  async function goToLine(line: number): Promise<void> {
    await editor().click({ position: { x: 200, y: 10 } });
    await page.keyboard.press('Control+G');
    await page.locator('.quick-input-widget input').waitFor();
    await page.keyboard.type(String(line));
    await page.keyboard.press('Enter');
    await page.locator('.quick-input-widget').waitFor({ state: 'hidden' });
  }

  /** The box of a visible element; the editor re-renders its decorations, so a box taken between two renders is asked for again. */
  async function boxOf(loc: Locator): Promise<{ x: number; y: number; width: number; height: number }> {
    for (let i = 0; i < 20; i++) {
      await loc.waitFor();
      const box = await loc.boundingBox();
      if (box) return box;
    }
    throw new Error(`no box for ${loc}`);
  }

  /** Resolves after the page has painted twice: what a wheel or a scroll changed is on screen. */
  async function nextFrames(): Promise<void> {
    await page.evaluate(() => new Promise<void>((resolve) => {
      const raf = (globalThis as unknown as { requestAnimationFrame(cb: () => void): void }).requestAnimationFrame;
      raf(() => raf(() => resolve()));
    }));
  }

  /** The centre of the (first) error squiggle, once it is drawn. */
  async function squiggleCentre(): Promise<{ x: number; y: number }> {
    const box = await boxOf(squiggles().first());
    return { x: box.x + box.width / 2, y: box.y + box.height / 2 };
  }

  /** Closes whatever a previous step left open (a hover, a menu, the Command Palette) and puts the focus in the editor. */
  async function backToEditor(): Promise<void> {
    await page.keyboard.press('Escape');
    await page.locator('.tabs-container .tab', { hasText: EXAMPLE }).click();
    await page.mouse.move(0, 0);
    await page.keyboard.press('Escape');
    await page.locator('.monaco-hover').first().waitFor({ state: 'hidden' });
  }

  /**
   * Opens the quick fix menu (Ctrl+.), walks it with the arrow keys to the fix whose title matches, as a keyboard user
   * does, and applies it with Enter; a screenshot of the menu with the fix selected.
   */
  async function applyQuickFix(title: RegExp, what: string, screenshot: string): Promise<void> {
    await page.keyboard.press('Control+.');
    const fix = page.locator('.action-widget .monaco-list-row.action', { hasText: title });
    await see(what, () => fix.first().waitFor());
    const focused = () => fix.first().evaluate((el) => el.classList.contains('focused'));
    const rows = await page.locator('.action-widget .monaco-list-row.action').count();
    for (let i = 0; i < rows && !(await focused()); i++) await page.keyboard.press('ArrowDown');
    await shot(screenshot);
    assert.ok(await focused(), `${what}: selected in the menu`);
    await page.keyboard.press('Enter');
  }

  /** Puts the caret on the squiggle, the way a user clicks the underlined call. */
  async function clickSquiggle(): Promise<void> {
    const { x, y } = await squiggleCentre();
    await page.mouse.click(x, y);
  }

  before(async function () {
    fs.rmSync(ARTIFACTS, { recursive: true, force: true });
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'forksafe-code-server-'));
    // FORKSAFE_VSIX tests a .vsix built elsewhere; by default the tree is packaged now, as `npm run package` does.
    let vsix = process.env.FORKSAFE_VSIX;
    if (!vsix) {
      vsix = path.join(tmp, 'forksafe.vsix');
      const vsce = path.join(REPO_ROOT, 'node_modules', '@vscode', 'vsce', 'vsce');
      const r = spawnSync(process.execPath, [vsce, 'package', '--no-dependencies', '--no-rewrite-relative-links', '--allow-missing-repository', '--out', vsix], { cwd: REPO_ROOT, encoding: 'utf8' });
      assert.equal(r.status, 0, `vsce package failed:\n${r.stdout}\n${r.stderr}`);
    }

    const profile = path.join(tmp, 'profile');
    assert.match(CodeServer.installExtension(profile, vsix), /was successfully installed/);
    const workspace = path.join(tmp, 'workspace');
    fs.mkdirSync(workspace);
    fs.copyFileSync(path.join(REPO_ROOT, 'examples', 'rdma_mr', EXAMPLE), path.join(workspace, EXAMPLE));
    fs.copyFileSync(path.join(REPO_ROOT, 'examples', 'dma_engine', SECOND), path.join(workspace, SECOND));
    workspaceDir = workspace;

    server = await CodeServer.start(profile);
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.setDefaultTimeout(STEP_TIMEOUT);
    page.on('request', (req) => {
      const url = new URL(req.url());
      // *.vscode-resource.vscode-cdn.net is the webview resource host the workbench's service worker answers from the
      // local server (the markdown preview's own scripts and styles): it never leaves the machine.
      if (/^(https?|wss?):$/.test(url.protocol) && url.hostname !== '127.0.0.1' && !url.hostname.endsWith('.vscode-resource.vscode-cdn.net')) offLoopback.push(req.url());
    });
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(`${server.url}/?folder=${encodeURI(workspace)}`);
    await see('the workbench with the example in the Explorer', () => page.getByRole('treeitem', { name: EXAMPLE }).waitFor());
    await shot('00-workbench');
  });

  after(async function () {
    await browser?.close();
    await server?.stop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it(`underlines the pin call on line ${pin.line} with an error squiggle`, async function () {
    await page.getByRole('treeitem', { name: EXAMPLE }).click();
    await see('the example open in an editor tab', () => page.locator('.tabs-container .tab.active', { hasText: EXAMPLE }).waitFor());
    await goToLine(pin.line);
    await see('an error squiggle', () => squiggles().first().waitFor());
    await shot('01-squiggle');
    assert.equal(await squiggles().count(), 1, 'one error squiggle in view');
    const at = await lineAt(squiggles().first());
    assert.equal(at.number, String(pin.line));
    assert.equal(at.text, pin.text);
  });

  it('gives the status bar item a plain accessible label: kernel and findings, no markdown (issue 16)', async function () {
    const item = page.locator('.statusbar [aria-label^="forksafe: kernel"]');
    await see('the forksafe status bar item', () => item.first().waitFor());
    const label = (await item.first().getAttribute('aria-label')) ?? '';
    assert.match(label, /^forksafe: kernel 6\.\d+, 1 finding in this file\. Opens the Problems panel\.$/, label);
    assert.doesNotMatch(label, /&nbsp;|\\\(|\$\(/, 'no markdown escapes or icon names');
  });

  it('lists FS001 from forksafe in the Problems panel', async function () {
    await page.keyboard.press('Control+Shift+M');
    const row = page.locator('.markers-panel .monaco-list-row', { hasText: 'FS001' });
    await see('an FS001 row in the Problems panel', () => row.first().waitFor());
    await shot('02-problems');
    assert.equal(await row.count(), 1);
    const text = (await row.first().innerText()).replace(/\s+/g, ' ');
    assert.match(text, /get_user_pages\(\)/, text);
    assert.match(text, /forksafe/, text);
    assert.match(text, new RegExp(`\\[Ln ${pin.line}, Col \\d+\\]`), text);
    assert.equal(await page.locator('.markers-panel .monaco-list-row', { hasText: /FS\d{3}/ }).count(), 1, 'no other finding in this file');
  });

  it('opens the FS001 rule page from the Problems row as a rendered preview, not as editable markdown (issue 16)', async function () {
    const link = page.locator('.markers-panel .monaco-list-row', { hasText: 'FS001' }).first().getByText('FS001', { exact: true });
    await see('the FS001 code link in the Problems row', () => link.first().waitFor());
    await link.first().click();
    const preview = page.locator('.tabs-container .tab', { hasText: /Preview FS001\.md/ });
    await see('a markdown preview tab for FS001.md', () => preview.first().waitFor());
    await shot('02b-rule-preview');
    assert.equal(await page.locator('.tabs-container .tab', { hasText: /^FS001\.md/ }).count(), 0, 'no editable FS001.md tab');
    await preview.first().locator('.codicon-close').click();
    await see('the preview closed', () => preview.first().waitFor({ state: 'detached' }));
  });

  it("shows forksafe's explanation when the mouse rests on the squiggle", async function () {
    await backToEditor();
    // Rest the mouse on the called function's name, at the start of the squiggle.
    const box = await boxOf(squiggles().first());
    await page.mouse.move(box.x + 30, box.y + box.height / 2);
    const hover = page.locator('.monaco-hover').filter({ has: page.locator('.hover-row') }).first();
    await see('the hover over the squiggle', () => hover.waitFor());
    // The diagnostic itself is shown in the hover's marker part; forksafe's own hover (textDocument/hover) is a markdown part.
    const markdown = hover.locator('.markdown-hover');
    await see("forksafe's hover text (a markdown part beside the diagnostic)", () => markdown.first().waitFor());
    // The diagnostic comes first and the hover scrolls: move into the hover and wheel down to forksafe's part, as a reader would.
    const hoverBox = await boxOf(hover);
    await page.mouse.move(hoverBox.x + hoverBox.width / 2, hoverBox.y + 10);
    // One wheel notch scrolls a fixed amount: stop before the notch that would scroll past the part's first line.
    let top = (await boxOf(markdown.first())).y;
    let notch = 0;
    for (let i = 0; i < 40 && top - hoverBox.y > Math.max(notch, 4); i++) {
      await page.mouse.wheel(0, 40);
      await nextFrames();
      const now = (await boxOf(markdown.first())).y;
      if (now === top) break; // scrolled to the end
      notch = top - now;
      top = now;
    }
    assert.ok(top >= hoverBox.y - 40 && top < hoverBox.y + hoverBox.height - 40, `forksafe's part starts inside the hover (${top} in ${hoverBox.y}..${hoverBox.y + hoverBox.height})`);
    await shot('03-hover');
    const text = (await markdown.first().innerText()).replace(/\s+/g, ' ');
    assert.match(text, /forksafe FS001/, text);
    assert.match(text, /get_user_pages\(\)/, text);
    assert.match(text, /fork\(\)/, text);
  });

  it('opens the simulation view from the Command Palette on the finding', async function () {
    const label = commandLabel('forksafe.showSimulation');
    await backToEditor();
    await clickSquiggle();
    await page.keyboard.press('Control+Shift+P');
    await page.locator('.quick-input-widget input').waitFor();
    await page.keyboard.type(label);
    const entry = page.locator('.quick-input-list .monaco-list-row', { hasText: label });
    await see(`"${label}" in the Command Palette`, () => entry.first().waitFor());
    await page.keyboard.press('Enter');
    const outer = page.locator('iframe.webview.ready');
    await see('the simulation webview', () => outer.first().waitFor());
    const inner = outer.first().contentFrame().locator('iframe#active-frame');
    await see("the simulation view's content frame", () => inner.waitFor({ state: 'attached' }));
    const body = inner.contentFrame().locator('body');
    const heading = body.locator('h1');
    await see('the simulation view\'s heading', () => heading.waitFor());
    await shot('04-simulation');
    assert.match(await heading.innerText(), /^fork\(\) simulation: get_user_pages\(\)$/);
    assert.equal(await page.getByRole('tab', { name: /^fork\(\).*get_user_pages/, selected: true }).count(), 1, 'a selected tab for the simulation of get_user_pages()');
    // The trace itself: the pinned frame the device keeps (0xCAFE) and the step the parent and the device part at.
    const shown = (await body.innerText()).replace(/\s+/g, ' ');
    assert.match(shown, /0xCAFE/, shown);
    assert.ok(await body.locator('.diverged').count() > 0, 'the step where the device and the parent part is highlighted');
  });

  it('keeps the simulation view readable at 400 px: row labels on one line, steps scroll inside the table only (issue 16)', async function () {
    const webview = page.locator('iframe.webview.ready').first();
    const wide = (await boxOf(webview)).width;
    // The view sits in the second of two editor groups, which share the width the workbench gives them: narrowing the
    // window by 2·d narrows the view by about d.
    const viewport = page.viewportSize()!;
    await page.setViewportSize({ width: Math.round(viewport.width - 2 * (wide - 400)), height: viewport.height });
    try {
      await nextFrames();
      const narrow = (await boxOf(webview)).width;
      assert.ok(narrow >= 360 && narrow <= 440, `the view is about 400 px wide (${narrow})`);
      const frame = webview.contentFrame().locator('iframe#active-frame').contentFrame();
      await frame.locator('table.timeline').waitFor();
      await shot('04b-simulation-400px');
      const layout = await frame.locator('body').evaluate((body) => {
        const doc = body.ownerDocument;
        // Lines a label's text takes: one box per line (a letter-per-line wrap gives one per letter).
        const lines = (el: unknown): number => {
          const range = doc.createRange();
          range.selectNodeContents(el as never);
          return new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size;
        };
        const labels = [...doc.querySelectorAll('table.timeline th.row')].filter((th) => th.textContent!.trim() !== '')
          .map((th) => ({ text: th.textContent!.trim(), lines: lines(th) }));
        const stepLines = [...doc.querySelectorAll('table.timeline th.step')].map((th) => ({ text: th.textContent!.trim(), lines: lines(th), words: th.textContent!.trim().split(/\s+/).length + (th.textContent!.match(/[(|,]/g) ?? []).length }));
        const scroller = doc.querySelector('.timeline-scroll')!;
        return {
          labels,
          pageScrolls: doc.scrollingElement!.scrollWidth > doc.scrollingElement!.clientWidth + 1,
          tableScrolls: scroller.scrollWidth > scroller.clientWidth,
          stepLines,
        };
      });
      assert.deepEqual(layout.labels.map((l) => l.text), ['parent', 'child', 'device']);
      for (const l of layout.labels) assert.equal(l.lines, 1, `"${l.text}" is on one line`);
      assert.equal(layout.pageScrolls, false, 'the page itself does not scroll sideways');
      // A step label breaks only between words or after '(', '|' or ',': never more lines than those breaks allow.
      for (const st of layout.stepLines) assert.ok(st.lines <= st.words + 1, `step "${st.text}" wraps at its breaks only (${st.lines} lines)`);
    } finally {
      await page.setViewportSize(viewport);
      // The workbench lays out again: wait until the view is back to its width, so later clicks land where they aim.
      for (let i = 0; i < 100 && Math.abs((await boxOf(webview)).width - wide) > 2; i++) await nextFrames();
      await nextFrames();
    }
  });

  it('applies the quick fix from the light bulb (Ctrl+.) and the diagnostic goes away', async function () {
    await backToEditor();
    await goToLine(pin.line);
    await clickSquiggle();
    await see('the light bulb on the pin line', () => editor().locator('.lightBulbWidget').waitFor());
    await applyQuickFix(/pin_user_pages/, 'a quick fix that converts to pin_user_pages*()', '05-quick-fix-menu');
    await see('the squiggle gone after the fix', () => squiggles().first().waitFor({ state: 'detached' }));
    await page.keyboard.press('Control+Shift+M');
    await see('the Problems panel', () => page.locator('.markers-panel').waitFor());
    await see('no FS001 left in the Problems panel', () =>
      page.locator('.markers-panel .monaco-list-row', { hasText: 'FS001' }).first().waitFor({ state: 'detached' }));
    await shot('06-fixed');
    const fixed = await lineAt(editor().locator('.view-line', { hasText: /\bpin_user_pages\(/ }).first());
    assert.equal(fixed.number, String(pin.line), `the fix rewrote line ${pin.line}: ${fixed.text}`);
    assert.doesNotMatch(fixed.text, /\bget_user_pages\(/, fixed.text);
  });

  it('converted every release with the pin, also those in other functions; the saved file parses and scans clean (no FS006)', async function () {
    await backToEditor();
    await goToLine(pin.line);
    await page.keyboard.press('Control+S');
    await see('the editor saved (its tab no longer dirty)', () => page.locator('.tabs-container .tab.dirty', { hasText: EXAMPLE }).first().waitFor({ state: 'detached' }));
    const saved = path.join(workspaceDir, EXAMPLE);
    const original = fs.readFileSync(path.join(REPO_ROOT, 'examples', 'rdma_mr', EXAMPLE), 'utf8');
    let text = '';
    await see('the fixed file saved', async () => {
      const converted = /^\tpinned = pin_user_pages\(/m;
      for (let i = 0; i < 100 && !converted.test(text = fs.readFileSync(saved, 'utf8')); i++) await new Promise((r) => setTimeout(r, 100));
      assert.match(text, converted);
    });
    assert.doesNotMatch(text, /\bput_page\(/, `no put_page() left on these pages:\n${text}`);
    assert.match(text, /unpin_user_pages_dirty_lock\(mr->pages, mr->npages, mr->writable\);/, 'the release loop in ex_dereg_mr() converted');
    assert.match(text, /unpin_user_page\(mr->pages\[--pinned\]\);/, 'the error path in another function converted');
    const s = await syntax();
    assert.ok(countSyntaxErrors(s, text) <= countSyntaxErrors(s, original), 'no new syntax error');
    const cli = spawnSync(process.execPath, [path.join(REPO_ROOT, 'server', 'dist', 'cli.js'), 'scan', '--format', 'gcc', saved], { encoding: 'utf8' });
    assert.equal(cli.stdout, '', `the saved file scans clean: ${cli.stdout}`);
    assert.equal(cli.status, 0, cli.stderr);
  });

  it('shows distinct findings of two files as distinct Problems rows, each naming its call and buffer', async function () {
    await page.getByRole('treeitem', { name: SECOND }).click();
    await see(`${SECOND} open`, () => page.locator('.tabs-container .tab.active', { hasText: SECOND }).waitFor());
    await page.keyboard.press('Control+Shift+M');
    const rows = page.locator('.markers-panel .monaco-list-row', { hasText: /FS\d{3}/ });
    await see('the FS002 row of the second file', () => page.locator('.markers-panel .monaco-list-row', { hasText: 'FS002' }).first().waitFor());
    await shot('07-problems-two-files');
    const texts = (await rows.allInnerTexts()).map((t) => t.replace(/\s+/g, ' '));
    assert.equal(new Set(texts).size, texts.length, `distinct rows: ${texts.join(' | ')}`);
    const fs002 = texts.find((t) => t.includes('FS002'))!;
    assert.match(fs002, /get_user_pages_fast\(\) pins req->pages read-only/, fs002);
  });

  it('suppresses FS002 with a typed reason: the snippet selects the reason, and once typed the finding goes with no FS008', async function () {
    await page.locator('.tabs-container .tab', { hasText: SECOND }).click();
    const warning = editor().locator('.squiggly-warning');
    const line = fs.readFileSync(path.join(workspaceDir, SECOND), 'utf8').split('\n').findIndex((l) => /expect: FS002/.test(l));
    await goToLine(line);
    await see('the FS002 warning squiggle', () => warning.first().waitFor());
    const box = await boxOf(warning.first());
    await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    await applyQuickFix(/Suppress FS002/, 'the suppress fix in the menu', '08a-suppress-menu');
    // The prompt is selected: typing replaces it.
    await see('the forksafe-ignore comment', () => editor().locator('.view-line', { hasText: 'forksafe-ignore FS002' }).first().waitFor());
    await page.keyboard.type('the engine copies the pages into its bounce buffer before the ioctl returns');
    await page.keyboard.press('Escape');
    const comment = await lineAt(editor().locator('.view-line', { hasText: 'forksafe-ignore FS002' }).first());
    assert.equal(comment.text, '// forksafe-ignore FS002: the engine copies the pages into its bounce buffer before the ioctl returns');
    await see('the FS002 squiggle gone', () => warning.first().waitFor({ state: 'detached' }));
    await page.keyboard.press('Control+Shift+M');
    await see('no FS002 row left', () => page.locator('.markers-panel .monaco-list-row', { hasText: 'FS002' }).first().waitFor({ state: 'detached' }));
    await shot('08-suppressed');
    assert.equal(await page.locator('.markers-panel .monaco-list-row', { hasText: 'FS008' }).count(), 0, 'a typed reason is a reason: no FS008');
  });

  it('reached nothing but loopback, and the workbench threw no error', function () {
    assert.deepEqual(offLoopback, []);
    assert.deepEqual(pageErrors, []);
  });
});
