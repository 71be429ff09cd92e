// The geometry of the running f32 conv (Conv2D_F32 and Conv2D_F32_P8), set once per call and read by their tile
// functions, which copy what they need into locals. Wasm globals, not memory: in the threads build every instance
// has its own, so threads running slices of one conv never see each other's.
import { StepParams } from '../../bundle/model';
import { simdAct } from '../activation';

export let gH: i32 = 0,
  gW: i32 = 0,
  gCi: i32 = 0,
  gCo: i32 = 0,
  gCig: i32 = 0,
  gCog: i32 = 0;
export let gKH: i32 = 0,
  gKW: i32 = 0,
  gSH: i32 = 1,
  gSW: i32 = 1,
  gDH: i32 = 1,
  gDW: i32 = 1,
  gPT: i32 = 0,
  gPL: i32 = 0;
export let gOH: i32 = 0,
  gOW: i32 = 0;
export let gAct: i32 = 0,
  gLo: f32 = 0,
  gHi: f32 = 0;
// Kernel rows [gK0, gK1) of the current reduction chunk: big weight slices are split by kernel row so the rows in use
// stay in L1; partial sums wait in y (f32 stores are exact, so the per-output order bias, kh, kw, ci is unchanged).
// gFirst: start from the bias; gLast: activate.
export let gK0: i32 = 0,
  gK1: i32 = 0,
  gFirst: bool = true,
  gLast: bool = true;

/** Sets the geometry of a conv x [., H, W, Ci] → y [., OH, OW, Co] in G groups with p's kernel, strides, padding and
 *  activation. */
export function setConvGeometry(H: i32, W: i32, Ci: i32, OH: i32, OW: i32, Co: i32, G: i32, p: StepParams): void {
  gH = H;
  gW = W;
  gCi = Ci;
  gCo = Co;
  gCig = Ci / G;
  gCog = Co / G;
  gOH = OH;
  gOW = OW;
  gKH = p.kh;
  gKW = p.kw;
  gSH = p.sh;
  gSW = p.sw;
  gDH = p.dh;
  gDW = p.dw;
  gPT = p.pt;
  gPL = p.pl;
  gAct = simdAct(p.act, p.actMin, p.actMax);
  gLo = p.actMin;
  gHi = p.actMax;
}

/** The reduction chunk of kernel rows [k0, k1) of KH. */
export function setKernelRows(k0: i32, k1: i32, KH: i32): void {
  gK0 = k0;
  gK1 = k1;
  gFirst = k0 == 0;
  gLast = k1 == KH;
}
