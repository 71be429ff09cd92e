// Model variants in one bundle (`edgec compile --variants fp32,int8`): the first variant's tables are
// the Bundle's own (old readers see a normal bundle), every variant is named in Bundle.variants, and
// the constants blob is shared: equal constant bytes are stored once (16-byte aligned offsets).
import { createHash } from 'node:crypto';
import * as flatbuffers from 'flatbuffers';
import {
  readBundle,
  fb,
  specTables,
  TableWriter,
  writeConstants,
  sealBundle,
  BUNDLE_IDENTIFIER,
  BUNDLE_VERSION,
} from '../emit/bundle-writer.ts';
import { ModelError } from '../ir/graph.ts';

export interface VariantPart {
  name: string;
  bundle: Uint8Array;
}

export interface MergeStats {
  /** Constant bytes of all parts before and after deduplication. */
  constantsBefore: number;
  constantsAfter: number;
}

const align16 = (n: number) => (n + 15) & ~15;

export function mergeVariants(parts: VariantPart[]): { bundle: Uint8Array; stats: MergeStats } {
  if (parts.length === 0) throw new ModelError('--variants', 'list', 'expected at least one variant');
  const names = new Set<string>();
  for (const p of parts) {
    if (!/^[A-Za-z0-9_.-]+$/.test(p.name))
      throw new ModelError('--variants', p.name, 'variant names are letters, digits, _ . -');
    if (names.has(p.name)) throw new ModelError('--variants', p.name, 'variant named twice');
    names.add(p.name);
  }
  const unpacked = parts.map((p) => {
    const b = readBundle(p.bundle);
    if (b.variantsLength() > 0) throw new ModelError('--variants', p.name, 'already a multi-variant bundle');
    return { root: b.unpack(), constants: b.constantsArray() ?? new Uint8Array(0) };
  });

  // Shared constants: one copy of each distinct constant tensor's bytes.
  const chunks: Uint8Array[] = [];
  const at = new Map<string, number>();
  let size = 0,
    before = 0;
  for (const u of unpacked) {
    for (const t of u.root.tensors) {
      if (!t.constant) continue;
      const bytes = u.constants.subarray(t.offset, t.offset + t.size);
      before += align16(t.size);
      const key = createHash('sha256').update(bytes).digest('hex') + ':' + t.size;
      let off = at.get(key);
      if (off === undefined) {
        off = size;
        at.set(key, off);
        chunks.push(bytes);
        size = align16(size + t.size);
      }
      t.offset = off;
    }
  }
  const constants = new Uint8Array(size);
  let i = 0;
  for (const off of at.values()) constants.set(chunks[i++]!, off);

  const b = new flatbuffers.Builder(1024 + size);
  const constantsVec = writeConstants(b, constants);
  const first = unpacked[0]!.root;
  if (first.metadata) {
    const opts = (() => {
      try {
        return JSON.parse(String(first.metadata.compileOptions ?? '{}')) as Record<string, unknown>;
      } catch {
        return {};
      }
    })();
    first.metadata.compileOptions = JSON.stringify({ ...opts, variants: parts.map((p) => p.name) });
  }
  // One table writer for all variants: strings, shapes and params equal across variants are stored once.
  const w = new TableWriter(b);
  const m = first.metadata;
  const meta = m
    ? w.metadata({
        edgecVersion: String(m.edgecVersion ?? ''),
        sourceHash: String(m.sourceHash ?? ''),
        compileOptions: String(m.compileOptions ?? ''),
        target: String(m.target ?? ''),
        modelName: String(m.modelName ?? ''),
      })
    : 0;
  const variantOffsets = unpacked.map((u, k) => {
    const name = w.str(parts[k]!.name);
    const t = k === 0 ? undefined : w.tables(specTables(u.root));
    fb.Variant.startVariant(b);
    if (t) {
      fb.Variant.addTensors(b, t.tensors);
      fb.Variant.addSteps(b, t.steps);
      fb.Variant.addInputs(b, t.inputs);
      fb.Variant.addOutputs(b, t.outputs);
      fb.Variant.addArenaSize(b, u.root.arenaSize);
    }
    fb.Variant.addName(b, name);
    return fb.Variant.endVariant(b);
  });
  const { tensors, steps, inputs, outputs } = w.tables(specTables(first));
  const variants = fb.Bundle.createVariantsVector(b, variantOffsets);
  fb.Bundle.startBundle(b);
  fb.Bundle.addVersion(b, BUNDLE_VERSION);
  fb.Bundle.addTensors(b, tensors);
  fb.Bundle.addSteps(b, steps);
  fb.Bundle.addInputs(b, inputs);
  fb.Bundle.addOutputs(b, outputs);
  fb.Bundle.addArenaSize(b, first.arenaSize);
  fb.Bundle.addConstants(b, constantsVec);
  if (meta) fb.Bundle.addMetadata(b, meta);
  fb.Bundle.addVariants(b, variants);
  b.finish(fb.Bundle.endBundle(b), BUNDLE_IDENTIFIER);
  return { bundle: sealBundle(b.asUint8Array()), stats: { constantsBefore: before, constantsAfter: size } };
}
