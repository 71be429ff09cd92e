// Instructions per MAC of the int8 (and float) conv / depthwise / pointwise / dense kernels under wasm3 0.9.0 on an
// emulated Cortex-M4F (examples/mcu firmware, qemu -icount): each kernel's cost is the difference between a model
// with the layer twice and once (so quantize / dequantize and the call overhead cancel), over the layer's MACs.
// Shapes are KWS DS-CNN's (25×5×64 after a 10×4 stride-2 stem). Not part of npm test (a few G emulated instructions).
//   node --import tsx scripts/mcu-kernels.ts [--float]
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileModel } from '../compiler/cli/compile.ts';
import { saveNpy } from '../compiler/io/npy.ts';
import { mcuBudget } from '../compiler/embed/mcu-budget.ts';
import { buildFirmware, firmwareMissing, runFirmware } from '../test/mcu/firmware.ts';
import { wasm3Missing } from '../test/mcu/wasm3.ts';

const float = process.argv.includes('--float');
const missing = wasm3Missing() || firmwareMissing();
if (missing) {
  console.error(`mcu-kernels: needs ${missing}`);
  process.exit(2);
}
let seed = 7;
const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296 - 0.5;

interface Layer {
  /** weight shape OHWI */
  w: [number, number, number, number];
  attrs: Record<string, unknown>;
  op?: string;
}
const H = 25,
  W = 5,
  C = 64;
const pw: Layer = { w: [C, 1, 1, C], attrs: { strides: [1, 1], dilations: [1, 1], padding: [0, 0, 0, 0], groups: 1 } };
const dw: Layer = { w: [C, 3, 3, 1], attrs: { strides: [1, 1], dilations: [1, 1], padding: [1, 1, 1, 1], groups: C } };
const dense: Layer = { w: [C, 1, 1, C], attrs: {}, op: 'Dense' };

/** A model.json: input [1, h, w, c] (NHWC), then `layers` (each + bias + Relu). */
function model(dir: string, name: string, inShape: number[], layers: Layer[]): string {
  const outShape = inShape.length === 2 ? [1, C] : [1, H, W, C];
  const tensors: Record<string, unknown> = {};
  const nodes: unknown[] = [];
  const side: number[] = [];
  const put = (shape: number[], n: number, scale: number) => {
    const t = { dtype: 'float32', shape, offset: side.length * 4, length: n * 4 };
    for (let k = 0; k < n; k++) side.push(rnd() * scale);
    return t;
  };
  let cur = 'x';
  layers.forEach((l, i) => {
    const dense = l.op === 'Dense';
    const wshape = dense ? [l.w[0], l.w[3]] : l.w;
    const n = wshape.reduce((a, b) => a * b, 1);
    tensors[`w${i}`] = put(wshape, n, 0.4);
    tensors[`b${i}`] = put(dense ? [1, l.w[0]] : [1, 1, 1, l.w[0]], l.w[0], 0.2);
    nodes.push({
      name: `l${i}`,
      op: dense ? 'Dense' : 'Conv2D',
      inputs: [cur, `w${i}`],
      outputs: [`c${i}`],
      attrs: { ...l.attrs, activation: 'none', clip: [0, 6] },
    });
    nodes.push({
      name: `a${i}`,
      op: 'Add',
      inputs: [`c${i}`, `b${i}`],
      outputs: [`s${i}`],
      attrs: { activation: 'none', clip: [0, 6] },
    });
    nodes.push({ name: `r${i}`, op: 'Relu', inputs: [`s${i}`], outputs: [`y${i}`], attrs: {} });
    cur = `y${i}`;
  });
  const j = {
    format: 'edgec-model',
    version: 1,
    name,
    inputs: [{ name: 'x', shape: inShape, dtype: 'float32' }],
    outputs: [{ name: cur, shape: outShape, dtype: 'float32' }],
    weights: `${name}.bin`,
    tensors,
    nodes,
  };
  writeFileSync(join(dir, `${name}.bin`), new Uint8Array(Float32Array.from(side).buffer));
  const path = join(dir, `${name}.json`);
  writeFileSync(path, JSON.stringify(j));
  return path;
}

const dir = mkdtempSync(join(tmpdir(), 'edgec-mcuk-'));
const insns = async (name: string, inShape: number[], layers: Layer[]): Promise<number> => {
  const path = model(dir, name, inShape, layers);
  const n = inShape.reduce((a, b) => a * b, 1);
  saveNpy(join(dir, `${name}-cal.npy`), {
    shape: [8, ...inShape.slice(1)],
    data: Float32Array.from({ length: 8 * n }, () => rnd() * 4),
  });
  const quantize = float ? {} : { quantize: 'int8', calibration: join(dir, `${name}-cal.npy`) };
  const bundle = (await compileModel(path, { target: 'simd', quantize })).bundle;
  writeFileSync(join(dir, `${name}.edgec`), bundle);
  writeFileSync(join(dir, `${name}.in`), new Uint8Array(Float32Array.from({ length: n }, () => rnd() * 4).buffer));
  // the loaded image (edgec compile --mcu): the same kernels, and it fits the part's RAM
  const budget = await mcuBudget(bundle);
  writeFileSync(join(dir, `${name}.wasm`), budget.image.wasm);
  const fw = buildFirmware({
    dir,
    cpu: 'm4',
    version: '0.9.0',
    wasm: join(dir, `${name}.wasm`),
    input: join(dir, `${name}.in`),
    memoryBytes: budget.linearMemory,
  });
  return runFirmware(fw, 600_000).runInsns;
};
try {
  const img = [1, H, W, C];
  const one = await insns('pw1', img, [pw]);
  const two = await insns('pw2', img, [pw, pw]);
  const dwpw = await insns('dwpw', img, [dw, pw]);
  const stem = await insns(
    'stem',
    [1, 49, 10, 1],
    [{ w: [C, 10, 4, 1], attrs: { strides: [2, 2], dilations: [1, 1], padding: [4, 1, 5, 2], groups: 1 } }, pw],
  );
  const d1 = await insns('dense1', [1, C], [dense]);
  const d2 = await insns('dense2', [1, C], [dense, dense]);
  const macs = { pw: H * W * C * C, dw: H * W * C * 9, stem: H * W * C * 40, dense: C * C };
  const row = (k: string, v: number, m: number) =>
    console.log(`${k.padEnd(28)} ${(v / 1e6).toFixed(2).padStart(8)} M  ${(v / m).toFixed(1).padStart(6)} /MAC`);
  console.log(`${float ? 'float' : 'int8'} kernels, wasm3 0.9.0 on qemu mps2-an386 (Cortex-M4F):`);
  row('pointwise 1x1 64->64 25x5', two - one, macs.pw);
  row('depthwise 3x3 64 25x5', dwpw - one, macs.dw);
  row('stem conv 10x4 s2 1->64', stem - one, macs.stem);
  row('dense 64->64', d2 - d1, macs.dense);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
