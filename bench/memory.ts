// Memory and start-up of MobileNetV2 (float and int8) in fresh child processes, one runtime each: peak RSS
// (the kernel's high-water mark, VmHWM; Linux only) and the ms from the model's bytes in memory to
// the first output. Rows: `edgec run` through the CLI as users run it (bin/edgec.js on the built dist/; its ms is
// the whole process, Node start-up included), the runtime API loading the bundle and running once, and
// onnxruntime-web (wasm, 1 thread) on the same ONNX model (float, and the QDQ u8s8 one edgec int8 compiles from);
// plus a bare Node process, the floor under every row. Each child runs `reps` times; medians. Ratios edgec / ort
// (< 1 = edgec smaller or faster). Needs `npm run build` (dist/) to be current. Run by hand or from `npm run bench`.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseOnnx } from '../compiler/frontend/onnx/index.ts';
import { compileGraph } from '../compiler/compile.ts';
import { compileQuantized } from '../compiler/quantize/index.ts';
import { readNpy } from '../compiler/io/npy.ts';

export interface MemoryRow {
  variant: 'f32' | 'int8' | '-';
  runtime: 'node' | 'edgec run' | 'edgec api' | 'ort';
  peakRssMiB: number;
  ms: number;
  /** edgec / onnxruntime-web on the same model in the same run (null on the ort and bare-node rows) */
  rssVsOrt: number | null;
  msVsOrt: number | null;
}

const here = (f: string) => join(import.meta.dirname, f);
const median = (v: number[]) => v.sort((a, b) => a - b)[v.length >> 1]!;

function child(args: string[]): { ms: number; peakRss: number } {
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} failed (${r.status}):\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as { ms: number; peakRss: number };
}

function cli(bundle: string, input: string, out: string): { ms: number; peakRss: number } {
  const t0 = performance.now();
  const r = spawnSync(
    process.execPath,
    ['--import', here('memory-exit.mjs'), here('../bin/edgec.js'), 'run', bundle, '-i', input, '-o', out],
    { encoding: 'utf8' },
  );
  const ms = performance.now() - t0;
  const m = /edgec-bench-rss (\d+)/.exec(r.stderr);
  if (r.status !== 0 || !m) throw new Error(`edgec run ${bundle} failed (${r.status}):\n${r.stderr}`);
  return { ms, peakRss: Number(m[1]) };
}

export async function memoryBench(dir: string, reps = 3, log: (l: string) => void = console.log): Promise<MemoryRow[]> {
  if (!existsSync(here('../dist/runtime/node.js'))) throw new Error('bench/memory.ts: run `npm run build` first');
  const tmp = mkdtempSync(join(tmpdir(), 'edgec-mem-'));
  try {
    const fOnnx = join(dir, 'mobilenet_v2.onnx'),
      qOnnx = join(dir, 'mobilenet_v2_qdq_u8s8.onnx'),
      inNpy = join(dir, 'mobilenet_v2.input.npy');
    const x = readNpy(readFileSync(inNpy));
    const xf = Float32Array.from(x.data as ArrayLike<number>);
    const raw = join(tmp, 'x.f32');
    writeFileSync(raw, new Uint8Array(xf.buffer));
    const shape = x.shape.join(',');
    const fBundle = join(tmp, 'f32.edgec'),
      qBundle = join(tmp, 'int8.edgec');
    writeFileSync(fBundle, compileGraph(parseOnnx(readFileSync(fOnnx), fOnnx), { modelName: 'mobilenet_v2' }).bundle);
    const q = await compileQuantized(parseOnnx(readFileSync(qOnnx), qOnnx), {}, { modelName: 'mobilenet_v2_int8' });
    writeFileSync(qBundle, q.bundle);

    const jobs: [MemoryRow['variant'], MemoryRow['runtime'], () => { ms: number; peakRss: number }][] = [
      ['-', 'node', () => child([here('memory-child.mjs'), 'none'])],
      ...(['f32', 'int8'] as const).flatMap((v): typeof jobs => {
        const bundle = v === 'f32' ? fBundle : qBundle,
          onnx = v === 'f32' ? fOnnx : qOnnx;
        return [
          [v, 'edgec run', () => cli(bundle, inNpy, join(tmp, 'y.npy'))],
          [v, 'edgec api', () => child([here('memory-child.mjs'), 'edgec', bundle, raw, shape])],
          [v, 'ort', () => child([here('memory-child.mjs'), 'ort', onnx, raw, shape])],
        ];
      }),
    ];
    // rounds interleave the children, so a burst of load on the shared cores hits every runtime alike
    const got = jobs.map(() => ({ ms: [] as number[], rss: [] as number[] }));
    for (let i = 0; i < reps; i++)
      jobs.forEach(([, , f], j) => {
        const r = f();
        got[j]!.ms.push(r.ms);
        got[j]!.rss.push(r.peakRss);
      });
    const rows = jobs.map(([variant, runtime], j) => ({
      variant,
      runtime,
      peakRssMiB: median(got[j]!.rss) / 2 ** 20,
      ms: median(got[j]!.ms),
      rssVsOrt: null as number | null,
      msVsOrt: null as number | null,
    }));
    const find = (v: string, r: string) => rows.find((x) => x.variant === v && x.runtime === r)!;
    for (const r of rows) {
      if (r.variant === '-' || r.runtime === 'ort') continue;
      const o = find(r.variant, 'ort');
      r.rssVsOrt = r.peakRssMiB / o.peakRssMiB;
      // the CLI's ms is its whole process, not bytes-to-result: no like-for-like ratio
      if (r.runtime === 'edgec api') r.msVsOrt = r.ms / o.ms;
    }
    log(
      `MobileNetV2 memory and start-up: fresh process per run, median of ${reps}; ms = model bytes in memory → first`,
    );
    log(`output ('edgec run': the whole CLI process, Node start-up included); ratios edgec / ort; target: edgec run`);
    log(`int8 peak RSS ≤ 60 MB`);
    const lines = [['model', 'runtime', 'peak RSS MiB', 'ms', 'RSS / ort', 'ms / ort']];
    for (const r of rows)
      lines.push([
        r.variant === '-' ? '(bare node)' : `mobilenet_v2 ${r.variant}`,
        r.runtime,
        r.peakRssMiB.toFixed(1),
        r.runtime === 'node' ? '-' : r.ms.toFixed(1),
        r.rssVsOrt?.toFixed(2) ?? '-',
        r.msVsOrt?.toFixed(2) ?? '-',
      ]);
    const w = lines[0]!.map((_, i) => Math.max(...lines.map((l) => l[i]!.length)));
    for (const l of lines) log(l.map((c, i) => (i < 2 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  '));
    return rows;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

if (process.argv[1] === import.meta.filename) await memoryBench(process.argv[2] ?? '../shared/models/bench');
