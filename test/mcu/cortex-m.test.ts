// examples/mcu's firmware on emulated Cortex-M boards: wasm3 0.9.0 (stack height 128, no WASI) + the scalar
// runtime + the MNIST int8 bundle linked into flash, built with Debian's arm-none-eabi gcc + newlib and run in
// qemu-system-arm: mps2-an386 (Cortex-M4F, hard float) and mps2-an385 (Cortex-M3, soft float). The output
// bytes must equal Node's scalar runtime, linear memory capped at `edgec inspect --mcu`'s figure suffices and
// RAM and flash stay within its prediction; instruction counts are printed (speed targets live in benchmarks).
// The same host runs natively under wasm3 0.9.0 and 0.5.0 for every model of the matrix.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { skipSuite } from '../skip-suite.ts';
import { matrixModels, nodeOutput, type MatrixModel } from './models.ts';
import { buildFirmware, firmwareMissing, runFirmware } from './firmware.ts';
import { mcuBudget } from '../../compiler/embed/mcu-budget.ts';
import { REPO_ROOT, WASM3_VERSIONS, wasm3Missing, wasm3NativeHost } from './wasm3.ts';

const missing = wasm3Missing() || firmwareMissing();
if (missing) skipSuite('mcu/cortex-m', missing);
else {
  let dir = '';
  let models: MatrixModel[] = [];
  const want = new Map<string, Uint8Array>();
  const scalar = join(REPO_ROOT, 'build', 'edgec-scalar.wasm');
  test.before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'edgec-mcu-'));
    models = await matrixModels(2);
    for (const m of models) {
      want.set(m.name, await nodeOutput(m));
      const slug = m.name.replace(/ /g, '-');
      writeFileSync(join(dir, `${slug}.edgec`), m.bundle);
      writeFileSync(join(dir, `${slug}.in`), m.input);
    }
  });
  test.after(() => rmSync(dir, { recursive: true, force: true }));

  for (const version of WASM3_VERSIONS) {
    test(`C host (plain-i32 ABI, no WASI, stack height 128) on wasm3 ${version}: every model = Node`, () => {
      const host = wasm3NativeHost(version);
      for (const m of models) {
        const slug = m.name.replace(/ /g, '-');
        const r = spawnSync(host, [scalar, `${slug}.edgec`, `${slug}.in`, `${slug}-host.out`], {
          cwd: dir,
          encoding: 'utf8',
        });
        assert.is(r.status, 0, `${m.name}: ${r.stdout}${r.stderr}`);
        assert.equal(Array.from(readFileSync(join(dir, `${slug}-host.out`))), Array.from(want.get(m.name)!), m.name);
      }
    });
  }

  test('C host: a damaged bundle is refused with the runtime message, not a crash', () => {
    const m = models[1]!;
    const bad = m.bundle.slice();
    bad[bad.length - 5] = bad[bad.length - 5]! ^ 0x40;
    writeFileSync(join(dir, 'bad.edgec'), bad);
    const r = spawnSync(wasm3NativeHost('0.9.0'), [scalar, 'bad.edgec', 'mnist-int8.in', 'x.out'], {
      cwd: dir,
      encoding: 'utf8',
    });
    assert.is(r.status, 1);
    assert.match(r.stderr, /^edgec-host: bundle refused: bundle: /);
  });

  for (const cpu of ['m4', 'm3'] as const) {
    test(`Cortex-${cpu.toUpperCase()} (qemu mps2-${cpu === 'm4' ? 'an386' : 'an385'}): MNIST int8 bytes = Node`, () => {
      const m = models.find((x) => x.name === 'mnist int8')!;
      // linear memory capped at what `edgec inspect --mcu` measures: a short figure would trap
      const budget = mcuBudget(m.bundle);
      const fw = buildFirmware({
        memoryBytes: budget.linearMemory,
        dir,
        cpu,
        version: '0.9.0',
        wasm: scalar,
        bundle: join(dir, 'mnist-int8.edgec'),
        input: join(dir, 'mnist-int8.in'),
      });
      const r = runFirmware(fw);
      assert.equal(Array.from(r.output), Array.from(want.get(m.name)!));
      assert.ok(r.ramPeak <= budget.ram, `RAM peak ${r.ramPeak} > predicted ${budget.ram}`);
      assert.ok(r.flash <= budget.flash + m.input.length + 64, `flash ${r.flash} > predicted ${budget.flash}`);
      console.log(
        `  cortex-${cpu} mnist int8: flash ${r.flash} B, RAM peak ${r.ramPeak} B (heap ${r.heapPeak}, ` +
          `static ${r.staticRam}, stack ${r.stackPeak}), ${Math.round(r.runInsns / r.samples)} instructions/inference, ` +
          `load ${r.loadInsns}`,
      );
    });
  }
}
test.run();
