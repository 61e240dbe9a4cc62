// Kernel-driver-like C text for the synthetic corpus: functions with error-path gotos, macros, #if blocks,
// struct initialisers, register tables. All of it is generated here from word lists; none is copied from the kernel.
import { Prng } from './prng';

export const BLOCKS = ['gfx', 'sdma', 'vcn', 'jpeg', 'dce', 'dcn', 'mmhub', 'gmc', 'ih', 'psp', 'smu', 'nbio', 'hdp',
  'athub', 'umc', 'df', 'mp', 'thm', 'smuio', 'vpe', 'mes', 'kiq', 'rlc', 'cp', 'sq', 'ta', 'pcie', 'xgmi'];
const NOUNS = ['ring', 'fence', 'ctx', 'queue', 'doorbell', 'irq', 'clock', 'power', 'fw', 'ucode', 'buf', 'bo', 'vm',
  'pte', 'page_table', 'mqd', 'hqd', 'wptr', 'rptr', 'sched', 'job', 'cntl', 'status', 'mask', 'cfg', 'state', 'table',
  'entry', 'req', 'resp', 'msg', 'fifo', 'lane', 'pipe', 'plane', 'stream', 'link', 'crtc', 'encoder', 'timing', 'pll',
  'gate', 'domain', 'sensor', 'fan', 'limit', 'profile', 'mode', 'level', 'range', 'seg', 'aperture', 'window'];
const VERBS = ['init', 'fini', 'setup', 'reset', 'enable', 'disable', 'start', 'stop', 'program', 'update', 'get', 'set',
  'read', 'write', 'flush', 'wait', 'poll', 'submit', 'emit', 'alloc', 'free', 'map', 'unmap', 'bind', 'unbind',
  'validate', 'resume', 'suspend', 'load', 'parse', 'apply', 'commit', 'query', 'handle', 'process', 'dump'];
const FIELDS = ['ENABLE', 'BASE_LO', 'BASE_HI', 'SIZE', 'MODE', 'RESET', 'BUSY', 'IDLE', 'VMID', 'PRIORITY', 'SEL',
  'ADDR', 'DATA', 'CNTL', 'STATUS', 'INDEX', 'COUNT', 'THRESHOLD', 'TIMEOUT', 'CREDIT', 'WRAP', 'VALID', 'DIRTY'];
const TYPES = ['u32', 'u64', 'int', 'unsigned int', 'bool', 'uint32_t', 'u16', 'unsigned long', 'size_t', 'long'];
const CONFIGS = ['CONFIG_DEBUG_FS', 'CONFIG_PM', 'CONFIG_ACPI', 'CONFIG_DRM_FBDEV_EMULATION', 'CONFIG_HSA_AMD',
  'CONFIG_COMPAT', 'CONFIG_X86', 'CONFIG_DRM_XGPU_DC', 'CONFIG_DEV_COREDUMP', 'CONFIG_MMU_NOTIFIER'];
const MESSAGES = ['failed to %s %s (%d)\\n', '%s: timeout waiting for %s\\n', 'cannot %s %s: %d\\n', '%s %s busy\\n',
  'invalid %s for %s\\n', '%s %s not supported\\n'];
export const INCLUDES = ['linux/kernel.h', 'linux/module.h', 'linux/slab.h', 'linux/delay.h', 'linux/firmware.h',
  'linux/pci.h', 'linux/list.h', 'linux/mutex.h', 'linux/spinlock.h', 'linux/dma-mapping.h', 'linux/pm_runtime.h',
  'drm/drm_print.h', 'drm/drm_device.h', 'drm/drm_file.h', 'drm/drm_gem.h', 'linux/debugfs.h', 'linux/seq_file.h'];

/** What a file's generated code is named after. */
export interface FileVocab {
  prefix: string;
  block: string;
}

export class CTextGen {
  private serial = 0;
  private readonly functions: string[] = [];
  private readonly labels = ['err_free', 'err_fini', 'err_unlock', 'err_put', 'out', 'err_disable', 'err_unmap'];

  constructor(private readonly rng: Prng, readonly vocab: FileVocab) {}

  /** Names of functions already generated in this file (for calls between them and for ops tables). */
  get definedFunctions(): readonly string[] {
    return this.functions;
  }

