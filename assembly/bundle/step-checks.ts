// Load-time checks of the float and data-movement steps (KernelIds 1..K_PAD; docs/bundle-format.md, "Validation"):
// each kernel's shape/dtype/params contract, behind a table (FLOAT_CHECKS) so no function nests deeper than wasm3
// allows at stack height 128. The shared argument checks and the step context messages name are in check-args.ts.
import {
  MAX_ELEMS,
  MAX_RANK,
  sa,
  shapeStr,
  bad,
  tensorArg,
  needF32,
  needShape,
  needRank,
  needWritable,
  needParams,
  needCounts,
  outDim,
  checkActivation,
  checkWindow,
  stridedFits,
  shapeElems,
  checkSameElems,
  checkSameDtype,
} from './check-args';
import {
  Model,
  StepInfo,
  TensorInfo,
  DT_F32,
  K_CONV2D,
  K_DWCONV2D,
  K_DENSE,
  K_MAXPOOL,
  K_AVGPOOL,
  K_GAP,
  K_BINARY,
  K_UNARY,
  K_SOFTMAX,
  K_TRANSPOSE,
  K_CONCAT,
  K_COPY,
  K_PAD,
  K_CONV2D_P8,
  P_CONV,
  P_POOL,
  P_DENSE,
  P_BINARY,
  P_UNARY,
  P_SOFTMAX,
  P_TRANSPOSE,
  P_CONCAT,
  P_PAD,
} from './model';

/** Conv2D_F32 (packed false), DepthwiseConv2D_F32, Conv2D_F32_P8 (packed: 8-channel panels, Co from the output). */
function checkConv(m: Model, s: StepInfo, depthwise: bool, packed: bool = false): void {
  if (!needCounts(s, 2, 3, 1) || !needParams(s, P_CONV, 'ConvParams') || !checkActivation(s)) return;
  const p = s.p;
  if (
    !checkWindow(p.kh, 'kernel_h') ||
    !checkWindow(p.kw, 'kernel_w') ||
    !checkWindow(p.sh, 'stride_h') ||
    !checkWindow(p.sw, 'stride_w') ||
    !checkWindow(p.dh, 'dilation_h') ||
    !checkWindow(p.dw, 'dilation_w')
  )
    return;
  if (p.pt < 0 || p.pl < 0 || p.pb < 0 || p.pr < 0) {
    bad('negative padding');
    return;
  }
  const x = tensorArg(m, s, true, 0);
  if (x === null) return;
  const w = tensorArg(m, s, true, 1);
  if (w === null) return;
  const y = tensorArg(m, s, false, 0);
  if (y === null) return;
  if (!needF32(x, 'input') || !needF32(w, 'weights') || !needF32(y, 'output') || !needWritable(y)) return;
  if (!needRank(x, 'input', 4)) return;
  const N = x.shape[0],
    H = x.shape[1],
    W = x.shape[2],
    C = x.shape[3];
  let Co: i32;
  if (depthwise) {
    if (!checkWindow(p.mult, 'depth_multiplier')) return;
    Co = C * p.mult;
    if (!needShape(w, 'weights', sa([p.kh, p.kw, Co]))) return;
  } else {
    const G = p.groups;
    if (!checkWindow(G, 'groups')) return;
    if (!needRank(w, 'weights', packed ? 6 : 5)) return;
    if (packed && !needRank(y, 'output', 4)) return;
    Co = packed ? y.shape[3] : w.shape[0] * w.shape[4];
    if (packed) {
      const Cog = Co / G;
      if (w.shape[0] != G || C % G != 0 || Co % G != 0) {
        bad('groups ' + G.toString() + ' do not divide input channels ' + C.toString() + ' / output channels');
        return;
      }
      if (!needShape(w, 'weights', sa([G, (Cog + 7) / 8, p.kh, p.kw, C / G, 8]))) return;
    }
    if (w.shape[0] != G || C % G != 0) {
      bad(
        'groups ' +
          G.toString() +
          ' do not divide input channels ' +
          C.toString() +
          ' / match weights ' +
          shapeStr(w.shape),
      );
      return;
    }
    if (!packed && !needShape(w, 'weights', sa([G, p.kh, p.kw, C / G, w.shape[4]]))) return;
  }
  if (s.inputs.length == 3 && s.inputs[2] >= 0) {
    const b = tensorArg(m, s, true, 2);
    if (b === null) return;
    if (!needF32(b, 'bias') || !needShape(b, 'bias', sa([Co]))) return;
  }
  const OH = outDim(H, p.kh, p.sh, p.dh, p.pt, p.pb),
    OW = outDim(W, p.kw, p.sw, p.dw, p.pl, p.pr);
  if (OH < 1 || OW < 1) {
    bad('window larger than the padded input');
    return;
  }
  needShape(y, 'output', sa([N, OH, OW, Co]));
}

