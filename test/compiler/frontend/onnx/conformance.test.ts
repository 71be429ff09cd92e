// ONNX's own node tests (Debian libonnx-testdata) for every op edgec imports: import → IR reference
// → compile → runtime simd and scalar, each equal to ONNX's expected outputs within rtol 1e-3,
// atol 1e-5. Unsupported variants (int types, 3-D windows, training mode …) are uvu skips with
// their reason; the package's PyTorch-exported model suites run whole. Without the package the
// suite is a counted skip (a failure on CI, which installs it).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync } from 'node:fs';
import {
  MODEL_SUITES,
  NODE_TEST_DIR,
  TESTDATA_DIR,
  listNodeTests,
  relevantTests,
  runNodeTest,
  runtimeRunners,
} from '../../../../scripts/onnx-conformance-core.ts';
import type { CaseResult } from '../../../../scripts/onnx-conformance-core.ts';
import { skipSuite } from '../../../skip-suite.ts';

if (!existsSync(NODE_TEST_DIR)) {
  skipSuite('compiler/frontend/onnx/conformance', `${NODE_TEST_DIR}: apt-get install libonnx-testdata`);
} else {
  // Node tests of the supported ops, then every test of the PyTorch-exported model suites.
  const names = [
    ...relevantTests().map((t) => ['node', t]),
    ...MODEL_SUITES.flatMap((suite) => listNodeTests(`${TESTDATA_DIR}/${suite}`).map((t) => [suite, t])),
  ];
  const runners = await runtimeRunners();
  // Run every case up front: whether a case is a skip is only known once it has been imported.
  const results = new Map<string, CaseResult>();
  for (const [suite, name] of names)
    results.set(`${suite}/${name}`, await runNodeTest(`${TESTDATA_DIR}/${suite}`, name, runners));
  test('libonnx-testdata has node tests for the supported ops', () => {
    assert.ok(names.length > 200, `found ${names.length} relevant tests`);
  });
  for (const [suite, name] of names) {
    const r = results.get(`${suite}/${name}`)!;
    const title = `${suite}/${name} (${r.op}, opset ${r.opset})`;
    if (r.status === 'skipped') {
      test.skip(`${title}: ${r.reason}`, () => {});
      continue;
    }
    test(title, () => {
      assert.is(r.status, 'passed', r.reason);
    });
  }
}

test.run();
