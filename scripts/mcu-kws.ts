// The MLPerf Tiny keyword-spotting DS-CNN in int8 on an emulated Cortex-M4F (examples/mcu, wasm3 0.9.0, stack
// height 128, RAM capped at 256 KB by the linker): compiles the ONNX model into an `edgec compile --mcu` image,
// runs one inference in qemu-system-arm with linear memory capped at `edgec inspect --mcu`'s figure, checks the
// bytes against Node and prints flash, RAM peak (predicted and measured, the heap by category) and instructions;
// then the same for the scalar runtime + the bundle loaded on the part (--bundle-too). Not part of npm test.
//   node --import tsx scripts/mcu-kws.ts [kws_dscnn.onnx] [--cpu m3] [--ram 0x40000] [--bundle-too] [--float]
// Calibration: no MFCC recordings ship with the model, so 32 seeded Gaussian samples (sigma 10) stand in;
// they set the int8 scales, not the cost. Needs wasm3's sources (test/mcu/wasm3.ts finds them).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { compileModel } from '../compiler/cli/compile.ts';
import { saveNpy } from '../compiler/io/npy.ts';
import { formatMcuBudget, mcuBudget } from '../compiler/embed/mcu-budget.ts';
import { nodeOutput } from '../test/mcu/models.ts';
import { buildFirmware, firmwareMissing, runFirmware } from '../test/mcu/firmware.ts';
import { REPO_ROOT, wasm3Missing } from '../test/mcu/wasm3.ts';

const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args.splice(i, 2)[1]! : dflt;
};
const cpu = opt('--cpu', 'm4') as 'm4' | 'm3';
const ramSize = Number(opt('--ram', '0x40000'));
const flag = (name: string) => args.includes(name) && args.splice(args.indexOf(name), 1).length > 0;
const bundleToo = flag('--bundle-too');
// --float: the float model as it is (no quantisation)
const float = flag('--float');
const onnx = resolve(args[0] ?? join(REPO_ROOT, 'test', 'fixtures', 'onnx', 'kws_dscnn.onnx'));
const missing = wasm3Missing() || firmwareMissing();
if (missing) {
  console.error(`mcu-kws: needs ${missing}`);
  process.exit(2);
}

let seed = 20261203;
const gauss = () => {
  let s = 0;
  for (let k = 0; k < 3; k++) s += (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296;
  return (s - 1.5) * 20;
};
const dir = mkdtempSync(join(tmpdir(), 'edgec-kws-'));
try {
  const calib = Float32Array.from({ length: 32 * 490 }, gauss);
  saveNpy(join(dir, 'calib.npy'), { shape: [32, 1, 49, 10], data: calib });
  const bundle = (
    await compileModel(onnx, {
      target: 'simd',
      quantize: float ? {} : { quantize: 'int8', calibration: join(dir, 'calib.npy') },
    })
  ).bundle;
  const input = new Uint8Array(Float32Array.from({ length: 490 }, gauss).buffer);
  writeFileSync(join(dir, 'kws.edgec'), bundle);
  writeFileSync(join(dir, 'in.bin'), input);
  const budget = await mcuBudget(bundle);
  writeFileSync(join(dir, 'kws.wasm'), budget.image.wasm);
  console.log(`${onnx}: bundle ${bundle.length} B${formatMcuBudget(budget)}`);
  const want = await nodeOutput({ name: float ? 'kws float' : 'kws int8', bundle, input, samples: 1 });
  const run = (what: string, ram: number, wasm: string, memoryBytes: number, withBundle: boolean) => {
    const fw = buildFirmware({
      dir,
      cpu,
      version: '0.9.0',
      wasm,
      ...(withBundle ? { bundle: join(dir, 'kws.edgec') } : {}),
      input: join(dir, 'in.bin'),
      memoryBytes,
      ramSize: ram,
    });
    let r;
    try {
      r = runFirmware(fw, 600_000);
    } catch (e) {
      // a part too small fails cleanly (wasm3 reports the allocation)
      console.log(`cortex-${cpu} ${what}, RAM ${ram} B: does not fit (${(e as Error).message.trim()})`);
      return false;
    }
    const same = r.output.length === want.length && r.output.every((v, i) => v === want[i]);
    console.log(
      `cortex-${cpu} ${what}, RAM ${ram} B: bytes ${same ? '=' : '!='} Node; flash ${r.flash} B; RAM peak ` +
        `${r.ramPeak} B (heap ${r.heapPeak}, static ${r.staticRam}, stack ${r.stackPeak}); ` +
        `${r.runInsns} instructions/inference, load ${r.loadInsns}\n  heap: ${r.heap}`,
    );
    return same;
  };
  const ok = run('--mcu image', ramSize, join(dir, 'kws.wasm'), budget.linearMemory, false);
  if (bundleToo) run('runtime + bundle', 0x400000, join(REPO_ROOT, 'build', 'edgec-scalar.wasm'), 0, true);
  process.exitCode = ok ? 0 : 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