function checkDense(m: Model, s: StepInfo): void {
  if (!needCounts(s, 2, 3, 1) || !needParams(s, P_DENSE, 'DenseParams') || !checkActivation(s)) return;
  const x = tensorArg(m, s, true, 0);
  if (x === null) return;
  const w = tensorArg(m, s, true, 1);
  if (w === null) return;
  const y = tensorArg(m, s, false, 0);
  if (y === null) return;
  if (!needF32(x, 'input') || !needF32(w, 'weights') || !needF32(y, 'output') || !needWritable(y)) return;
  if (!needRank(x, 'input', 2) || !needRank(w, 'weights', 2)) return;
  const M = x.shape[0],
    K = x.shape[1],
    N = w.shape[1];
  if (!needShape(w, 'weights', sa([K, N]))) return;
  if (s.inputs.length == 3 && s.inputs[2] >= 0) {
    const b = tensorArg(m, s, true, 2);
    if (b === null) return;
    if (!needF32(b, 'bias') || !needShape(b, 'bias', sa([N]))) return;
  }
  needShape(y, 'output', sa([M, N]));
}

function checkPool(m: Model, s: StepInfo): void {
  if (!needCounts(s, 1, 1, 1) || !needParams(s, P_POOL, 'PoolParams')) return;
  const p = s.p;
  if (
    !checkWindow(p.kh, 'kernel_h') ||
    !checkWindow(p.kw, 'kernel_w') ||
    !checkWindow(p.sh, 'stride_h') ||
    !checkWindow(p.sw, 'stride_w')
  )
    return;
  // Padding smaller than the window keeps at least one in-bounds tap in every window (no 0 count).
  if (p.pt < 0 || p.pl < 0 || p.pb < 0 || p.pr < 0 || p.pt >= p.kh || p.pb >= p.kh || p.pl >= p.kw || p.pr >= p.kw) {
    bad('padding must be >= 0 and smaller than the window');
    return;
  }
  const x = tensorArg(m, s, true, 0);
  if (x === null) return;
  const y = tensorArg(m, s, false, 0);
  if (y === null) return;
  if (!needF32(x, 'input') || !needF32(y, 'output') || !needWritable(y) || !needRank(x, 'input', 4)) return;
  const OH = outDim(x.shape[1], p.kh, p.sh, 1, p.pt, p.pb),
    OW = outDim(x.shape[2], p.kw, p.sw, 1, p.pl, p.pr);
  if (OH < 1 || OW < 1) {
    bad('window larger than the padded input');
    return;
  }
  needShape(y, 'output', sa([x.shape[0], OH, OW, x.shape[3]]));
}

function checkGap(m: Model, s: StepInfo): void {
  if (!needCounts(s, 1, 1, 1)) return;
  const x = tensorArg(m, s, true, 0);
  if (x === null) return;
  const y = tensorArg(m, s, false, 0);
  if (y === null) return;
  if (!needF32(x, 'input') || !needF32(y, 'output') || !needWritable(y) || !needRank(x, 'input', 4)) return;
  needShape(y, 'output', sa([x.shape[0], 1, 1, x.shape[3]]));
}

function checkBinary(m: Model, s: StepInfo): void {
  if (!needCounts(s, 2, 2, 1) || !needParams(s, P_BINARY, 'BinaryParams') || !checkActivation(s)) return;
  const p = s.p;
  if (p.op < 0 || p.op > 6) {
    bad('unknown binary op ' + p.op.toString());
    return;
  }
  const a = tensorArg(m, s, true, 0);
  if (a === null) return;
  const b = tensorArg(m, s, true, 1);
  if (b === null) return;
  const y = tensorArg(m, s, false, 0);
  if (y === null) return;
  if (!needF32(a, 'input a') || !needF32(b, 'input b') || !needF32(y, 'output') || !needWritable(y)) return;
  const n = shapeElems(p.shape, 'shape');
  if (n == 0) return;
  if (n != y.elems) {
    bad(
      'shape ' +
        shapeStr(p.shape) +
        ' has ' +
        n.toString() +
        " elements, output '" +
        y.name +
        "' has " +
        y.elems.toString(),
    );
    return;
  }
  if (!stridedFits(p.shape, p.aStrides, 0, a.elems, 'a')) return;
  stridedFits(p.shape, p.bStrides, 0, b.elems, 'b');
}

