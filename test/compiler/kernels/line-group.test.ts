// The 1×k / k×1 line group R is written once, in TS (compiler/kernels/scratch.ts lineGroup), and checked on the
// AS side: the runtime's load-time check (assembly/kernels/qs8-steps.ts, the kernel's own grouping rule) accepts
// the scratch [R·L, Ci] the TS rule sizes and refuses R ± 1, for every output line length 1..13 and line count 1..6.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { lineGroup, lineScratch } from '../../../compiler/kernels/scratch.ts';
import { makeBundle, fb, type TDesc } from '../../assembly/harness.ts';
import { load } from '../../../runtime/node.ts';

const C = 2,
  K = 3;
/** One padded 3-tap Conv1xK_QS8 (rows) or ConvKx1_QS8 step: outLong outputs along k, outShort lines; scratch `lines` lines. */
function lineBundle(rows: boolean, outLong: number, outShort: number, lines: number): Uint8Array {
  const [h, w] = rows ? [outShort, outLong] : [outLong, outShort];
  const L = outLong + K - 1;
  const t: TDesc[] = [
    { name: 'x', shape: [1, h, w, C], role: 'in', dtype: fb.DType.I8 },
    { name: 'w', shape: [1, 1, (K * C + 1) & ~1], role: 'const', dtype: fb.DType.I8, data: new Int8Array(8) },
    { name: 'qc', shape: [3, 1], role: 'const', dtype: fb.DType.I32, data: Int32Array.of(0, 1 << 30, 31) },
    { name: 'lines', shape: [lines * L, C], role: 'tmp', dtype: fb.DType.I8 },
    { name: 'y', shape: [1, h, w, 1], role: 'out', dtype: fb.DType.I8 },
  ];
  const pad = rows ? { padLeft: 1, padRight: 1 } : { padTop: 1, padBottom: 1 };
  return makeBundle(t, [
    {
      kernel: rows ? fb.KernelId.Conv1xK_QS8 : fb.KernelId.ConvKx1_QS8,
      inputs: [0, 1, 2, 3],
      outputs: [4],
      params: { type: 'conv', kernelH: rows ? 1 : K, kernelW: rows ? K : 1, qMin: -128, qMax: 127, ...pad },
    },
  ]);
}

test('AS accepts the TS line group and refuses one line more or fewer (1×3 and 3×1, out lines 1..13 × 1..6)', async () => {
  for (const rows of [true, false])
    for (let outLong = 1; outLong <= 13; outLong++)
      for (let outShort = 1; outShort <= 6; outShort++) {
        const R = lineGroup(outLong, outShort);
        const geo = rows ? { oh: outShort, ow: outLong, kh: 1, kw: K } : { oh: outLong, ow: outShort, kh: K, kw: 1 };
        const want = lineScratch(
          { ...geo, sh: 1, sw: 1, dh: 1, dw: 1, ci: C, groups: 1, pad: rows ? [0, 1, 0, 1] : [1, 0, 1, 0] },
          rows,
        );
        assert.equal(want, [R * (outLong + K - 1), C]);
        const label = `${rows ? '1x3' : '3x1'} out ${outLong} x ${outShort} lines`;
        await load(lineBundle(rows, outLong, outShort, R), { build: 'scalar' }).catch((e) =>
          assert.unreachable(`${label}: R ${R} refused: ${e}`),
        );
        for (const bad of [R - 1, R + 1].filter((v) => v >= 1)) {
          const err = await load(lineBundle(rows, outLong, outShort, bad), { build: 'scalar' }).then(
            () => null,
            (e: Error) => e.message,
          );
          assert.ok(err !== null && /scratch/.test(err), `${label}: R ${bad} (TS rule ${R}) accepted: ${err}`);
        }
      }
});

test.run();
