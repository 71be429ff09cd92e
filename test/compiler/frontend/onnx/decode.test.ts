// TensorProto decoding: every storage form (raw_data little-endian, typed repeated fields), float16,
// int64 shapes, and the errors for external data and wrong byte counts. Values are exact.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeTensorProto, onnxProtoRoot } from '../../../../compiler/frontend/onnx/decode.ts';
import { ModelError } from '../../../../compiler/ir/graph.ts';

const TensorProto = onnxProtoRoot().lookupType('onnx.TensorProto');
const encode = (obj: Record<string, unknown>) => TensorProto.encode(TensorProto.fromObject(obj)).finish();
const bytes = (view: ArrayBufferView) => new Uint8Array(view.buffer, view.byteOffset, view.byteLength);

test('raw_data float32 / int8 / int64 / float16 and typed fields decode exactly', () => {
  const f = new Float32Array([1.5, -2.25, 3e-8, 65504]);
  let t = decodeTensorProto(encode({ name: 'f', dims: [2, 2], data_type: 1, raw_data: bytes(f) }), 'f.pb');
  assert.equal(t.dims, [2, 2]);
  assert.equal([...t.values], [...f]);
  t = decodeTensorProto(encode({ dims: [3], data_type: 3, raw_data: bytes(new Int8Array([-128, 0, 127])) }), 'i8.pb');
  assert.equal([...t.values], [-128, 0, 127]);
  t = decodeTensorProto(
    encode({ dims: [2], data_type: 7, raw_data: bytes(new BigInt64Array([-1n, 1n << 40n])) }),
    'i64.pb',
  );
  assert.equal([...t.values], [-1, 2 ** 40]);
  // float16 1.0 = 0x3c00, −2.0 = 0xc000, smallest subnormal 0x0001 = 2^-24
  t = decodeTensorProto(
    encode({ dims: [3], data_type: 10, raw_data: bytes(new Uint16Array([0x3c00, 0xc000, 0x0001])) }),
    'h.pb',
  );
  assert.equal([...t.values], [1, -2, 2 ** -24]);
  t = decodeTensorProto(encode({ dims: [2], data_type: 7, int64_data: [5, -7] }), 'i64f.pb');
  assert.equal([...t.values], [5, -7]);
  t = decodeTensorProto(encode({ dims: [2], data_type: 2, int32_data: [0, 255] }), 'u8f.pb');
  assert.equal([...t.values], [0, 255]);
  t = decodeTensorProto(encode({ dims: [], data_type: 1, float_data: [0.5] }), 'scalar.pb');
  assert.equal(t.dims, []);
  assert.equal([...t.values], [0.5]);
});

test('external data and wrong sizes are ModelErrors naming the tensor', () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [
      { name: 'w', dims: [4], data_type: 1, data_location: 1 },
      /initializer 'w': data_location: expected data inside the \.onnx file/,
    ],
    [
      { name: 'w', dims: [4], data_type: 1, raw_data: new Uint8Array(12) },
      /raw_data: expected 16 bytes for dims \[4\], found 12/,
    ],
    [{ name: 'w', dims: [3], data_type: 1, float_data: [1, 2] }, /data: expected 3 values for dims \[3\], found 2/],
    [
      { name: 's', dims: [1], data_type: 8, string_data: [new Uint8Array([65])] },
      /data_type: expected a numeric type, found string/,
    ],
  ];
  for (const [obj, re] of cases) {
    try {
      decodeTensorProto(encode(obj), 't.pb');
      assert.unreachable('decoded');
    } catch (e) {
      assert.instance(e, ModelError);
      assert.match((e as Error).message, re);
    }
  }
});

test.run();