function checkUnary(m: Model, s: StepInfo): void {
  if (!needCounts(s, 1, 1, 1) || !needParams(s, P_UNARY, 'UnaryParams')) return;
  if (s.p.op < 0 || s.p.op > 9) {
    bad('unknown unary op ' + s.p.op.toString());
    return;
  }
  const x = tensorArg(m, s, true, 0);
  if (x === null) return;
  const y = tensorArg(m, s, false, 0);
  if (y === null) return;
  if (!needF32(x, 'input') || !needF32(y, 'output') || !needWritable(y)) return;
  checkSameElems(x, y);
}

function checkSoftmax(m: Model, s: StepInfo): void {
  if (!needCounts(s, 1, 1, 1) || !needParams(s, P_SOFTMAX, 'SoftmaxParams')) return;
  const p = s.p;
  const x = tensorArg(m, s, true, 0);
  if (x === null) return;
  const y = tensorArg(m, s, false, 0);
  if (y === null) return;
  if (!needF32(x, 'input') || !needF32(y, 'output') || !needWritable(y) || !checkSameElems(x, y)) return;
  if (p.outer < 1 || p.axis < 1 || p.inner < 1 || <u64>p.outer * <u64>p.axis * <u64>p.inner != x.elems) {
    bad(
      'outer ' +
        p.outer.toString() +
        ' x axis ' +
        p.axis.toString() +
        ' x inner ' +
        p.inner.toString() +
        ' does not cover ' +
        x.elems.toString() +
        ' elements',
    );
  }
}

function checkTranspose(m: Model, s: StepInfo): void {
  if (!needCounts(s, 1, 1, 1) || !needParams(s, P_TRANSPOSE, 'TransposeParams')) return;
  const p = s.p;
  const x = tensorArg(m, s, true, 0);
  if (x === null) return;
  const y = tensorArg(m, s, false, 0);
  if (y === null) return;
  if (!needWritable(y) || !checkSameDtype(x, y)) return;
  const n = shapeElems(p.shape, 'shape');
  if (n == 0) return;
  if (n != y.elems) {
    bad('shape ' + shapeStr(p.shape) + " does not match output '" + y.name + "' " + shapeStr(y.shape));
    return;
  }
  stridedFits(p.shape, p.aStrides, <i64>p.offset, x.elems, 'input');
}

function checkConcat(m: Model, s: StepInfo): void {
  if (!needParams(s, P_CONCAT, 'ConcatParams')) return;
  const p = s.p;
  if (s.inputs.length < 1 || s.outputs.length != 1) {
    bad('needs >= 1 inputs and 1 output');
    return;
  }
  if (p.sizes.length != s.inputs.length) {
    bad('sizes has ' + p.sizes.length.toString() + ' entries for ' + s.inputs.length.toString() + ' inputs');
    return;
  }
  if (p.outer < 1) {
    bad('outer ' + p.outer.toString() + ' must be >= 1');
    return;
  }
  const y = tensorArg(m, s, false, 0);
  if (y === null) return;
  if (!needWritable(y)) return;
  let total: u64 = 0;
  for (let i = 0; i < s.inputs.length; i++) {
    const x = tensorArg(m, s, true, i);
    if (x === null) return;
    if (!checkSameDtype(x, y)) return;
    if (p.sizes[i] < 1 || <u64>p.outer * <u64>p.sizes[i] != x.elems) {
      bad(
        "input '" +
          x.name +
          "' has " +
          x.elems.toString() +
          ' elements, expected outer ' +
          p.outer.toString() +
          ' x ' +
          p.sizes[i].toString(),
      );
      return;
    }
    total += <u64>p.sizes[i];
  }
  if (<u64>p.outer * total != y.elems) {
    bad(
      "output '" + y.name + "' has " + y.elems.toString() + ' elements, expected ' + (<u64>p.outer * total).toString(),
    );
  }
}