  private noun(): string { return this.rng.pick(NOUNS); }
  private verb(): string { return this.rng.pick(VERBS); }
  fnName(): string { return `${this.vocab.prefix}_${this.vocab.block}_${this.verb()}_${this.noun()}${this.serial++ % 7 === 0 ? '' : `_${this.serial}`}`; }
  reg(): string { return `mm${this.vocab.block.toUpperCase()}_${this.noun().toUpperCase()}_${this.rng.pick(FIELDS)}${this.rng.int(0, 3) || ''}`; }
  field(): string { return this.rng.pick(FIELDS); }
  private structName(): string { return `${this.vocab.prefix}_${this.vocab.block}_${this.noun()}`; }

  fileComment(): string {
    return `// SPDX-License-Identifier: MIT\n/*\n * Synthetic ${this.vocab.block.toUpperCase()} support for the forksafe benchmark corpus.\n` +
      ` * Generated text with the shape of a GPU driver; it is not kernel source and is never compiled.\n */\n`;
  }

  includes(local: string[]): string {
    const n = this.rng.int(3, 9);
    const picked = new Set<string>();
    for (let i = 0; i < n; i++) picked.add(this.rng.pick(INCLUDES));
    return [...[...picked].sort().map((h) => `#include <${h}>`), ...local.map((h) => `#include "${h}"`)].join('\n') + '\n\n';
  }

  /** One top-level unit: a function most of the time, sometimes macros, a struct, a table or an ops initialiser. */
  unit(): string {
    const r = this.rng.next();
    if (r < 0.62) return this.func();
    if (r < 0.70) return this.defines();
    if (r < 0.77) return this.struct();
    if (r < 0.83) return this.goldenTable();
    if (r < 0.89 && this.functions.length >= 3) return this.opsTable();
    if (r < 0.95) return this.configBlock();
    return this.func();
  }

  defines(): string {
    const out: string[] = [];
    const base = `${this.vocab.prefix.toUpperCase()}_${this.vocab.block.toUpperCase()}`;
    for (let i = this.rng.int(2, 8); i > 0; i--) {
      const r = this.rng.next();
      const name = `${base}_${this.noun().toUpperCase()}_${this.field()}_${this.serial++}`;
      if (r < 0.5) out.push(`#define ${name}\t\t${this.rng.chance(0.5) ? `0x${this.rng.int(0, 0xffff).toString(16)}` : this.rng.int(1, 4096)}`);
      else if (r < 0.75) out.push(`#define ${name.toLowerCase()}(adev, x)\t((adev)->${this.vocab.block}.${this.noun()}[(x)])`);
      else {
        out.push(`#define ${name}_WAIT(adev, reg, mask) \\`, '\tdo { \\', '\t\tunsigned int __tries = 100; \\',
          '\t\twhile ((RREG32(reg) & (mask)) && --__tries) \\', '\t\t\tudelay(1); \\', '\t} while (0)');
      }
    }
    return out.join('\n') + '\n\n';
  }

  struct(): string {
    const name = this.structName();
    const out = [`struct ${name} {`];
    for (let i = this.rng.int(3, 12); i > 0; i--) {
      const r = this.rng.next();
      if (r < 0.6) out.push(`\t${this.rng.pick(TYPES)} ${this.noun()}_${this.rng.int(0, 9)};`);
      else if (r < 0.75) out.push(`\tstruct ${this.vocab.prefix}_${this.noun()} *${this.noun()};`);
      else if (r < 0.85) out.push(`\tstruct list_head ${this.noun()}_list;`);
      else if (r < 0.93) out.push(`\tspinlock_t ${this.noun()}_lock;`);
      else out.push(`\tint (*${this.verb()})(struct ${this.vocab.prefix}_device *adev, u32 ${this.noun()});`);
    }
    out.push('};');
    return out.join('\n') + '\n\n';
  }

  goldenTable(): string {
    const out = [`static const u32 golden_settings_${this.vocab.block}_${this.serial++}[] = {`];
    for (let i = this.rng.int(6, 60); i > 0; i--) {
      out.push(`\t${this.reg()}, 0x${this.rng.int(0, 0xffffffff).toString(16).padStart(8, '0')}, 0x${this.rng.int(0, 0xffffffff).toString(16).padStart(8, '0')},`);
    }
    out.push('};');
    return out.join('\n') + '\n\n';
  }

  opsTable(): string {
    const out = [`static const struct ${this.vocab.prefix}_${this.vocab.block}_funcs ${this.vocab.block}_${this.noun()}_funcs_${this.serial++} = {`];
    const used = new Set<string>();
    for (let i = this.rng.int(3, 10); i > 0; i--) {
      const member = `${this.verb()}_${this.noun()}`;
      if (used.has(member)) continue;
      used.add(member);
      out.push(`\t.${member} = ${this.rng.pick(this.functions)},`);
    }
    out.push('};');
    return out.join('\n') + '\n\n';
  }

