// The very large generated headers of a GPU driver tree: register offsets and field shift/mask definitions, megabytes each.
import { Prng } from './prng';

const REG_WORDS = ['CNTL', 'STATUS', 'BASE', 'SIZE', 'RPTR', 'WPTR', 'DOORBELL', 'ADDR', 'DATA', 'INDEX', 'CONFIG', 'MODE',
  'CLK', 'PWR', 'INT', 'MASK', 'TIMER', 'PERFCOUNTER', 'SEL', 'LO', 'HI', 'DEBUG', 'GATE', 'PIPE', 'QUEUE', 'VMID', 'HQD',
  'MQD', 'RING', 'IB', 'FENCE', 'SEM', 'PROT', 'FAULT', 'L2', 'TLB', 'CACHE', 'ARB', 'CREDIT', 'POOL', 'SCRATCH'];
const FIELD_WORDS = ['ENABLE', 'DISABLE', 'RESET', 'BUSY', 'IDLE', 'VALID', 'SIZE', 'BASE', 'OFFSET', 'COUNT', 'MODE',
  'PRIORITY', 'THRESHOLD', 'TIMEOUT', 'STALL', 'HALT', 'ACTIVE', 'PENDING', 'OVERRIDE', 'SELECT', 'LIMIT', 'WRAP', 'SWAP'];

function pad(name: string, width: number): string {
  return name.length >= width ? `${name} ` : name + ' '.repeat(width - name.length);
}

/** A header of `targetBytes` defining registers of `block` (offsets and, when `masks`, every field's shift and mask). */
export function registerHeader(rng: Prng, block: string, version: string, targetBytes: number, masks: boolean): string {
  const guard = `_${block.toUpperCase()}_${version.replace(/\W/g, '_').toUpperCase()}_${masks ? 'SH_MASK' : 'OFFSET'}_H`;
  const parts: string[] = [
    '/*',
    ` * Register ${masks ? 'field shifts and masks' : 'offsets'} of the ${block.toUpperCase()} ${version} block.`,
    ' * Generated for the forksafe benchmark corpus; the names and values are synthetic.',
    ' */',
    `#ifndef ${guard}`,
    `#define ${guard}`,
    '',
  ];
  let bytes = parts.join('\n').length;
  let offset = rng.int(0, 0x400);
  let regSerial = 0;
  const B = block.toUpperCase();
  while (bytes < targetBytes) {
    const chunk: string[] = [];
    if (regSerial % 40 === 0) chunk.push('', `// addressBlock: ${block}_${rng.pick(REG_WORDS).toLowerCase()}dec`, `// base address: 0x${(offset * 4).toString(16)}`);
    const reg = `${B}_${rng.pick(REG_WORDS)}${rng.chance(0.5) ? rng.int(0, 15) : ''}_${rng.pick(REG_WORDS)}_${regSerial++}`;
    if (masks) {
      chunk.push(`//${reg}`);
      let bit = 0;
      for (let f = rng.int(1, 8); f > 0 && bit < 32; f--) {
        const width = Math.min(32 - bit, rng.int(1, 12));
        const field = `${rng.pick(FIELD_WORDS)}${rng.chance(0.3) ? rng.int(0, 7) : ''}`;
        const mask = ((2 ** width - 1) * 2 ** bit) >>> 0;
        chunk.push(`#define ${pad(`${reg}__${field}__SHIFT`, 96)}0x${bit.toString(16)}`);
        chunk.push(`#define ${pad(`${reg}__${field}_MASK`, 96)}0x${mask.toString(16).toUpperCase().padStart(8, '0')}L`);
        bit += width;
      }
    } else {
      offset += rng.int(1, 4);
      chunk.push(`#define ${pad(`mm${reg}`, 96)}0x${offset.toString(16).padStart(4, '0')}`);
      chunk.push(`#define ${pad(`mm${reg}_BASE_IDX`, 96)}${rng.int(0, 2)}`);
    }
    const text = chunk.join('\n');
    parts.push(text);
    bytes += text.length + 1;
  }
  parts.push('', `#endif /* ${guard} */`, '');
  return parts.join('\n');
}
