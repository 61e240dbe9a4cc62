// Hover over stdio: a pin call, a wrapper call and FOLL_WRITE explained from the site's simulation, VM_DONTCOPY elsewhere, nothing on plain code.
import { strict as assert } from 'assert';
import type { Hover, MarkupContent } from 'vscode-languageserver-protocol';
import { EDITOR_CAPABILITIES, LspProcess } from '../helpers/lspProcess';

const URI = 'file:///virtual/hover/drv.c';
const LINES = [
  'struct ctx { struct page **pages; struct page **ring; };',
  'static int ctx_pin(struct ctx *c, unsigned long uaddr, int n, unsigned int gup_flags)',
  '{',
  '\treturn get_user_pages_fast(uaddr, n, gup_flags | FOLL_LONGTERM, c->ring);',
  '}',
  'int ctx_setup(struct ctx *c, unsigned long user_va, int n)',
  '{',
  '\tint got = get_user_pages(user_va & PAGE_MASK, n, FOLL_WRITE, c->pages);',
  '\treturn ctx_pin(c, user_va + 4096, n, FOLL_WRITE) + got;',
  '}',
  'static int ctx_mmap(struct file *f, struct vm_area_struct *vma)',
  '{',
  '\tvm_flags_set(vma, VM_IO);',
  '\treturn VM_DONTCOPY;',
  '}',
  '',
];

function at(line: number, needle: string, offset = 1): { line: number; character: number } {
  const character = LINES[line].indexOf(needle);
  assert.ok(character >= 0, `${needle} on line ${line}`);
  return { line, character: character + offset };
}

