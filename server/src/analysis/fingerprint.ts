// Fingerprints: identify a finding across line moves (baselines, SARIF partialFingerprints).

/** FNV-1a 64-bit over the whitespace-normalised parts; stable and dependency-free. */
export function fingerprintOf(...parts: string[]): string {
  const text = parts.map((p) => p.replace(/\s+/g, ' ').trim()).join('\u0000');
  let h = 0xcbf29ce484222325n;
  const prime = 0x100000001b3n;
  for (let i = 0; i < text.length; i++) {
    h ^= BigInt(text.charCodeAt(i));
    h = (h * prime) & 0xffffffffffffffffn;
  }
  return h.toString(16).padStart(16, '0');
}
