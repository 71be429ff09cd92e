// The TFLite reader (compiler/frontend/tflite/tflite-schema.generated.ts) must be exactly what
// scripts/tflite-schema.ts makes from the committed schema.fbs, so nobody edits it by hand.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateTfliteReader, TFLITE_DIR } from '../../scripts/tflite-schema.ts';
import { skipSuite } from '../skip-suite.ts';

if (spawnSync('flatc', ['--version']).status !== 0) skipSuite('schema/tflite-generated', 'flatc: apt-get install flatbuffers-compiler');
else
  test('tflite-schema.generated.ts is reproduced by scripts/tflite-schema.ts', () => {
    const committed = readFileSync(join(TFLITE_DIR, 'tflite-schema.generated.ts'), 'utf8');
    assert.ok(generateTfliteReader() === committed, 'tflite-schema.generated.ts differs: run node --import tsx scripts/tflite-schema.ts');
  });

test.run();
