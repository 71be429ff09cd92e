// Checks the hand-written AssemblyScript dispatch against compiler/kernels/registry.ts: each site below (a function
// that branches on a step's KernelId) names every KernelId of its families exactly once, in a branch that calls the
// row's reference twin (run sites) or contract check (check sites), hands each delegated family to its generated
// family test (isQs8Kernel, isTrainKernel) exactly once, and names no id outside its families or the registry.
// Run by `scripts/gen-kernels.ts` (and its --check in npm test); sources are parsed with the TypeScript parser.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { KERNELS, type KernelRow } from '../compiler/kernels/registry.ts';

type Family = KernelRow['family'];

export interface DispatchSite {
  file: string;
  fn: string;
  /** 'run': each branch calls the kernel's reference twin; 'check': its contract check (unless the site is it). */
  kind: 'run' | 'check';
  /** Families whose KernelIds the site names one by one. */
  byId: readonly Family[];
  /** Families the site hands on whole, through the generated test of assembly/bundle/kernel-ids.ts. */
  delegates: readonly Family[];
}

// The float and data-movement ids run and are checked through tables (assembly/float-steps.ts runnerOf, runnerOfAny,
// step-checks.ts checkOf, checkOfAny) so the dispatch nests shallow enough for wasm3 at stack height 128 (docs/embedding.md).
const TOP = { byId: ['control'], delegates: ['qs8', 'train'] } as const;
const F32 = { byId: ['f32'], delegates: [] } as const;
const ANY = { byId: ['any'], delegates: [] } as const;
/** Every place in assembly/ that branches on the KernelId. (assembly/control.ts's K_JUMP / K_DISPATCH / Exit
 *  branches are behind the control dispatch of these sites; its three ids are one closed family.) */
export const SITES: readonly DispatchSite[] = [
  { file: 'assembly/executor.ts', fn: 'runModel', kind: 'run', ...TOP },
  { file: 'assembly/bundle/validate.ts', fn: 'validateSteps', kind: 'check', ...TOP },
  { file: 'assembly/float-steps.ts', fn: 'runnerOf', kind: 'run', ...F32 },
  { file: 'assembly/float-steps.ts', fn: 'runnerOfAny', kind: 'run', ...ANY },
  { file: 'assembly/bundle/step-checks.ts', fn: 'checkOf', kind: 'check', ...F32 },
  { file: 'assembly/bundle/step-checks.ts', fn: 'checkOfAny', kind: 'check', ...ANY },
  { file: 'assembly/kernels/qs8-steps.ts', fn: 'runQs8Step', kind: 'run', byId: ['qs8'], delegates: [] },
  { file: 'assembly/kernels/qs8-steps.ts', fn: 'checkQs8Step', kind: 'check', byId: ['qs8'], delegates: [] },
  { file: 'assembly/kernels/train-steps.ts', fn: 'runTrainStep', kind: 'run', byId: ['train'], delegates: [] },
  { file: 'assembly/kernels/train-checks.ts', fn: 'checkTrainStep', kind: 'check', byId: ['train'], delegates: [] },
];

/** The generated family test of each delegated family (scripts/gen-kernels.ts writes them). */
export const FAMILY_TESTS: Partial<Record<Family, string>> = { qs8: 'isQs8Kernel', train: 'isTrainKernel' };

interface Branch {
  ids: string[];
  calls: Set<string>;
  line: number;
}

const isKernelConst = (name: string) => /^K_[A-Z0-9_]+$/.test(name) && name !== 'K_LAST';

/** Identifiers (K_* constants) and called function names under a node. */
function scan(node: ts.Node, ids: string[], calls: Set<string>): void {
  if (ts.isIdentifier(node) && isKernelConst(node.text)) ids.push(node.text);
  if (ts.isCallExpression(node) && ts.isIdentifier(node.expression)) calls.add(node.expression.text);
  ts.forEachChild(node, (c) => scan(c, ids, calls));
}

/**
 * The dispatch of one function: `if` conditions and `case` labels naming K_* constants (their bodies are branches and
 * are not searched further, so `isMax = k == K_MAXPOOL` inside a branch is no second dispatch), and the family tests
 * called in `if` conditions. Everything else (blocks, loops, `default:`, `else`) is searched.
 */