function checkCopy(m: Model, s: StepInfo): void {
  if (!needCounts(s, 1, 1, 1)) return;
  const x = tensorArg(m, s, true, 0);
  if (x === null) return;
  const y = tensorArg(m, s, false, 0);
  if (y === null) return;
  if (!needWritable(y)) return;
  if (x.size != y.size) {
    bad("input '" + x.name + "' is " + x.size.toString() + " bytes, output '" + y.name + "' is " + y.size.toString());
  }
}

function checkPad(m: Model, s: StepInfo): void {
  if (!needCounts(s, 1, 1, 1) || !needParams(s, P_PAD, 'PadParams')) return;
  const p = s.p;
  const x = tensorArg(m, s, true, 0);
  if (x === null) return;
  const y = tensorArg(m, s, false, 0);
  if (y === null) return;
  if (!needWritable(y) || !checkSameDtype(x, y)) return;
  const n = shapeElems(p.shape, 'shape');
  if (n == 0) return;
  const ni = shapeElems(p.inShape, 'in_shape');
  if (ni == 0) return;
  if (p.inShape.length != p.shape.length || p.before.length != p.shape.length) {
    bad('shape, in_shape and before differ in rank');
    return;
  }
  if (n != y.elems || ni != x.elems) {
    bad('shape ' + shapeStr(p.shape) + ' / in_shape ' + shapeStr(p.inShape) + ' do not match the tensors');
    return;
  }
  for (let k = 0; k < p.shape.length; k++) {
    if (p.before[k] < 0 || <i64>p.before[k] + <i64>p.inShape[k] > <i64>p.shape[k]) {
      bad(
        'axis ' +
          k.toString() +
          ': input ' +
          p.inShape[k].toString() +
          ' at ' +
          p.before[k].toString() +
          ' does not fit in ' +
          p.shape[k].toString(),
      );
      return;
    }
  }
}

type StepCheck = (m: Model, s: StepInfo) => void;

/**
 * The float and data-movement kernels' checks behind a table, not one if-chain over every kernel: wasm3 0.9.0
 * with the embedded ports' stack height 128 validates at most 15 nested blocks per function, and binaryen
 * inlines the checks into the chain. scripts/check-dispatch.ts reads this switch against the registry.
 */
function checkOf(k: i32): StepCheck {
  switch (k) {
    case K_CONV2D:
      return (m: Model, s: StepInfo): void => checkConv(m, s, false);
    case K_DWCONV2D:
      return (m: Model, s: StepInfo): void => checkConv(m, s, true);
    case K_CONV2D_P8:
      return (m: Model, s: StepInfo): void => checkConv(m, s, false, true);
    case K_DENSE:
      return (m: Model, s: StepInfo): void => checkDense(m, s);
    case K_MAXPOOL:
    case K_AVGPOOL:
      return (m: Model, s: StepInfo): void => checkPool(m, s);
    case K_GAP:
      return (m: Model, s: StepInfo): void => checkGap(m, s);
    case K_BINARY:
      return (m: Model, s: StepInfo): void => checkBinary(m, s);
    case K_UNARY:
      return (m: Model, s: StepInfo): void => checkUnary(m, s);
    case K_SOFTMAX:
      return (m: Model, s: StepInfo): void => checkSoftmax(m, s);
    default:
      return (m: Model, s: StepInfo): void => bad('unknown kernel id ' + s.kernel.toString());
  }
}

/** The data-movement kernels' checks (a second switch keeps each under wasm3's nesting limit). */
function checkOfAny(k: i32): StepCheck {
  switch (k) {
    case K_TRANSPOSE:
      return (m: Model, s: StepInfo): void => checkTranspose(m, s);
    case K_CONCAT:
      return (m: Model, s: StepInfo): void => checkConcat(m, s);
    case K_COPY:
      return (m: Model, s: StepInfo): void => checkCopy(m, s);
    case K_PAD:
      return (m: Model, s: StepInfo): void => checkPad(m, s);
    default:
      return (m: Model, s: StepInfo): void => bad('unknown kernel id ' + s.kernel.toString());
  }
}

export const FLOAT_CHECKS = checkTable();

function checkTable(): StaticArray<StepCheck> {
  const t = new StaticArray<StepCheck>(K_CONV2D_P8 + 1);
  for (let k = 0; k <= K_CONV2D_P8; k++) t[k] = k < K_TRANSPOSE || k > K_PAD ? checkOf(k) : checkOfAny(k);
  return t;
}
