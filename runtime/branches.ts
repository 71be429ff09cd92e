// Branch blocks and early exits on the host side: reads the control steps (Dispatch / Exit) of a
// validated bundle (dependency-free, slots as in schema/bundle.fbs) and turns the executor's per-step
// route record into a per-sample route. The executor decides and counts; this only names the result.

import { flatView } from './flat-view.ts';

export const K_DISPATCH = 14;
export const K_EXIT = 15;

export interface ControlStep {
  step: number;
  kind: 'branch' | 'exit';
  /** The Branch / EarlyExit node name. */
  name: string;
  /** Dispatch: first step of each branch, then the merge step. */
  targets: number[];
  /** Dispatch: arena bytes saved by branch sharing. Exit: 0. */
  arenaSaved: number;
}

export interface StepCosts {
  kernel: number[];
  macs: number[];
  node: string[];
}

/** The route one sample took: per Branch block the branch index, per exit whether it stopped (null: not reached). */
export interface SampleRoute {
  branches: Record<string, number | null>;
  exits: Record<string, boolean | null>;
  /** Multiply-accumulates the executor ran for this sample (counted in the wasm). */
  macs: number;
  /** Name of the exit the sample left through, or null when it ran to the end. */
  exitedAt: string | null;
}

/** Steps of variant `variant` (0 = the Bundle's own steps; k > 0 = Bundle.variants[k], same slots). */
export function readSteps(bytes: Uint8Array, variant = 0): StepCosts & { control: ControlStep[] } {
  const { u16, u32, u64, field, ref, ints, text, root: rootOf } = flatView(bytes);
  const root = rootOf(variant);
  const sv = ref(root, 2);
  const n = sv === 0 ? 0 : u32(sv);
  const out: StepCosts & { control: ControlStep[] } = { kernel: [], macs: [], node: [], control: [] };
  for (let i = 0; i < n; i++) {
    const e = sv + 4 + 4 * i;
    const s = e + u32(e);
    const kp = field(s, 0),
      mp = field(s, 5);
    const kernel = kp === 0 ? 0 : u16(kp);
    out.kernel.push(kernel);
    out.macs.push(mp === 0 ? 0 : Number(u64(mp)));
    const node = text(ref(s, 6));
    out.node.push(node);
    if (kernel === K_DISPATCH || kernel === K_EXIT) {
      const p = ref(s, 4);
      const sp = p === 0 ? 0 : field(p, 3);
      out.control.push({
        step: i,
        kind: kernel === K_DISPATCH ? 'branch' : 'exit',
        name: node,
        targets: p === 0 ? [] : ints(ref(p, 0)),
        arenaSaved: sp === 0 ? 0 : u32(sp),
      });
    }
  }
  return out;
}

/** Names the executor's per-step record (`route(step)`) for the control steps of a bundle. */
export function sampleRoute(control: ControlStep[], route: (step: number) => number, macs: number): SampleRoute {
  const r: SampleRoute = { branches: {}, exits: {}, macs, exitedAt: null };
  for (const c of control) {
    const v = route(c.step);
    if (c.kind === 'branch') r.branches[c.name] = v < 0 ? null : v;
    else {
      r.exits[c.name] = v < 0 ? null : v === 1;
      if (v === 1) r.exitedAt = c.name;
    }
  }
  return r;
}
