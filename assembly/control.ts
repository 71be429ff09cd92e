// Control steps of branch blocks and early exits (docs/bundle-format.md "Branches and early exit"):
// Dispatch (argmax of the gate, ties → lowest index), Jump, Exit (max softmax probability or entropy
// of the head vs a threshold), their load-time checks, and the per-run record (route, executed MACs).
import { Model, StepInfo, DT_F32, P_CONTROL, K_DISPATCH, K_EXIT, K_JUMP } from './bundle/model';

/** MACs of the steps the last run executed (each step's `macs`, summed as it runs). */
export let executedMacs: u64 = 0;
/** Per step of the last run: Dispatch → branch taken, Exit → 1 stopped / 0 went on, -1 not reached. */
export let routes: StaticArray<i32> = new StaticArray<i32>(0);

export function beginRun(m: Model): void {
  executedMacs = 0;
  if (routes.length != m.steps.length) routes = new StaticArray<i32>(m.steps.length);
  for (let i = 0; i < routes.length; i++) unchecked((routes[i] = -1));
}

// @ts-ignore: decorator
@inline export function countMacs(s: StepInfo): void {
  executedMacs += s.macs;
}

/** Index of the next step to run after control step `i` (m.steps.length stops the run). */
export function controlStep(m: Model, i: i32, s: StepInfo): i32 {
  const t = s.p.targets;
  if (s.kernel == K_JUMP) return t[0];
  const x = m.tensors[s.inputs[0]];
  if (s.kernel == K_DISPATCH) {
    const n = t.length - 1;
    let best = 0;
    let bv = load<f32>(x.ptr);
    for (let k = 1; k < n; k++) {
      const v = load<f32>(x.ptr + ((<usize>k) << 2));
      // strict >: ties keep the lowest index; a NaN score never wins over a number
      if (v > bv || (bv != bv && v == v)) {
        bv = v;
        best = k;
      }
    }
    routes[i] = best;
    return t[best];
  }
  // Exit: every row (softmax over the last axis) must be confident.
  const y = m.tensors[s.outputs[0]];
  const cols = x.shape[x.shape.length - 1];
  const rows = <i32>(x.elems / <u64>cols);
  let confident = true;
  for (let r = 0; r < rows && confident; r++) {
    const base = x.ptr + ((<usize>(r * cols)) << 2);
    let mx = <f64>load<f32>(base);
    for (let c = 1; c < cols; c++) mx = Math.max(mx, <f64>load<f32>(base + ((<usize>c) << 2)));
    let sum = 0.0;
    for (let c = 0; c < cols; c++) sum += Math.exp(<f64>load<f32>(base + ((<usize>c) << 2)) - mx);
    if (s.p.metric == 0) {
      // the largest probability is exp(0) / sum
      confident = 1.0 / sum > <f64>s.p.threshold;
    } else {
      let h = 0.0;
      for (let c = 0; c < cols; c++) {
        const p = Math.exp(<f64>load<f32>(base + ((<usize>c) << 2)) - mx) / sum;
        if (p > 0) h -= p * Math.log(p);
      }
      confident = h < <f64>s.p.threshold;
    }
  }
  routes[i] = confident ? 1 : 0;
  if (!confident) return i + 1;
  memory.copy(y.ptr, x.ptr, <usize>y.size);
  return m.steps.length;
}

/** Load-time contract of a control step; '' when it holds, else what is wrong. */
export function checkControl(m: Model, i: i32, s: StepInfo): string {
  if (s.paramsType != P_CONTROL) return 'expected ControlParams';
  const t = s.p.targets;
  const n = m.steps.length;
  for (let k = 0; k < t.length; k++) {
    // forward only: every run ends after at most one visit of each step
    if (t[k] <= i || t[k] > n)
      return (
        'target ' +
        k.toString() +
        ' = ' +
        t[k].toString() +
        ' must be a later step in (' +
        i.toString() +
        ', ' +
        n.toString() +
        ']'
      );
    if (k > 0 && t[k] <= t[k - 1])
      return 'targets must increase, found ' + t[k - 1].toString() + ' then ' + t[k].toString();
  }
  if (s.kernel == K_JUMP) {
    if (t.length != 1) return 'expected 1 target, found ' + t.length.toString();
    if (s.inputs.length != 0 || s.outputs.length != 0) return 'expected no tensors';
    return '';
  }
  if (s.inputs.length != 1 || s.inputs[0] < 0 || s.inputs[0] >= m.tensors.length) return 'expected 1 input tensor';
  const x = m.tensors[s.inputs[0]];
  if (x.dtype != DT_F32) return 'input must be F32';
  if (s.kernel == K_DISPATCH) {
    if (s.outputs.length != 0) return 'expected no outputs';
    if (t.length < 2) return 'expected at least 2 targets (one branch and the merge step)';
    if (t[0] != i + 1)
      return 'branch 0 must start at the next step ' + (i + 1).toString() + ', found ' + t[0].toString();
    if (x.elems != <u64>(t.length - 1)) {
      return 'gate width ' + x.elems.toString() + ' differs from the number of branches ' + (t.length - 1).toString();
    }
    return '';
  }
  // K_EXIT
  if (t.length != 0) return 'expected no targets';
  if (s.outputs.length != 1 || s.outputs[0] < 0 || s.outputs[0] >= m.tensors.length) return 'expected 1 output tensor';
  const y = m.tensors[s.outputs[0]];
  if (y.dtype != DT_F32 || y.constant) return 'output must be an F32 arena tensor';
  if (y.size != x.size)
    return (
      'head output (' + x.size.toString() + ' bytes) and graph output (' + y.size.toString() + ' bytes) differ in size'
    );
  if (x.shape.length == 0 || x.shape[x.shape.length - 1] < 1) return 'head output needs a last axis';
  if (s.p.metric > 1) return 'metric ' + s.p.metric.toString() + ' unknown (0 max_prob, 1 entropy)';
  if (!isFinite(s.p.threshold)) return 'threshold must be finite';
  return '';
}
