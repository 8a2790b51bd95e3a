// The root entry is a promise (query-core's index is the model): a short list, every export
// documented where it is declared, no name that shadows one of XState's.
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import * as xstate from 'xstate';
import * as root from '../src/index.js';

const entry = join(import.meta.dirname, '..', 'src', 'index.ts');

function exportsOf(file: string): { name: string; documented: boolean }[] {
  const program = ts.createProgram([file], {
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    target: ts.ScriptTarget.ES2022,
    jsx: ts.JsxEmit.ReactJSX,
    strict: true,
    skipLibCheck: true,
  });
  const checker = program.getTypeChecker();
  const module = checker.getSymbolAtLocation(program.getSourceFile(file)!)!;
  return checker.getExportsOfModule(module).map((symbol) => {
    const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
    return {
      name: symbol.name,
      documented: ts.displayPartsToString(target.getDocumentationComment(checker)).trim() !== '',
    };
  });
}

describe('the root entry (`upload-lifecycle`)', () => {
  const exported = exportsOf(entry);

  it('documents every export where it is declared (TSDoc)', () => {
    expect(exported.filter((e) => !e.documented).map((e) => e.name)).toEqual([]);
  });

  it('exports no name of XState’s (such as the database-role type that was called Actor)', () => {
    const names = new Set(exported.map((e) => e.name));
    expect(names.has('Actor')).toBe(false);
    expect(Object.keys(xstate).filter((name) => names.has(name))).toEqual([]);
  });

  it('exports no database client or test internals (SqlClient, withActor, applyMigrations, servers)', () => {
    for (const name of [
      'SqlClient',
      'SqlTx',
      'QueryResult',
      'withActor',
      'applyMigrations',
      'startLocalSupabase',
      'startFaultProxy',
    ])
      expect(exported.map((e) => e.name)).not.toContain(name);
    expect(Object.keys(root).length).toBeLessThan(80);
  });
});
