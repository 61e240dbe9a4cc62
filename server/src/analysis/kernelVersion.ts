// Reads the kernel version a tree builds from its top-level Makefile (VERSION / PATCHLEVEL).
import type { KernelVersionLite } from './pinApis';

export function kernelVersionFromMakefile(text: string): KernelVersionLite | undefined {
  const version = /^VERSION\s*=\s*(\d+)\s*$/m.exec(text);
  const patch = /^PATCHLEVEL\s*=\s*(\d+)\s*$/m.exec(text);
  if (!version || !patch) return undefined;
  return { major: Number(version[1]), minor: Number(patch[1]) };
}
