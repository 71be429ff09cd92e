// `edgec compile --mcu` images (compiler/embed/mcu-image.ts) under Node's V8, no wasm3 needed: the loaded image
// gives the same output bytes as the scalar runtime loading the bundle, carries no start function and none of
// the load exports, declares the memory a run needs, and packs the loaded memory into few data segments.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { dataRuns, LOAD_EXPORTS, mcuImage, SEGMENT_GAP } from '../../compiler/embed/mcu-image.ts';
import { matrixModels, nodeOutput } from '../mcu/models.ts';

test('dataRuns: non-zero runs, merged across zero gaps shorter than SEGMENT_GAP', () => {
  const mem = new Uint8Array(4 * SEGMENT_GAP);
  mem[10] = 1;
  mem[10 + SEGMENT_GAP - 1] = 2; // gap of SEGMENT_GAP - 2 zeros: same run
  mem[3 * SEGMENT_GAP] = 3; // gap longer than SEGMENT_GAP: a new run
  const runs = dataRuns(mem);
  assert.equal(
    runs.map((r) => [r.offset, r.data.length]),
    [
      [10, SEGMENT_GAP],
      [3 * SEGMENT_GAP, 1],
    ],
  );
  assert.is(runs[0]!.data[SEGMENT_GAP - 1], 2);
  assert.equal(dataRuns(new Uint8Array(64)), []);
});

test('image = runtime + bundle, byte for byte, for float, int8 and gated models', async () => {
  for (const m of await matrixModels(2)) {
    const img = await mcuImage(m.bundle);
    const mod = new WebAssembly.Module(img.wasm as Uint8Array<ArrayBuffer>);
    const names = WebAssembly.Module.exports(mod).map((e) => e.name);
    for (const e of LOAD_EXPORTS) assert.not.ok(names.includes(e), `${m.name}: ${e} still exported`);
    assert.ok(img.segments <= 4, `${m.name}: ${img.segments} data segments`);
    const ex = new WebAssembly.Instance(mod).exports as Record<string, unknown>;
    const call = (name: string, ...a: number[]) => (ex[name] as (...x: number[]) => number)(...a);
    assert.is((ex.edgec_memory_bytes as WebAssembly.Global).value, img.memoryBytes);
    const want = await nodeOutput(m);
    const got: number[] = [];
    const mem = () => (ex.memory as WebAssembly.Memory).buffer;
    for (let k = 0, at = 0; k < m.samples; k++) {
      for (let i = 0; i < call('edgec_input_count'); i++) {
        const n = call('edgec_input_size', i);
        new Uint8Array(mem(), call('edgec_input_ptr', i), n).set(m.input.subarray(at, at + n));
        at += n;
      }
      assert.is(call('edgec_run'), 0, m.name);
      for (let i = 0; i < call('edgec_output_count'); i++)
        got.push(...new Uint8Array(mem(), call('edgec_output_ptr', i), call('edgec_output_size', i)));
    }
    assert.equal(got, Array.from(want), m.name);
    // the image starts loaded: memory already holds what a run needs, no start function reset it
    assert.ok(mem().byteLength >= img.memoryBytes, m.name);
  }
});

test('a damaged bundle is refused by name, no image', async () => {
  const m = (await matrixModels(1))[1]!;
  const bad = m.bundle.slice();
  bad[bad.length - 5] = bad[bad.length - 5]! ^ 0x40;
  try {
    await mcuImage(bad);
    assert.unreachable('accepted a damaged bundle');
  } catch (e) {
    assert.match((e as Error).message, /the scalar runtime refused the bundle: bundle: /);
  }
});

test.run();