describe('protocol: hover', function () {
  let server: LspProcess;

  before(async function () {
    server = new LspProcess();
    const init = await server.initialize(EDITOR_CAPABILITIES);
    assert.equal(init.capabilities.hoverProvider, true);
    await server.open(URI, LINES.join('\n'));
    const diags = await server.diagnosticsForCurrentVersion(URI);
    // ctx_pin()'s pin is reported on its own call (line 3), not at the caller on line 8. FOLL_LONGTERM to
    // get_user_pages_fast() is refused from 6.3 (is_valid_gup_args): FS011 there, not a fork() finding (issue 29).
    assert.deepEqual(diags.map((d) => [d.code, d.range.start.line]), [['FS011', 3], ['FS001', 7]]);
  });

  after(async function () {
    assert.equal(await server.shutdown(), 0, server.stderr.join(''));
  });

  async function hover(pos: { line: number; character: number }): Promise<string | undefined> {
    const h = await server.request<Hover | null>('textDocument/hover', { textDocument: { uri: URI }, position: pos });
    return h ? (h.contents as MarkupContent).value : undefined;
  }

  it('on a pin call: the outcome, its address, pages array, flags and era, the before/after table and the links', async function () {
    const md = (await hover(at(7, 'get_user_pages')))!;
    assert.match(md, /^\*\*forksafe FS001\*\* · `get_user_pages\(\)` takes FOLL_GET references, the device may write \(FOLL_WRITE\)/);
    assert.match(md, /After fork\(\), a parent write moves the parent to a new page \(0xBEEF\)/);
    assert.match(md, /\*\*user address:\*\* `user_va & PAGE_MASK`/);
    assert.match(md, /\*\*pages array:\*\* `c->pages`, kept beyond the call/);
    assert.match(md, /\*\*flags:\*\* `FOLL_WRITE`/);
    assert.match(md, /\*\*era:\*\* kernel 6\.12 .*PageAnonExclusive/);
    assert.match(md, /Worst order simulated: \*parent writes first\*/);
    assert.match(md, /\| \*\*parent\*\* \| 0xCAFE rw: parent data #1 \| 0xBEEF rw: parent data #2 \|/);
    assert.match(md, /\| \*\*device\*\* \| 0xCAFE: parent data #1 \|/);
    assert.match(md, /\[FS001 rule\]\(file:\/\/\/.*\/docs\/rules\/FS001\.md\)/);
    const link = /\[Show the fork simulation\]\(command:forksafe\.showSimulation\?([^)]+)\)/.exec(md);
    assert.ok(link, md);
    assert.deepEqual(JSON.parse(decodeURIComponent(link[1])), [{ uri: URI, position: { line: 7, character: 11 } }]);
  });

  it('for a client that does not run command: links (neovim, Helix), the simulation is named in plain text', async function () {
    const plain = new LspProcess();
    try {
      const { experimental: _, ...withoutLinks } = EDITOR_CAPABILITIES;
      await plain.initialize(withoutLinks);
      await plain.open(URI, LINES.join('\n'));
      await plain.diagnosticsForCurrentVersion(URI);
      const h = await plain.request<Hover | null>('textDocument/hover', { textDocument: { uri: URI }, position: at(7, 'get_user_pages') });
      const md = (h!.contents as MarkupContent).value;
      assert.doesNotMatch(md, /command:/, md);
      assert.match(md, /\[FS001 rule\]\(file:\/\/\/.*FS001\.md\) · The full simulation: the "Show fork simulation" code action on this call\./);
    } finally {
      assert.equal(await plain.shutdown(), 0, plain.stderr.join(''));
    }
  });

  it('on a pin inside a wrapper: the finding there, with the caller that keeps the pages', async function () {
    const md = (await hover(at(3, 'get_user_pages_fast')))!;
    assert.match(md, /^\*\*forksafe FS011\*\* · `get_user_pages_fast\(\)` takes FOLL_GET references/);
    assert.match(md, /fails with -EINVAL on this kernel \(FOLL_LONGTERM refused since 6\.3\)/, 'the simulation shows the call failing');
    assert.match(md, /\*\*callers:\*\* `ctx_setup\(\)` at drv\.c:9/);
    assert.match(md, /\*\*flags:\*\* `FOLL_WRITE \| FOLL_LONGTERM`/, 'the flags its caller passes');
  });

  it('on a wrapper call: the wrapper, the API it reaches and the arguments written at this call', async function () {
    const md = (await hover(at(8, 'ctx_pin')))!;
    assert.match(md, /`ctx_pin\(\)` → `get_user_pages_fast\(\)`/);
    assert.match(md, /\*\*reported at:\*\* the `get_user_pages_fast\(\)` call, drv\.c:4/);
    assert.match(md, /\*\*user address:\*\* `user_va \+ 4096`/);
    assert.match(md, /\*\*flags:\*\* `FOLL_WRITE \| FOLL_LONGTERM` \(FOLL_LONGTERM\)/);
    assert.match(md, /\*\*reached through:\*\* `ctx_pin`/);
  });

  it('on FOLL_WRITE inside a pin: what it means for this pin on this kernel, with the table', async function () {
    const md = (await hover(at(7, 'FOLL_WRITE')))!;
    assert.match(md, /^\*\*FOLL_WRITE\*\*: asks GUP for write access/);
    assert.match(md, /Here: the device may write \(FOLL_WRITE\)/);
    assert.match(md, /\| \*\*child\*\* \|/);
  });

  it('on FOLL_LONGTERM in the wrapper: says get_user_pages_fast() refuses it on this kernel', async function () {
    const md = (await hover(at(3, 'FOLL_LONGTERM')))!;
    assert.match(md, /since 5\.2/);
    assert.match(md, /`get_user_pages_fast\(\)` refuses it: from 6\.3 FOLL_LONGTERM is only valid with FOLL_PIN/);
  });

  it('on VM_DONTCOPY outside any pin: the mechanism and the file\'s kernel', async function () {
    const md = (await hover(at(13, 'VM_DONTCOPY')))!;
    assert.match(md, /^\*\*VM_DONTCOPY\*\*: the vma flag MADV_DONTFORK sets/);
    assert.match(md, /This file is analysed for kernel 6\.12/);
  });

  it('nothing on code forksafe has nothing to say about', async function () {
    assert.equal(await hover(at(12, 'vm_flags_set')), undefined);
    assert.equal(await hover(at(7, 'got')), undefined);
  });
});
