// Offline arena planner. Lifetimes come from the step order (graph inputs live from the start,
// outputs to the end); views (reshape) share their source's storage and extend its lifetime;
// elementwise steps run in place when a same-size input dies there. Greedy placement: largest
// first, lowest 16-byte-aligned offset clear of every lifetime-overlapping block. Units: bytes.

export const ALIGN = 16;
export const align = (n: number) => Math.ceil(n / ALIGN) * ALIGN;

export interface PlanTensor {
  /** Bytes; ignored for constants. */
  size: number;
  /** Constants live outside the arena and get no offset. */
  constant?: boolean;
  /** This tensor is a view of another: same bytes (offset), lifetime merged. */
  aliasOf?: number;
  /** Training state: lives for the whole run and across runs (never reused, never in place). */
  pinned?: boolean;
}

export interface PlanStep {
  inputs: number[];
  outputs: number[];
  /** The output may reuse the storage of a same-size input whose last use is this step. */
  inPlace?: boolean;
}

export interface PlanInput {
  tensors: PlanTensor[];
  steps: PlanStep[];
  inputs: number[];
  outputs: number[];
}

export interface MemoryPlan {
  /** Byte offset of each arena tensor in the arena; -1 for constants. */
  offsets: number[];
  arenaSize: number;
  /** Storage block of each tensor (tensors with the same block share bytes); -1 for constants. */
  block: number[];
  /** Lifetime [first step, last step] of each block; inputs start at -1, outputs end at steps.length. */
  lifetimes: Map<number, [number, number]>;
}

export function planMemory(p: PlanInput): MemoryPlan {
  const nT = p.tensors.length,
    nS = p.steps.length;
  const parent = Array.from({ length: nT }, (_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) {
      parent[i] = parent[parent[i]!]!;
      i = parent[i]!;
    }
    return i;
  };
  const union = (a: number, b: number) => {
    const ra = find(a),
      rb = find(b);
    if (ra !== rb) parent[rb] = ra;
  };
  const arena = (i: number) => i >= 0 && !p.tensors[i]!.constant;

  // per-tensor def and last use
  const start = new Array<number>(nT).fill(Infinity),
    end = new Array<number>(nT).fill(-Infinity);
  for (const i of p.inputs) {
    start[i] = -1;
    end[i] = Math.max(end[i]!, -1);
  }
  p.steps.forEach((s, k) => {
    for (const o of s.outputs) {
      start[o] = Math.min(start[o]!, k);
      end[o] = Math.max(end[o]!, k);
    }
    for (const i of s.inputs) if (i >= 0) end[i] = Math.max(end[i]!, k);
  });
  for (const o of p.outputs) end[o] = nS;
  p.tensors.forEach((t, i) => {
    if (t.pinned) {
      start[i] = -1;
      end[i] = nS;
    }
  });
  const isIn = new Set([...p.inputs, ...p.tensors.flatMap((t, i) => (t.pinned ? [i] : []))]);
  for (let i = 0; i < nT; i++) {
    const a = p.tensors[i]!.aliasOf;
    if (a !== undefined && arena(i)) union(a, i);
  }
  // group lifetimes and boundary flags, kept at the union-find roots
  const gStart = new Map<number, number>(),
    gEnd = new Map<number, number>(),
    gSize = new Map<number, number>();
  const gBoundary = new Map<number, boolean>();
  for (let i = 0; i < nT; i++) {
    if (!arena(i)) continue;
    const r = find(i);
    if (start[i] === Infinity) {
      start[i] = end[i] === -Infinity ? 0 : end[i]!;
    }
    if (end[i] === -Infinity) end[i] = start[i]!;
    gStart.set(r, Math.min(gStart.get(r) ?? Infinity, start[i]!));
    gEnd.set(r, Math.max(gEnd.get(r) ?? -Infinity, end[i]!));
    gSize.set(r, Math.max(gSize.get(r) ?? 0, p.tensors[i]!.size));
    gBoundary.set(r, (gBoundary.get(r) ?? false) || isIn.has(i));
  }
  const merge = (a: number, b: number) => {
    const ra = find(a),
      rb = find(b);
    if (ra === rb) return;
    parent[rb] = ra;
    gStart.set(ra, Math.min(gStart.get(ra)!, gStart.get(rb)!));
    gEnd.set(ra, Math.max(gEnd.get(ra)!, gEnd.get(rb)!));
    gSize.set(ra, Math.max(gSize.get(ra)!, gSize.get(rb)!));
    gBoundary.set(ra, gBoundary.get(ra)! || gBoundary.get(rb)!);
  };
  p.steps.forEach((s, k) => {
    if (!s.inPlace || s.outputs.length !== 1) return;
    const o = s.outputs[0]!;
    if (!arena(o) || find(o) !== o || gBoundary.get(o)) return;
    for (const i of s.inputs) {
      if (!arena(i)) continue;
      const r = find(i);
      // graph inputs are never overwritten: the host may run again on the same input bytes
      if (r === find(o) || gBoundary.get(r) || gEnd.get(r) !== k || gSize.get(r) !== p.tensors[o]!.size) continue;
      if (s.inputs.some((j) => j !== i && arena(j) && find(j) === r && p.tensors[j]!.size !== p.tensors[o]!.size))
        continue;
      merge(i, o);
      return;
    }
  });

  const roots = [...gStart.keys()].filter((r) => find(r) === r);
  const placed = overlapIndex(
    roots,
    (r) => gStart.get(r)!,
    (r) => gEnd.get(r)!,
  );
  const place = (order: number[]) => {
    const off = new Map<number, number>();
    let size = 0;
    placed.reset();
    for (const r of order) {
      // first fit below the placed blocks whose lifetimes overlap r's, by offset (ties: any order gives the same fit)
      const busy = placed
        .overlapping(r)
        .map((q) => [off.get(q)!, off.get(q)! + gSize.get(q)!] as const)
        .sort((x, y) => x[0] - y[0]);
      let at = 0;
      for (const [b0, b1] of busy) {
        if (at + gSize.get(r)! <= b0) break;
        at = Math.max(at, align(b1));
      }
      off.set(r, at);
      placed.add(r);
      size = Math.max(size, align(at + gSize.get(r)!));
    }
    return { off, size };
  };
  const size = (r: number) => gSize.get(r)!,
    first = (r: number) => gStart.get(r)!;
  const orders = [
    // greedy by size is the plan; ties in either step direction, and plain step order in both
    // directions, are tried too and the smallest arena kept (they reach the live-bytes bound on chains)
    [...roots].sort((a, b) => size(b) - size(a) || first(a) - first(b) || a - b),
    [...roots].sort((a, b) => size(b) - size(a) || first(b) - first(a) || b - a),
    [...roots].sort((a, b) => first(a) - first(b) || size(b) - size(a) || a - b),
    [...roots].sort((a, b) => first(b) - first(a) || size(b) - size(a) || b - a),
  ];
  let best = place(orders[0]!);
  for (const o of orders.slice(1)) {
    const alt = place(o);
    if (alt.size < best.size) best = alt;
  }

  const offsets = new Array<number>(nT).fill(-1),
    block = new Array<number>(nT).fill(-1);
  for (let i = 0; i < nT; i++)
    if (arena(i)) {
      block[i] = find(i);
      offsets[i] = best.off.get(find(i))!;
    }
  const lifetimes = new Map<number, [number, number]>();
  for (const r of roots) lifetimes.set(r, [gStart.get(r)!, gEnd.get(r)!]);
  return { offsets, arenaSize: best.size, block, lifetimes };
}

