// Per-sample dispatch of a stacked batch inside the executor: runs n samples back to back through
// the loaded (batch-1) plan, so every sample takes its own branch / exit. Layout (bytes): inputs
// stacked per input tensor [input 0 × n][input 1 × n]…, outputs likewise; routes i32 [n][steps]; MACs f64 [n].
import { setError, resetError } from './error';
import { model, runInference } from './executor';
import * as control from './control';

export function runSamples(n: i32, inBase: usize, outBase: usize, routeBase: usize, macsBase: usize): i32 {
  const mm = model;
  if (mm === null) {
    resetError();
    setError('edgec_run_samples: no bundle loaded');
    return 1;
  }
  const m = mm;
  const nsteps = m.steps.length;
  for (let s = 0; s < n; s++) {
    let at = inBase;
    for (let i = 0; i < m.inputs.length; i++) {
      const t = m.tensors[m.inputs[i]];
      memory.copy(t.ptr, at + <usize>s * <usize>t.size, <usize>t.size);
      at += <usize>n * <usize>t.size;
    }
    const rc = runInference();
    if (rc != 0) return rc;
    let ot = outBase;
    for (let o = 0; o < m.outputs.length; o++) {
      const t = m.tensors[m.outputs[o]];
      memory.copy(ot + <usize>s * <usize>t.size, t.ptr, <usize>t.size);
      ot += <usize>n * <usize>t.size;
    }
    for (let k = 0; k < nsteps; k++)
      store<i32>(routeBase + ((<usize>s * <usize>nsteps + <usize>k) << 2), control.routes[k]);
    store<f64>(macsBase + ((<usize>s) << 3), <f64>control.executedMacs);
  }
  return 0;
}