  configBlock(): string {
    const cfg = this.rng.pick(CONFIGS);
    const kind = this.rng.next();
    const open = kind < 0.5 ? `#if IS_ENABLED(${cfg})` : `#ifdef ${cfg}`;
    const body = this.func();
    if (this.rng.chance(0.5)) {
      const stubName = this.functions[this.functions.length - 1];
      return `${open}\n${body}#else\nstatic inline int ${stubName}_stub(struct ${this.vocab.prefix}_device *adev)\n{\n\treturn 0;\n}\n#endif /* ${cfg} */\n\n`;
    }
    return `${open}\n${body}#endif\n\n`;
  }

  /** A function of 10 to ~90 lines: locals, register access, loops, a switch, error paths with gotos. */
  func(inline = false): string {
    const name = this.fnName();
    const isStatic = inline || this.rng.chance(0.7);
    const ret = this.rng.chance(0.7) ? 'int' : this.rng.pick(['void', 'u32', 'bool', 'long']);
    const params = [`struct ${this.vocab.prefix}_device *adev`];
    for (let i = this.rng.int(0, 3); i > 0; i--) params.push(`${this.rng.pick(TYPES)} ${this.noun()}${i}`);
    const out: string[] = [];
    if (this.rng.chance(0.25)) out.push('/*', ` * ${name} - ${this.verb()} the ${this.noun()} of the ${this.vocab.block} block`, ' *', ` * Returns 0 on success, negative error code on failure.`, ' */');
    out.push(`${isStatic ? 'static ' : ''}${inline ? 'inline ' : ''}${ret} ${name}(${params.join(', ')})`, '{');
    out.push('\tint r = 0, i;', `\tu32 tmp = 0;`);
    if (this.rng.chance(0.5)) out.push(`\tstruct ${this.structName()} *${this.noun()}_p = adev->${this.vocab.block}.priv;`);
    out.push('');
    const labels: string[] = [];
    const statements = this.rng.int(3, 14);
    for (let i = 0; i < statements; i++) this.statement(out, 1, labels);
    if (ret === 'void') {
      if (labels.length > 0) { for (const l of labels) out.push(`${l}:`, `\t${this.vocab.prefix}_${this.vocab.block}_${l.replace(/^err_/, '')}(adev);`); }
      out.push('}');
    } else {
      out.push(`\treturn ${ret === 'int' || ret === 'long' ? 'r' : ret === 'bool' ? 'r == 0' : 'tmp'};`);
      for (const l of labels) out.push(`${l}:`, `\t${this.vocab.prefix}_${this.vocab.block}_${l.replace(/^err_/, '')}(adev);`);
      if (labels.length > 0) out.push(`\treturn ${ret === 'void' ? '' : ret === 'bool' ? 'false' : ret === 'u32' ? '0' : 'r'};`);
      out.push('}');
    }
    if (!isStatic && this.rng.chance(0.3)) out.push(`EXPORT_SYMBOL_GPL(${name});`);
    this.functions.push(name);
    return out.join('\n') + '\n\n';
  }

