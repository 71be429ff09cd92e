// The kernel registry (compiler/kernels/registry.ts) against everything else that names kernels: the generated
// schema enum and AS constants are fresh, fb.KernelId matches, every check / reference twin / variant file exists
// in assembly/, every kernel file is a registry variant, and the docs tables list exactly the registry's kernels.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { KERNELS, VARIANTS, variantFile, kernelById } from '../../../compiler/kernels/registry.ts';
import { fb } from '../../../compiler/emit/bundle-writer.ts';

const root = join(import.meta.dirname, '..', '..', '..');
const read = (p: string) => readFileSync(join(root, p), 'utf8');

/** Every .ts source under a directory of assembly/, concatenated. */
function sources(dir: string): string {
  return readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => read(join(dir, f)))
    .join('\n');
}

test('schema/bundle.fbs KernelId enum and assembly/bundle/kernel-ids.ts are what scripts/gen-kernels.ts writes', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'scripts/gen-kernels.ts'), '--check'], {
    cwd: root,
    encoding: 'utf8',
  });
  assert.is(r.status, 0, r.stderr);
});

test('one row per fb.KernelId, same number and name; ids ascending and never reused', () => {
  const names = Object.keys(fb.KernelId).filter((k) => Number.isNaN(Number(k)) && k !== 'Invalid');
  assert.equal(
    KERNELS.map((k) => k.name),
    names,
  );
  for (const k of KERNELS) assert.is((fb.KernelId as unknown as Record<string, number>)[k.name], k.id, k.name);
  assert.ok(KERNELS.every((k, i) => i === 0 || k.id > KERNELS[i - 1]!.id));
  assert.is(new Set(KERNELS.map((k) => k.as)).size, KERNELS.length);
  assert.is(kernelById(0), undefined);
});

test('every check and reference twin the registry names is a function in assembly/', () => {
  const src = sources('assembly');
  for (const k of KERNELS) {
    // generic twins (conv / dense, R = the requantisation type) count too
    for (const fn of [k.check, k.reference])
      assert.match(src, new RegExp(`function ${fn}(<\\w+>)?\\(`), `${k.name}: ${fn}`);
    for (const e of k.entries) {
      const [file, fn] = [e.slice(0, e.lastIndexOf('/')), e.slice(e.lastIndexOf('/') + 1)];
      assert.ok(existsSync(join(root, `${file}.ts`)), `${k.name}: ${file}.ts`);
      // a generic kernel's entry names one instance (`conv1xkQs8<i64>`) of `function conv1xkQs8<R>(`
      const base = fn.replace(/<\w+>$/, '');
      assert.match(read(`${file}.ts`), new RegExp(`function ${base}(<\\w+>)?\\(`), `${k.name}: ${e}`);
    }
  }
});

test('variants: each file exists, serves registry kernels; every kernel file under assembly/kernels/<dir>/ is a variant', () => {
  const names = new Set(KERNELS.map((k) => k.name));
  for (const v of VARIANTS) {
    assert.ok(existsSync(join(root, variantFile(v))), variantFile(v));
    for (const s of v.serves) assert.ok(names.has(s), `${v.name} serves unknown ${s}`);
  }
  // shared helpers, not variants: the requantisation, the GEMM's per-build tile choice, the f32 convs' geometry, the
  // depthwise 3×3 loops' 8-lane requantisations and three-pixel loops (qs8-dwconv2d's), the packed conv's unchecked tile,
  // the 4×8 int8 tile's small-K loop order and the touch of a following Dense's weights (both parts of that tile), the
  // int8 stem's pixel pairs and 2 × 2 quads (parts of qs8-conv2d-3x3s2c3-wasmsimd)
  const helpers = [
    'gemm/qs8-requant.ts',
    'gemm/qs8-gemm.ts',
    'gemm/qs8-gemm-4x8c2-smallk-wasmsimd.ts',
    'gemm/qs8-touch-ahead.ts',
    'conv/f32-conv-geometry.ts',
    'conv/qs8-dwconv2d-requant.ts',
    'conv/qs8-dwconv2d-3x3-run3.ts',
    'conv/f32-conv2d-4x8-packed-interior.ts',
    'conv/qs8-conv2d-3x3s2c3-pairs-wasmsimd.ts',
    'conv/qs8-conv2d-3x3s2c3-quads-wasmsimd.ts',
    'conv/qs8-conv2d-3x3s2c3-quadtaps-wasmsimd.ts',
  ];
  const files = readdirSync(join(root, 'assembly/kernels'), { recursive: true, encoding: 'utf8' }).filter(
    (f) => f.includes('/') && f.endsWith('.ts'),
  );
  for (const f of files)
    if (!helpers.includes(f))
      assert.ok(
        VARIANTS.some((v) => variantFile(v) === `assembly/kernels/${f}`),
        `${f} is not in VARIANTS`,
      );
  for (const k of KERNELS)
    if (k.family !== 'control')
      assert.ok(
        VARIANTS.some((v) => v.serves.includes(k.name)),
        `${k.name}: no variant`,
      );
});

test('docs/bundle-format.md lists exactly the registry kernels (steps table + branches table) and every variant file', () => {
  const doc = read('docs/bundle-format.md');
  const table = (heading: string) => {
    const at = doc.indexOf(heading);
    assert.ok(at >= 0, heading);
    const lines = doc.slice(at).split('\n');
    const start = lines.findIndex((l) => l.startsWith('|---'));
    const rows: string[] = [];
    for (let i = start + 1; i < lines.length && lines[i]!.startsWith('|'); i++)
      rows.push(lines[i]!.split('|')[1]!.trim());
    return rows;
  };
  const steps = table('## Steps').flatMap((c) => c.split(', '));
  const control = table('## Branches and early exit')
    .map((c) => c.match(/^`(\w+)` \((\d+)\)$/))
    .filter((m) => m !== null);
  for (const m of control) assert.is(kernelById(Number(m[2]))?.name, m[1], `branches table: ${m[0]}`);
  const documented = [...steps, ...control.map((m) => m[1]!)].sort();
  assert.equal(documented, KERNELS.map((k) => k.name).sort());
  const files = table('## Kernel variants').flatMap((c) => c.split(', '));
  const quant = read('docs/quantization.md');
  for (const v of VARIANTS) {
    const rel = `${v.dir}/${v.name}.ts`;
    const listed = files.some(
      (f) =>
        f === rel || (f.includes('*') && new RegExp(`^${f.replace(/[.]/g, '\\.').replace('*', '[\\w-]+')}$`).test(rel)),
    );
    assert.ok(listed, `docs/bundle-format.md "Kernel variants" does not list ${rel}`);
    if (v.name.startsWith('qs8-'))
      assert.ok(quant.includes(`| ${rel} |`), `docs/quantization.md "Kernel variants" does not list ${rel}`);
  }
});

test.run();
