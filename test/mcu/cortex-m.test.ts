// examples/mcu's firmware on emulated Cortex-M boards: wasm3 0.9.0 (stack height 128, no WASI) + MNIST int8 as
// an `edgec compile --mcu` image (and as the scalar runtime + the bundle) linked into flash, built with Debian's
// arm-none-eabi gcc + newlib and run in qemu-system-arm: mps2-an386 (Cortex-M4F, hard float) and mps2-an385
// (Cortex-M3, soft float), RAM capped at 256 KB by the linker. The output bytes must equal Node's scalar runtime,
// linear memory capped at `edgec inspect --mcu`'s figure suffices, and the measured RAM peak and flash stay within
// its prediction and close to it (the gated Branch model's too, predicted over all its paths); instruction counts are
// printed (speed targets live in benchmarks).
// The same host runs natively under wasm3 0.9.0 and 0.5.0 for every model of the matrix, both forms.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { skipSuite } from '../skip-suite.ts';
import { matrixModels, nodeOutput, type MatrixModel } from './models.ts';
import { buildFirmware, firmwareMissing, runFirmware } from './firmware.ts';
import { mcuBudget, type McuBudget } from '../../compiler/embed/mcu-budget.ts';
import { REPO_ROOT, WASM3_VERSIONS, wasm3Missing, wasm3NativeHost } from './wasm3.ts';

const missing = wasm3Missing() || firmwareMissing();
if (missing) skipSuite('mcu/cortex-m', missing);
else {
  let dir = '';
  let models: MatrixModel[] = [];
  const want = new Map<string, Uint8Array>();
  const budgets = new Map<string, McuBudget>();
  const scalar = join(REPO_ROOT, 'build', 'edgec-scalar.wasm');
  test.before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'edgec-mcu-'));
    models = await matrixModels(2);
    for (const m of models) {
      want.set(m.name, await nodeOutput(m));
      const slug = m.name.replace(/ /g, '-');
      writeFileSync(join(dir, `${slug}.edgec`), m.bundle);
      writeFileSync(join(dir, `${slug}.in`), m.input);
      const b = await mcuBudget(m.bundle);
      budgets.set(m.name, b);
      writeFileSync(join(dir, `${slug}.wasm`), b.image.wasm);
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
        // the --mcu image (no bundle), memory capped at its figure
        const memory = String(budgets.get(m.name)!.linearMemory);
        const i = spawnSync(host, [`${slug}.wasm`, '-', `${slug}.in`, `${slug}-image.out`, memory], {
          cwd: dir,
          encoding: 'utf8',
        });
        assert.is(i.status, 0, `${m.name} image: ${i.stdout}${i.stderr}`);
        assert.equal(Array.from(readFileSync(join(dir, `${slug}-image.out`))), Array.from(want.get(m.name)!), m.name);
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

  test('C host: an --mcu image given less memory than it declares is refused by name', () => {
    const r = spawnSync(wasm3NativeHost('0.9.0'), ['mnist-int8.wasm', '-', 'mnist-int8.in', 'x.out', '120000'], {
      cwd: dir,
      encoding: 'utf8',
    });
    assert.is(r.status, 0, r.stderr);
    const need = budgets.get('mnist int8')!.linearMemory;
    const s = spawnSync(wasm3NativeHost('0.9.0'), ['mnist-int8.wasm', '-', 'mnist-int8.in', 'x.out', `${need - 16}`], {
      cwd: dir,
      encoding: 'utf8',
    });
    assert.is(s.status, 1);
    assert.match(s.stderr, `memory_bytes ${need - 16} is below the ${need} bytes it needs`);
  });

  for (const cpu of ['m4', 'm3'] as const) {
    test(`Cortex-${cpu.toUpperCase()} (qemu mps2-${cpu === 'm4' ? 'an386' : 'an385'}, 256 KB RAM): MNIST int8 = Node`, () => {
      const m = models.find((x) => x.name === 'mnist int8')!;
      const budget = budgets.get(m.name)!;
      const common = { dir, cpu, version: '0.9.0' as const, input: join(dir, 'mnist-int8.in'), ramSize: 0x40000 };
      // the --mcu image, linear memory capped at what `edgec inspect --mcu` measures: a short figure would fail
      const r = runFirmware(
        buildFirmware({ ...common, wasm: join(dir, 'mnist-int8.wasm'), memoryBytes: budget.linearMemory }),
      );
      assert.equal(Array.from(r.output), Array.from(want.get(m.name)!));
      // honest both ways: never above the prediction, and not more than 16 KB below it
      assert.ok(r.ramPeak <= budget.ram, `RAM peak ${r.ramPeak} > predicted ${budget.ram}`);
      assert.ok(budget.ram - r.ramPeak <= 4096, `RAM peak ${r.ramPeak} far below predicted ${budget.ram}`);
      assert.ok(r.flash <= budget.flash + m.input.length + 64, `flash ${r.flash} > predicted ${budget.flash}`);
      assert.ok(budget.flash - r.flash <= m.input.length + 2048, `flash ${r.flash} far below ${budget.flash}`);
      console.log(
        `  cortex-${cpu} mnist int8 image: flash ${r.flash} B, RAM peak ${r.ramPeak} B (predicted ${budget.ram}; heap ` +
          `${r.heapPeak}: ${r.heap}; static ${r.staticRam}, stack ${r.stackPeak}), ` +
          `${Math.round(r.runInsns / r.samples)} instructions/inference`,
      );
      // the runtime + the bundle, loaded on the part (wasm3 then also compiles edgec_load: 4 MB RAM): same bytes
      const rb = runFirmware(
        buildFirmware({
          ...common,
          ramSize: 0x400000,
          wasm: scalar,
          bundle: join(dir, 'mnist-int8.edgec'),
          memoryBytes: 0,
        }),
      );
      assert.equal(Array.from(rb.output), Array.from(want.get(m.name)!));
      console.log(`  cortex-${cpu} mnist int8 runtime + bundle: RAM peak ${rb.ramPeak} B, edgec_load ${rb.loadInsns}`);
    });
  }

  test('Cortex-M4F: the gated Branch model (float) = Node, RAM peak within the all-paths prediction', () => {
    const m = models.find((x) => x.name === 'gated float')!;
    const budget = budgets.get(m.name)!;
    const r = runFirmware(
      buildFirmware({
        dir,
        cpu: 'm4',
        version: '0.9.0',
        wasm: join(dir, 'gated-float.wasm'),
        input: join(dir, 'gated-float.in'),
        memoryBytes: budget.linearMemory,
        ramSize: 0x40000,
      }),
    );
    assert.equal(Array.from(r.output), Array.from(want.get(m.name)!));
    assert.ok(r.ramPeak <= budget.ram, `RAM peak ${r.ramPeak} > predicted ${budget.ram}`);
    assert.ok(budget.ram - r.ramPeak <= 4096, `RAM peak ${r.ramPeak} far below predicted ${budget.ram}`);
    console.log(`  cortex-m4 gated float image: RAM peak ${r.ramPeak} B (predicted ${budget.ram}; heap ${r.heap})`);
  });
}
test.run();