/**
 * The placed blocks whose lifetime [start, end] overlaps a given block's: blocks sorted by start, and a max
 * tree of the placed ones' ends over that order; a query walks only subtrees holding an overlapping block
 * (start ≤ its end, end ≥ its start), so it costs O((k + 1)·log n) for k answers instead of a scan of all
 * placed blocks (which made planning quadratic in graph size).
 */
function overlapIndex(blocks: number[], start: (b: number) => number, end: (b: number) => number) {
  const byStart = [...blocks].sort((a, b) => start(a) - start(b) || a - b);
  const pos = new Map(byStart.map((b, i) => [b, i]));
  let width = 1;
  while (width < byStart.length) width *= 2;
  const maxEnd = new Array<number>(2 * width).fill(-Infinity);
  const out: number[] = [];
  const collect = (node: number, lo: number, hi: number, lastStart: number, from: number): void => {
    if (lo >= lastStart || maxEnd[node]! < from) return;
    if (hi - lo === 1) {
      out.push(byStart[lo]!);
      return;
    }
    const mid = (lo + hi) >> 1;
    collect(2 * node, lo, mid, lastStart, from);
    collect(2 * node + 1, mid, hi, lastStart, from);
  };
  return {
    reset: () => {
      maxEnd.fill(-Infinity);
    },
    add: (b: number) => {
      let i = width + pos.get(b)!;
      maxEnd[i] = end(b);
      for (i >>= 1; i >= 1; i >>= 1) maxEnd[i] = Math.max(maxEnd[2 * i]!, maxEnd[2 * i + 1]!);
    },
    overlapping: (b: number): number[] => {
      // blocks starting at or before b's end: a prefix of byStart
      let lo = 0,
        hi = byStart.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (start(byStart[mid]!) <= end(b)) lo = mid + 1;
        else hi = mid;
      }
      out.length = 0;
      collect(1, 0, width, lo, start(b));
      return [...out];
    },
  };
}
