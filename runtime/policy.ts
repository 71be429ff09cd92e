// Dynamic precision: picks a model variant by battery level (navigator.getBattery() where it exists),
// a latency budget (measured median of recent runs), or a caller's callback, and switches the model
// with useVariant (no wasm reload). Variants are ordered most precise first (e.g. ['fp32', 'int8']).
import type { Model, TensorArray } from './index.ts';

export interface PolicyState {
  /** Battery charge 0..1 and charging flag, when the platform reports them. */
  battery?: { level: number; charging: boolean };
  /** Median milliseconds of the recent runs of each variant measured so far. */
  latencyMs: Record<string, number>;
  variants: readonly string[];
  current: string;
}

export interface PolicyOptions {
  /** Below this charge (0..1) and not charging, use the cheapest variant. Default 0.3. */
  lowBattery?: number;
  /** Use the most precise variant whose measured median latency fits this budget (ms). */
  latencyBudgetMs?: number;
  /** Full control: return the variant to use (overrides the rules above). */
  choose?: (state: PolicyState) => string | undefined;
  /** Runs remembered per variant for the latency median. Default 9. */
  window?: number;
}

interface BatteryManagerLike {
  level: number;
  charging: boolean;
}

/** navigator.getBattery() where it exists (Chromium), else undefined (Node, Firefox, Safari). */
export async function readBattery(): Promise<{ level: number; charging: boolean } | undefined> {
  const nav = (globalThis as { navigator?: { getBattery?: () => Promise<BatteryManagerLike> } }).navigator;
  if (typeof nav?.getBattery !== 'function') return undefined;
  try {
    const b = await nav.getBattery();
    return { level: b.level, charging: b.charging };
  } catch {
    return undefined;
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** The variant the rules pick for `state` (pure; exported for tests and custom loops). */
export function chooseVariant(state: PolicyState, opts: PolicyOptions = {}): string {
  const vs = state.variants;
  if (vs.length === 0) return state.current;
  const picked = opts.choose?.(state);
  if (picked !== undefined) return picked;
  const cheapest = vs[vs.length - 1]!;
  const low = opts.lowBattery ?? 0.3;
  if (state.battery && !state.battery.charging && state.battery.level < low) return cheapest;
  if (opts.latencyBudgetMs !== undefined) {
    // Most precise variant measured within budget; unmeasured ones are tried in order first.
    for (const v of vs) {
      const ms = state.latencyMs[v];
      if (ms === undefined || ms <= opts.latencyBudgetMs) return v;
    }
    return cheapest;
  }
  return vs[0]!;
}

/** Wraps a model: every run() re-evaluates the policy, switches variant if needed and times the run. */
export class VariantPolicy {
  private readonly times = new Map<string, number[]>();
  private battery: { level: number; charging: boolean } | undefined;

  constructor(
    readonly model: Model,
    readonly opts: PolicyOptions = {},
  ) {}

  /** Reads the battery once (call again to refresh; a BatteryManager also fires events). */
  async refreshBattery(): Promise<void> {
    this.battery = await readBattery();
  }

  /** For hosts that read the battery some other way (and for tests). */
  setBattery(b: { level: number; charging: boolean } | undefined): void {
    this.battery = b;
  }

  state(): PolicyState {
    const latencyMs: Record<string, number> = {};
    for (const [v, ts] of this.times) if (ts.length > 0) latencyMs[v] = median(ts);
    return { battery: this.battery, latencyMs, variants: this.model.variants, current: this.model.variant };
  }

  /** Applies the policy now; returns the variant in use. */
  apply(): string {
    const want = chooseVariant(this.state(), this.opts);
    if (want !== this.model.variant && this.model.variants.length > 0) this.model.useVariant(want);
    return this.model.variant;
  }

  run(inputs: Record<string, TensorArray>): Record<string, TensorArray> {
    const v = this.apply();
    const t0 = performance.now();
    const out = this.model.run(inputs);
    const ms = performance.now() - t0;
    const ts = this.times.get(v) ?? [];
    ts.push(ms);
    if (ts.length > (this.opts.window ?? 9)) ts.shift();
    this.times.set(v, ts);
    return out;
  }
}
