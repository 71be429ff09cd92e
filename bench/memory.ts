// Memory and start-up in fresh child processes, one runtime each: peak RSS (the kernel's high-water mark, VmHWM;
// Linux only), the ms from the model's bytes in memory to the first output, and the whole process's wall ms
// (Node start-up included). Models: MobileNetV2 float and int8 against onnxruntime-web (wasm, 1 thread) on the same
// ONNX model (the QDQ u8s8 one edgec int8 compiles from), and ResNet-8 (the MLPerf Tiny int8 .tflite fixture)
// against TFLite's wasm interpreter (bench/memory-child.mjs). Rows per model: `edgec run` through the CLI as users
// run it (bin/edgec.js on the built dist/; bytes-to-result measured inside it by bench/memory-exit.mjs), the runtime
// API loading the bundle and running once, and the peer; plus a bare Node process, the floor under every row. Each
// child runs `reps` times, the children interleaved round by round; medians. Ratios edgec / peer (< 1 = edgec
// smaller or faster). Needs `npm run build` (dist/) to be current. Run by hand or from `npm run bench`.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseOnnx } from '../compiler/frontend/onnx/index.ts';
import { compileGraph } from '../compiler/compile.ts';
import { compileQuantized } from '../compiler/quantize/index.ts';
import { readNpy, writeNpy } from '../compiler/io/npy.ts';
import { tfliteCase, tflitePath } from './tflite.ts';

export interface MemoryRow {
  model: string;
  runtime: 'node' | 'edgec run' | 'edgec api' | 'ort' | 'tflite';
  peakRssMiB: number;
  /** Model bytes in memory → first output in memory (null for the bare node row). */
  ms: number | null;
  /** The child process's wall time, spawn to exit. */
  processMs: number;
  /** edgec / the model's peer (ort or tflite) in the same run (null on the peer and bare-node rows). */
  rssVsPeer: number | null;
  msVsPeer: number | null;
  processVsPeer: number | null;
}

interface Sample {
  ms: number | null;
  peakRss: number;
  processMs: number;
}

const here = (f: string) => join(import.meta.dirname, f);
const median = (v: number[]) => v.sort((a, b) => a - b)[v.length >> 1]!;

