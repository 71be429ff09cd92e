// The relaxed-SIMD build in Node: a child node with --experimental-wasm-relaxed-simd (Node 20 has relaxed SIMD only
// behind it). Where the engine passes runtime/index.ts's dot-product probe, the child runs the kernel grid
// (test/kernels/grid.test.ts) with the relaxed build added to every case (EDGEC_TEST_RELAXED=1 makes its absence an
// error), so each case is relaxed = simd = scalar = reference bit for bit. Where the engine validates relaxed SIMD
// but fails the probe (Node 20's V8 on x64 returns twice the dot product and drops the accumulator), the child shows
// that `auto` stays on simd and an explicit 'relaxed' is refused; the grid then runs on the relaxed build in Chromium
// (test/browser/relaxed.test.ts).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const FLAG = '--experimental-wasm-relaxed-simd';

function child(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [FLAG, '--import', 'tsx', ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 900_000,
  });
}

const SCRIPT = `
import { readFileSync } from 'node:fs';
import { load, relaxedSupported, relaxedDotMode } from './runtime/node.ts';
import { twoInOutBundle } from './test/assembly/harness.ts';
const validates = WebAssembly.validate(readFileSync('build/edgec-relaxed.wasm'));
const m = await load(twoInOutBundle());
let refused = '';
await load(twoInOutBundle(), { build: 'relaxed' }).catch((e) => (refused = e.message));
console.log(JSON.stringify({ validates, probe: relaxedSupported(), dot: relaxedDotMode(), auto: m.info.build, refused }));
`;

test('child node with the flag: the relaxed build validates; auto picks it exactly when the probe passes', () => {
  const r = child(['--input-type=module', '-e', SCRIPT]);
  assert.is(r.status, 0, r.stderr);
  const s = JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
  assert.ok(s.validates, 'build/edgec-relaxed.wasm does not validate under ' + FLAG);
  assert.ok(['usdot', 'sdot', 'split'].includes(String(s.dot)), String(s.dot));
  if (s.probe) {
    assert.is(s.auto, 'relaxed');
    assert.is(s.refused, '');
  } else {
    assert.is(s.auto, 'simd');
    assert.is(s.dot, 'split', 'an engine failing the probe runs the split GEMM tile');
    assert.match(String(s.refused), /build 'relaxed' needs an engine whose relaxed-SIMD dot product passes/);
    console.log(
      `relaxed: ${process.version}'s relaxed dot product fails the probe; grid on relaxed: test/browser/relaxed.test.ts`,
    );
  }
});

test('child node with the flag: the kernel grid, relaxed = simd = scalar = reference (where the probe passes)', () => {
  const probe = child([
    '--input-type=module',
    '-e',
    "import { relaxedSupported } from './runtime/index.ts'; console.log(relaxedSupported())",
  ]);
  assert.is(probe.status, 0, probe.stderr);
  if (probe.stdout.trim() !== 'true') {
    console.log(`relaxed: kernel grid not run on ${process.version} (probe fails); Chromium runs it`);
    return;
  }
  const r = child([join(root, 'node_modules/uvu/bin.js'), 'test', 'kernels/grid\\.test\\.ts$'], {
    EDGEC_TEST_RELAXED: '1',
  });
  assert.is(r.status, 0, (r.stdout + r.stderr).slice(-4000));
  assert.match(r.stdout, /Passed:\s+\d+/);
});

test.run();
