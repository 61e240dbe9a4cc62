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

const EXAMPLE = 'rdma_like_mr.c';
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

    server = await CodeServer.start(profile);
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.setDefaultTimeout(STEP_TIMEOUT);
    page.on('request', (req) => {
      const url = new URL(req.url());
      if (/^(https?|wss?):$/.test(url.protocol) && url.hostname !== '127.0.0.1') offLoopback.push(req.url());
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

  it('applies the quick fix from the light bulb (Ctrl+.) and the diagnostic goes away', async function () {
    await backToEditor();
    await goToLine(pin.line);
    await clickSquiggle();
    await see('the light bulb on the pin line', () => editor().locator('.lightBulbWidget').waitFor());
    await page.keyboard.press('Control+.');
    const fix = page.locator('.action-widget .monaco-list-row.action', { hasText: /pin_user_pages/ });
    await see('a quick fix that converts to pin_user_pages*()', () => fix.first().waitFor());
    // Walk the menu with the arrow keys to the fix, as a keyboard user does, and apply it with Enter.
    const rows = await page.locator('.action-widget .monaco-list-row.action').count();
    for (let i = 0; i < rows && !(await fix.first().evaluate((el) => el.classList.contains('focused'))); i++) await page.keyboard.press('ArrowDown');
    await shot('05-quick-fix-menu');
    assert.ok(await fix.first().evaluate((el) => el.classList.contains('focused')), 'the fix is selected in the menu');
    await page.keyboard.press('Enter');
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

  it('reached nothing but loopback, and the workbench threw no error', function () {
    assert.deepEqual(offLoopback, []);
    assert.deepEqual(pageErrors, []);
  });
});