function child(args: string[]): Sample {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 24 });
  const processMs = performance.now() - t0;
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} failed (${r.status}):\n${r.stderr}`);
  const o = JSON.parse(r.stdout.trim().split('\n').pop()!) as { ms: number; peakRss: number };
  return { ms: args.includes('none') ? null : o.ms, peakRss: o.peakRss, processMs };
}

function cli(bundle: string, input: string, out: string): Sample {
  const t0 = performance.now();
  const r = spawnSync(
    process.execPath,
    ['--import', here('memory-exit.mjs'), here('../bin/edgec.js'), 'run', bundle, '-i', input, '-o', out],
    { encoding: 'utf8', env: { ...process.env, EDGEC_BENCH_BUNDLE: bundle, EDGEC_BENCH_OUT: out } },
  );
  const processMs = performance.now() - t0;
  const m = /edgec-bench-rss (\d+) (-?[\d.]+)/.exec(r.stderr);
  if (r.status !== 0 || !m || Number(m[2]) < 0)
    throw new Error(`edgec run ${bundle} failed (${r.status}):\n${r.stderr}`);
  return { ms: Number(m[2]), peakRss: Number(m[1]), processMs };
}

type Job = [model: string, runtime: MemoryRow['runtime'], run: () => Sample];

export async function memoryBench(dir: string, reps = 3, log: (l: string) => void = console.log): Promise<MemoryRow[]> {
  if (!existsSync(here('../dist/runtime/node.js'))) throw new Error('bench/memory.ts: run `npm run build` first');
  const tmp = mkdtempSync(join(tmpdir(), 'edgec-mem-'));
  try {
    const out = join(tmp, 'y.npy');
    const jobs: Job[] = [['(bare node)', 'node', () => child([here('memory-child.mjs'), 'none'])]];
    const fOnnx = join(dir, 'mobilenet_v2.onnx'),
      qOnnx = join(dir, 'mobilenet_v2_qdq_u8s8.onnx'),
      inNpy = join(dir, 'mobilenet_v2.input.npy');
    const x = readNpy(readFileSync(inNpy));
    const raw = join(tmp, 'x.f32');
    writeFileSync(raw, new Uint8Array(Float32Array.from(x.data as ArrayLike<number>).buffer));
    const shape = x.shape.join(',');
    const fBundle = join(tmp, 'f32.edgec'),
      qBundle = join(tmp, 'int8.edgec');
    writeFileSync(fBundle, compileGraph(parseOnnx(readFileSync(fOnnx), fOnnx), { modelName: 'mobilenet_v2' }).bundle);
    const q = await compileQuantized(parseOnnx(readFileSync(qOnnx), qOnnx), {}, { modelName: 'mobilenet_v2_int8' });
    writeFileSync(qBundle, q.bundle);
    for (const [v, bundle, onnx] of [
      ['f32', fBundle, fOnnx],
      ['int8', qBundle, qOnnx],
    ] as const) {
      const model = `mobilenet_v2 ${v}`;
      jobs.push(
        [model, 'edgec run', () => cli(bundle, inNpy, out)],
        [model, 'edgec api', () => child([here('memory-child.mjs'), 'edgec', bundle, raw, shape])],
        [model, 'ort', () => child([here('memory-child.mjs'), 'ort', onnx, raw, shape])],
      );
    }
    const c = await tfliteCase(tflitePath('resnet8')!);
    const rBundle = join(tmp, 'resnet8.edgec'),
      rTflite = join(tmp, 'resnet8.tflite'),
      rNpy = join(tmp, 'resnet8.npy'),
      rX = join(tmp, 'resnet8.f32'),
      rQ = join(tmp, 'resnet8.i8');
    writeFileSync(rBundle, c.bundle);
    writeFileSync(rTflite, c.tflite);
    writeFileSync(rNpy, writeNpy({ shape: c.shape, data: c.x }));
    writeFileSync(rX, new Uint8Array(c.x.buffer));
    writeFileSync(rQ, new Uint8Array(c.q.buffer));
    jobs.push(
      ['resnet8 int8', 'edgec run', () => cli(rBundle, rNpy, out)],
      ['resnet8 int8', 'edgec api', () => child([here('memory-child.mjs'), 'edgec', rBundle, rX, c.shape.join(',')])],
      ['resnet8 int8', 'tflite', () => child([here('memory-child.mjs'), 'tflite', rTflite, rQ, c.shape.join(',')])],
    );

    // rounds interleave the children, so a burst of load on the shared cores hits every runtime alike
    const got = jobs.map(() => [] as Sample[]);
    for (let i = 0; i < reps; i++) jobs.forEach(([, , f], j) => got[j]!.push(f()));
    const rows: MemoryRow[] = jobs.map(([model, runtime], j) => {
      const s = got[j]!;
      return {
        model,
        runtime,
        peakRssMiB: median(s.map((r) => r.peakRss)) / 2 ** 20,
        ms: runtime === 'node' ? null : median(s.map((r) => r.ms!)),
        processMs: median(s.map((r) => r.processMs)),
        rssVsPeer: null,
        msVsPeer: null,
        processVsPeer: null,
      };
    });
    for (const r of rows) {
      const peer = rows.find((p) => p.model === r.model && (p.runtime === 'ort' || p.runtime === 'tflite'));
      if (!r.runtime.startsWith('edgec') || !peer) continue;
      r.rssVsPeer = r.peakRssMiB / peer.peakRssMiB;
      r.msVsPeer = r.ms! / peer.ms!;
      r.processVsPeer = r.processMs / peer.processMs;
    }
    log(`Memory and start-up: a fresh process per run, median of ${reps}; bytes → result = ms from the model's bytes`);
    log(`in memory to the first output in memory; process = the child's wall time, Node start-up included; ratios`);
    log(`edgec / peer (ort, tflite); target: edgec run, mobilenet_v2 int8, peak RSS ≤ 60 MB`);
    const lines = [
      [
        'model',
        'runtime',
        'peak RSS MiB',
        'bytes → result ms',
        'process ms',
        'RSS / peer',
        'ms / peer',
        'process / peer',
      ],
    ];
    for (const r of rows)
      lines.push([
        r.model,
        r.runtime,
        r.peakRssMiB.toFixed(1),
        r.ms?.toFixed(1) ?? '-',
        r.processMs.toFixed(0),
        r.rssVsPeer?.toFixed(2) ?? '-',
        r.msVsPeer?.toFixed(2) ?? '-',
        r.processVsPeer?.toFixed(2) ?? '-',
      ]);
    const w = lines[0]!.map((_, i) => Math.max(...lines.map((l) => l[i]!.length)));
    for (const l of lines) log(l.map((c, i) => (i < 2 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  '));
    return rows;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

if (process.argv[1] === import.meta.filename) await memoryBench(process.argv[2] ?? '../shared/models/bench');
