// Seeded randomness for reproducible fuzz and edit sequences: the same seed gives the same inputs on every machine.
import { Prng } from '../../bench/corpus/prng';

/**
 * Deterministic pseudo-random numbers; not for cryptography. The generator is the benchmark corpus's (one mulberry32
 * in the repo); this adds what fuzzing needs: raw bytes and a checked pick.
 */
export class Random extends Prng {
  constructor(readonly seed: number) {
    super(seed);
  }

  override pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('Random.pick: empty list');
    return super.pick(items);
  }

  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.int(0, 255);
    return out;
  }

  /** An independent generator derived from this one, so one consumer cannot shift another's sequence. */
  override fork(salt = 0): Random {
    return new Random((this.int(0, 0xffffffff) ^ Math.imul(salt + 1, 0x85ebca6b)) >>> 0);
  }
}

/** A seed from the environment variable `name` (decimal or 0x hex), else `fallback`. */
export function seedFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw.trim());
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name}='${raw}' is not a non-negative integer seed`);
  return n >>> 0;
}

/** A positive count from the environment variable `name`, else `fallback`. */
export function countFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw.trim());
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name}='${raw}' is not a positive integer`);
  return n;
}