  private statement(out: string[], depth: number, labels: string[]): void {
    const ind = '\t'.repeat(depth);
    const r = this.rng.next();
    const deeper = depth < 3;
    if (r < 0.18) {
      out.push(`${ind}tmp = RREG32(${this.reg()});`, `${ind}tmp = REG_SET_FIELD(tmp, ${this.vocab.block.toUpperCase()}_${this.noun().toUpperCase()}, ${this.field()}, ${this.rng.int(0, 1)});`, `${ind}WREG32(${this.reg()}, tmp);`);
    } else if (r < 0.32) {
      const label = this.rng.pick(this.labels);
      if (!labels.includes(label)) labels.push(label);
      const msg = this.rng.pick(MESSAGES);
      out.push(`${ind}r = ${this.calleeName()}(adev${this.rng.chance(0.5) ? `, ${this.rng.int(0, 64)}` : ''});`, `${ind}if (r) {`,
        `${ind}\tdev_err(adev->dev, "${msg}", "${this.verb()}", "${this.noun()}", r);`, `${ind}\tgoto ${label};`, `${ind}}`);
    } else if (r < 0.42 && deeper) {
      out.push(`${ind}for (i = 0; i < adev->${this.vocab.block}.num_${this.noun()}s; i++) {`);
      for (let k = this.rng.int(1, 3); k > 0; k--) this.statement(out, depth + 1, labels);
      out.push(`${ind}}`);
    } else if (r < 0.50 && deeper) {
      out.push(`${ind}if (adev->${this.vocab.block}.${this.noun()}_${this.rng.int(0, 9)} ${this.rng.pick(['>', '==', '!=', '&'])} ${this.rng.int(0, 16)}) {`);
      for (let k = this.rng.int(1, 3); k > 0; k--) this.statement(out, depth + 1, labels);
      if (this.rng.chance(0.4)) {
        out.push(`${ind}} else {`);
        this.statement(out, depth + 1, labels);
      }
      out.push(`${ind}}`);
    } else if (r < 0.56 && deeper) {
      const it = this.noun();
      out.push(`${ind}list_for_each_entry(${it}, &adev->${this.vocab.block}.${it}_list, node) {`);
      this.statement(out, depth + 1, labels);
      out.push(`${ind}}`);
    } else if (r < 0.62 && deeper) {
      out.push(`${ind}switch (adev->asic_type) {`);
      for (let k = this.rng.int(2, 5); k > 0; k--) {
        out.push(`${ind}case CHIP_${this.rng.pick(BLOCKS).toUpperCase()}${this.rng.int(1, 12)}:`);
        this.statement(out, depth + 1, labels);
        out.push(`${ind}\tbreak;`);
      }
      out.push(`${ind}default:`, `${ind}\tr = -EINVAL;`, `${ind}\tbreak;`, `${ind}}`);
    } else if (r < 0.68) {
      const lock = `adev->${this.vocab.block}.${this.noun()}_lock`;
      out.push(`${ind}mutex_lock(&${lock});`, `${ind}${this.calleeName()}(adev, tmp);`, `${ind}mutex_unlock(&${lock});`);
    } else if (r < 0.72) {
      out.push(`${ind}/* ${this.verb()} the ${this.noun()} before the ${this.noun()} is ${this.verb()}ed again */`);
    } else if (r < 0.76 && deeper) {
      const cfg = this.rng.pick(CONFIGS);
      out.push(`#ifdef ${cfg}`);
      this.statement(out, depth, labels);
      out.push('#endif');
    } else if (r < 0.82) {
      out.push(`${ind}${this.rng.pick(TYPES)} ${this.noun()}_${this.rng.int(0, 99)} = ${this.rng.pick(['lower_32_bits', 'upper_32_bits'])}(adev->${this.vocab.block}.${this.noun()}_addr);`);
    } else if (r < 0.88) {
      out.push(`${ind}${this.vocab.prefix.toUpperCase()}_${this.vocab.block.toUpperCase()}_${this.noun().toUpperCase()}_WAIT(adev, ${this.reg()}, ${this.vocab.block.toUpperCase()}_${this.field()}_MASK);`);
    } else if (r < 0.94) {
      out.push(`${ind}DRM_DEBUG("${this.vocab.block} ${this.noun()} %u: 0x%08x\\n", i, tmp);`);
    } else {
      out.push(`${ind}tmp |= (${this.rng.int(1, 255)} << ${this.vocab.block.toUpperCase()}_${this.field()}__SHIFT) & ${this.vocab.block.toUpperCase()}_${this.field()}_MASK;`);
    }
  }

  private calleeName(): string {
    if (this.functions.length > 0 && this.rng.chance(0.4)) return this.rng.pick(this.functions);
    return `${this.vocab.prefix}_${this.rng.pick(BLOCKS)}_${this.verb()}_${this.noun()}`;
  }

  /** A small header: guard, prototypes, inline helpers, a struct or two. */
  headerBody(guard: string, targetBytes: number): string {
    const out = [`#ifndef ${guard}`, `#define ${guard}`, ''];
    let bytes = 0;
    while (bytes < targetBytes) {
      const r = this.rng.next();
      let chunk: string;
      if (r < 0.35) chunk = `${this.rng.chance(0.8) ? 'int' : 'void'} ${this.fnName()}(struct ${this.vocab.prefix}_device *adev${this.rng.chance(0.5) ? `, u32 ${this.noun()}` : ''});\n`;
      else if (r < 0.55) chunk = this.struct();
      else if (r < 0.8) chunk = this.defines();
      else chunk = this.func(true);
      out.push(chunk);
      bytes += chunk.length;
    }
    out.push(`#endif /* ${guard} */`, '');
    return out.join('\n');
  }
}
