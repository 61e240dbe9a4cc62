// Builds a Workspace from in-memory C files so tests can question one analysis module directly.
import type { CSyntax, Tree } from '../../server/src/analysis/parser';
import { makeSourceFile, SourceFile, Workspace } from '../../server/src/analysis/workspace';
import type { CallInfo } from '../../server/src/analysis/fileIndex';
import { scopeOfCall, Scope } from '../../server/src/analysis/flags';
import { loadSyntax } from '../../server/src/runtime/loadSyntax';

export class Harness {
  readonly workspace: Workspace;
  private readonly trees: Tree[] = [];

  private constructor(syntax: CSyntax, files: Record<string, string>) {
    const sources: SourceFile[] = Object.entries(files).map(([name, text]) => {
      const tree = syntax.parse(text).tree!;
      this.trees.push(tree);
      return makeSourceFile(syntax, `file:///h/${name}`, text, tree);
    });
    this.workspace = new Workspace(syntax, sources);
  }

  static async of(files: Record<string, string>): Promise<Harness> {
    return new Harness(await loadSyntax(), files);
  }

  /** The n-th call of `name` in the workspace (files in the order given), with the scope of its enclosing function. */
  call(name: string, n = 0): { call: CallInfo; scope: Scope; file: SourceFile } {
    const found = this.workspace.callsTo(name)[n];
    if (!found) throw new Error(`no call ${n} of ${name}`);
    return { call: found.item, scope: scopeOfCall(found.file, found.item.fn), file: found.file };
  }

  dispose(): void {
    this.workspace.dispose();
    for (const t of this.trees) t.delete();
  }
}