function dispatchOf(
  sf: ts.SourceFile,
  body: ts.Block,
): { branches: Branch[]; tests: Map<string, number[]>; stray: string[] } {
  const branches: Branch[] = [],
    tests = new Map<string, number[]>();
  const line = (n: ts.Node) => sf.getLineAndCharacterOfPosition(n.getStart(sf)).line + 1;
  const branchOf = (ids: string[], bodyNodes: readonly ts.Node[], at: ts.Node) => {
    const calls = new Set<string>();
    for (const b of bodyNodes) scan(b, [], calls);
    branches.push({ ids, calls, line: line(at) });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isIfStatement(node)) {
      const ids: string[] = [],
        calls = new Set<string>();
      scan(node.expression, ids, calls);
      for (const t of Object.values(FAMILY_TESTS))
        if (calls.has(t)) tests.set(t, [...(tests.get(t) ?? []), line(node)]);
      if (ids.length > 0) branchOf(ids, [node.thenStatement], node);
      else visit(node.thenStatement);
      if (node.elseStatement) visit(node.elseStatement);
      return;
    }
    if (ts.isSwitchStatement(node)) {
      let pending: string[] = [];
      for (const clause of node.caseBlock.clauses) {
        if (ts.isCaseClause(clause)) {
          const ids: string[] = [];
          scan(clause.expression, ids, new Set());
          pending.push(...ids);
          if (clause.statements.length > 0 && pending.length > 0) {
            branchOf(pending, clause.statements, clause);
            pending = [];
          } else if (clause.statements.length > 0) clause.statements.forEach(visit);
        } else {
          clause.statements.forEach(visit);
        }
      }
      return;
    }
    ts.forEachChild(node, visit);
  };
  body.statements.forEach(visit);
  const all: string[] = [];
  scan(body, all, new Set());
  return { branches, tests, stray: all };
}

function findFunction(sf: ts.SourceFile, name: string): ts.FunctionDeclaration | undefined {
  let found: ts.FunctionDeclaration | undefined;
  sf.forEachChild((n) => {
    if (ts.isFunctionDeclaration(n) && n.name?.text === name) found = n;
  });
  return found;
}

/** Every way the sites under `root` disagree with the registry, one message each naming the file and the kernel. */
/**
 * Whether `calls` names `want`, directly or through functions of the same file they call (a branch may hand its
 * step to a helper kept out of line, e.g. qs8-steps.ts tableStepQs8 for wasm3's per-function stack height).
 */
function reaches(sf: ts.SourceFile, calls: Set<string>, want: string, seen = new Set<string>()): boolean {
  if (calls.has(want)) return true;
  for (const c of calls) {
    if (seen.has(c)) continue;
    seen.add(c);
    const body = findFunction(sf, c)?.body;
    if (!body) continue;
    const inner = new Set<string>();
    scan(body, [], inner);
    if (reaches(sf, inner, want, seen)) return true;
  }
  return false;
}

export function dispatchProblems(root: string, sites: readonly DispatchSite[] = SITES): string[] {
  const problems: string[] = [];
  const byAs = new Map(KERNELS.map((k) => [k.as, k]));
  const home = (k: KernelRow) =>
    sites
      .filter((s) => s.byId.includes(k.family))
      .map((s) => `${s.file} ${s.fn}`)
      .join(', ');
  for (const site of sites) {
    const where = `${site.file} ${site.fn}()`;
    let text: string;
    try {
      text = readFileSync(join(root, site.file), 'utf8');
    } catch {
      problems.push(`${site.file}: missing`);
      continue;
    }
    const sf = ts.createSourceFile(site.file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
    const fn = findFunction(sf, site.fn);
    if (!fn?.body) {
      problems.push(`${site.file}: no function ${site.fn}`);
      continue;
    }
    const at = (n: number) => `${site.file}:${n} ${site.fn}()`;
    const { branches, tests, stray } = dispatchOf(sf, fn.body);
    const seen = new Map<string, Branch[]>();
    for (const b of branches) for (const id of new Set(b.ids)) seen.set(id, [...(seen.get(id) ?? []), b]);
    for (const name of new Set(stray)) {
      const k = byAs.get(name);
      if (!k) problems.push(`${where} names ${name}, which compiler/kernels/registry.ts lacks`);
      else if (!site.byId.includes(k.family)) {
        const there = home(k) || 'its family test';
        problems.push(
          `${where} names ${name} (${k.name}), a ${k.family} kernel: it is dispatched in ${there}, not here`,
        );
      }
    }
    for (const k of KERNELS.filter((r) => site.byId.includes(r.family))) {
      const bs = seen.get(k.as) ?? [];
      if (bs.length === 0) {
        problems.push(
          `${where}: no branch for ${k.as} (${k.name}, ${k.family}): add one that calls ` +
            (site.kind === 'run' ? `its reference twin ${k.reference}` : `its check ${k.check}`),
        );
        continue;
      }
      if (bs.length > 1)
        problems.push(
          `${where}: ${k.as} (${k.name}) is dispatched ${bs.length} times (lines ${bs.map((b) => b.line).join(', ')})`,
        );
      const want = site.kind === 'run' ? k.reference : k.check;
      if (want !== site.fn && !bs.some((b) => reaches(sf, b.calls, want))) {
        problems.push(
          `${at(bs[0]!.line)}: the branch for ${k.as} (${k.name}) does not call ${want}, ` +
            `which the registry names as its ${site.kind === 'run' ? 'reference twin' : 'check'}`,
        );
      }
    }
    for (const [family, test] of Object.entries(FAMILY_TESTS) as [Family, string][]) {
      const n = tests.get(test)?.length ?? 0;
      if (site.delegates.includes(family) && n !== 1) {
        problems.push(
          `${where}: calls ${test}() ${n} times in a condition; the ${family} kernels need exactly one hand-off`,
        );
      } else if (!site.delegates.includes(family) && n > 0) {
        problems.push(`${where}: hands the ${family} kernels on through ${test}(), but they are not delegated here`);
      }
    }
  }
  return problems;
}
