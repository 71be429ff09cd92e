// TF.js layers-models (Keras JSON in `modelTopology`: Sequential, or functional Model/Functional with Keras 2
// inbound_nodes; a model used as a layer is imported in place) → IR. Data stays channels-last; a `null` batch dim becomes 1, other null dims need `shapes`.
// Weights are looked up as `<layer>/<param>` in the manifest (or the one name ending in `/<layer>/<param>`).
import { numElements } from '../../ir/graph.ts';
import {
  ACTIVATIONS,
  Builder,
  depthwiseToOhwi,
  hwioToOhwi,
  inputShape,
  transpose2d,
  unsupportedMessage,
} from './builder.ts';
import type { TfjsWeight } from './weights.ts';
import type { TfjsImportOptions } from './index.ts';

interface Layer {
  name: string;
  className: string;
  config: Record<string, unknown>;
  /** Keras 2 calls: per call, the inbound [layer, nodeIndex, tensorIndex] triples. */
  calls: [string, number, number][][];
}

type Handler = (c: LayerContext, x: string[]) => string;

interface LayerContext {
  b: Builder;
  layer: Layer;
  out: string;
  cfg: <T>(key: string, def?: T) => T;
  weight: (param: string) => TfjsWeight;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const pair = (v: unknown): number[] => (typeof v === 'number' ? [v, v] : (v as number[]));

function channelsLast(c: LayerContext): void {
  const f = c.cfg<string>('data_format', 'channels_last');
  if (f !== 'channels_last' && f !== null) c.b.fail('data_format', `expected channels_last, found '${f}'`);
}

function activationOf(c: LayerContext): string {
  const a = c.cfg<unknown>('activation', 'linear');
  if (typeof a !== 'string') c.b.fail('activation', `expected a name, found ${JSON.stringify(a)}`);
  return a === null ? 'linear' : a;
}

function padding(c: LayerContext): 'same' | 'valid' {
  const p = c.cfg<string>('padding', 'valid');
  if (p !== 'same' && p !== 'valid') c.b.fail('padding', `expected 'valid' or 'same', found '${p}'`);
  return p;
}

function rank4(c: LayerContext, x: string): number[] {
  const s = c.b.shape(x);
  if (s.length !== 4) c.b.fail('input', `expected 4-D channels-last data [N,H,W,C], found shape [${s}]`);
  return s;
}

function bias(c: LayerContext, units: number): string | undefined {
  if (!c.cfg<boolean>('use_bias', true)) return undefined;
  const w = c.weight('bias');
  if (numElements(w.shape) !== units) c.b.fail('bias', `expected ${units} values, found shape [${w.shape}]`);
  return c.b.constant(`${c.layer.name}/bias`, [units], w.data);
}

function kernel(c: LayerContext, param: string, rank: number, check: (s: number[]) => string | undefined): TfjsWeight {
  const w = c.weight(param);
  const bad = w.shape.length !== rank ? `a rank-${rank} kernel` : check(w.shape);
  if (bad) c.b.fail(param, `expected ${bad}, found shape [${w.shape}]`);
  return w;
}

function conv(c: LayerContext, [x]: string[]): string {
  channelsLast(c);
  const ci = rank4(c, x!)[3]!;
  const w = kernel(c, 'kernel', 4, (s) => (s[2] !== ci ? `[KH,KW,${ci},Co] for ${ci} input channels` : undefined));
  const co = w.shape[3]!;
  const inputs = [
    x!,
    c.b.constant(`${c.layer.name}/kernel`, [co, w.shape[0]!, w.shape[1]!, ci], hwioToOhwi(w.data, w.shape)),
  ];
  const b = bias(c, co);
  if (b) inputs.push(b);
  const attrs = { strides: pair(c.cfg('strides', 1)), dilations: pair(c.cfg('dilation_rate', 1)), padding: padding(c) };
  return c.b.withActivation('Conv2D', inputs, attrs, activationOf(c), c.out);
}

/** The depthwise half of DepthwiseConv2D / SeparableConv2D: grouped Conv2D, weights [Ci·M,KH,KW,1]. */
function depthwise(c: LayerContext, x: string, withBias: boolean, act: string, out: string): string {
  channelsLast(c);
  const ci = rank4(c, x)[3]!;
  const w = kernel(c, 'depthwise_kernel', 4, (s) => (s[2] !== ci ? `[KH,KW,${ci},M] for ${ci} channels` : undefined));
  const co = ci * w.shape[3]!;
  const inputs = [
    x,
    c.b.constant(
      `${c.layer.name}/depthwise_kernel`,
      [co, w.shape[0]!, w.shape[1]!, 1],
      depthwiseToOhwi(w.data, w.shape),
    ),
  ];
  const b = withBias ? bias(c, co) : undefined;
  if (b) inputs.push(b);
  const attrs = {
    strides: pair(c.cfg('strides', 1)),
    dilations: pair(c.cfg('dilation_rate', 1)),
    padding: padding(c),
    groups: ci,
  };
  return c.b.withActivation('Conv2D', inputs, attrs, act, out);
}

function separable(c: LayerContext, [x]: string[]): string {
  const dw = depthwise(c, x!, false, 'linear', `${c.out}/depthwise`);
  const m = c.b.shape(dw)[3]!;
  const w = kernel(c, 'pointwise_kernel', 4, (s) =>
    s[0] !== 1 || s[1] !== 1 || s[2] !== m ? `[1,1,${m},Co]` : undefined,
  );
  const co = w.shape[3]!;
  const inputs = [dw, c.b.constant(`${c.layer.name}/pointwise_kernel`, [co, 1, 1, m], hwioToOhwi(w.data, w.shape))];
  const b = bias(c, co);
  if (b) inputs.push(b);
  return c.b.withActivation('Conv2D', inputs, {}, activationOf(c), c.out);
}

function dense(c: LayerContext, [x]: string[]): string {
  const s = c.b.shape(x!);
  const k = s[s.length - 1]!;
  const w = kernel(c, 'kernel', 2, (ws) => (ws[0] !== k ? `[${k},units] for ${k} input features` : undefined));
  const units = w.shape[1]!;
  const inputs = [
    // Keras applies Dense to the last axis of any rank: the IR's Dense takes [N,K]
    s.length === 2 ? x! : c.b.add('Reshape', [x!], { shape: [-1, k] }, `${c.out}/rows`),
    c.b.constant(`${c.layer.name}/kernel`, [units, k], transpose2d(w.data, k, units)),
  ];
  const b = bias(c, units);
  if (b) inputs.push(b);
  if (s.length === 2) return c.b.withActivation('Dense', inputs, {}, activationOf(c), c.out);
  const y = c.b.withActivation('Dense', inputs, {}, activationOf(c), `${c.out}/dense`);
  return c.b.add('Reshape', [y], { shape: [...s.slice(0, -1), units] }, c.out);
}

function batchNorm(c: LayerContext, [x]: string[]): string {
  const s = c.b.shape(x!);
  const ax = c.cfg<number | number[]>('axis', -1);
  const axis = Array.isArray(ax) && ax.length === 1 ? ax[0]! : ax;
  if (axis !== -1 && axis !== s.length - 1)
    c.b.fail('axis', `expected the channels axis -1 (${s.length - 1}), found ${JSON.stringify(ax)}`);
  const ch = s[s.length - 1]!;
  const param = (p: string, on: boolean, def: number): string => {
    if (!on) return c.b.constant(`${c.layer.name}/${p}`, [ch], new Float32Array(ch).fill(def));
    const w = c.weight(p);
    if (numElements(w.shape) !== ch) c.b.fail(p, `expected ${ch} values, found shape [${w.shape}]`);
    return c.b.constant(`${c.layer.name}/${p}`, [ch], w.data);
  };
  const inputs = [
    x!,
    param('gamma', c.cfg('scale', true), 1),
    param('beta', c.cfg('center', true), 0),
    param('moving_mean', true, 0),
    param('moving_variance', true, 1),
  ];
  return c.b.add('BatchNorm', inputs, { epsilon: c.cfg('epsilon', 1e-3) }, c.out);
}

function pool(op: 'MaxPool' | 'AvgPool'): Handler {
  return (c, [x]) => {
    channelsLast(c);
    rank4(c, x!);
    const kernel = pair(c.cfg('pool_size', 2));
    const strides = c.cfg<unknown>('strides', null);
    const attrs = { kernel, strides: strides === null ? kernel : pair(strides), padding: padding(c) };
    return c.b.add(op, [x!], op === 'AvgPool' ? { ...attrs, countIncludePad: false } : attrs, c.out);
  };
}

function globalPool(op: 'avg' | 'max'): Handler {
  return (c, [x]) => {
    channelsLast(c);
    const [n, h, w, ch] = rank4(c, x!);
    const keep = c.cfg<boolean>('keepdims', false);
    const out = keep ? c.out : `${c.out}/pool`;
    const y =
      op === 'avg'
        ? c.b.add('GlobalAvgPool', [x!], {}, out)
        : c.b.add('MaxPool', [x!], { kernel: [h!, w!], strides: [h!, w!], padding: 'valid' }, out);
    return keep ? y : c.b.add('Reshape', [y], { shape: [n!, ch!] }, c.out);
  };
}

function zeroPadding(c: LayerContext, [x]: string[]): string {
  channelsLast(c);
  rank4(c, x!);
  const p = c.cfg<unknown>('padding', 1);
  const [[t, bt], [l, r]] =
    typeof p === 'number'
      ? [
          [p, p],
          [p, p],
        ]
      : (p as unknown[]).map((v) => (typeof v === 'number' ? [v, v] : (v as number[])));
  return c.b.add('Pad', [x!], { pads: [0, t!, l!, 0, 0, bt!, r!, 0], value: 0 }, c.out);
}

function reluLayer(c: LayerContext, [x]: string[]): string {
  const max = c.cfg<number | null>('max_value', null);
  const slope = c.cfg<number>('negative_slope', 0);
  const threshold = c.cfg<number>('threshold', 0);
  if (threshold !== 0) c.b.fail('threshold', `expected 0, found ${threshold}`);
  if (slope !== 0) {
    if (max !== null) c.b.fail('max_value', `expected none with negative_slope ${slope}, found ${max}`);
    return c.b.add('LeakyRelu', [x!], { alpha: slope }, c.out);
  }
  if (max === null) return c.b.add('Relu', [x!], {}, c.out);
  if (max === 6) return c.b.add('Relu6', [x!], {}, c.out);
  return c.b.add('Clip', [x!], { min: 0, max }, c.out);
}

function merge(op: 'Add' | 'Mul' | 'Sub' | 'Max' | 'Min'): Handler {
  return (c, xs) => {
    if (xs.length < 2 || (op === 'Sub' && xs.length !== 2))
      c.b.fail('inputs', `expected ${op === 'Sub' ? 'two' : 'two or more'} inputs, found ${xs.length}`);
    let y = xs[0]!;
    for (let i = 1; i < xs.length; i++) y = c.b.add(op, [y, xs[i]!], {}, i === xs.length - 1 ? c.out : `${c.out}/${i}`);
    return y;
  };
}

const LAYERS: Record<string, Handler> = {
  Conv2D: conv,
  DepthwiseConv2D: (c, [x]) => depthwise(c, x!, true, activationOf(c), c.out),
  SeparableConv2D: separable,
  Dense: dense,
  BatchNormalization: batchNorm,
  Activation: (c, [x]) => c.b.activation(activationOf(c), x!, c.out),
  ReLU: reluLayer,
  LeakyReLU: (c, [x]) => c.b.add('LeakyRelu', [x!], { alpha: c.cfg('alpha', 0.3) }, c.out),
  Softmax: (c, [x]) => c.b.add('Softmax', [x!], { axis: c.cfg('axis', -1) }, c.out),
  Add: merge('Add'),
  Multiply: merge('Mul'),
  Subtract: merge('Sub'),
  Maximum: merge('Max'),
  Minimum: merge('Min'),
  Concatenate: (c, xs) => c.b.add('Concat', xs, { axis: c.cfg('axis', -1) }, c.out),
  MaxPooling2D: pool('MaxPool'),
  AveragePooling2D: pool('AvgPool'),
  GlobalAveragePooling2D: globalPool('avg'),
  GlobalMaxPooling2D: globalPool('max'),
  Flatten: (c, [x]) => (channelsLast(c), c.b.add('Flatten', [x!], { axis: 1 }, c.out)),
  Reshape: (c, [x]) =>
    c.b.add('Reshape', [x!], { shape: [c.b.shape(x!)[0]!, ...c.cfg<number[]>('target_shape')] }, c.out),
  ZeroPadding2D: zeroPadding,
  PReLU: (c, [x]) => {
    const w = c.weight('alpha');
    return c.b.add('PRelu', [x!, c.b.constant(`${c.layer.name}/alpha`, w.shape, w.data)], {}, c.out);
  },
  // inference-time identities
  Dropout: (_, [x]) => x!,
  SpatialDropout2D: (_, [x]) => x!,
  GaussianNoise: (_, [x]) => x!,
  GaussianDropout: (_, [x]) => x!,
};

/** Layer classes edgec maps (besides InputLayer); docs/tfjs-support.md lists the same. */
export const SUPPORTED_LAYERS = Object.keys(LAYERS);

/** The layer list of a Keras JSON model (`modelTopology`, or its `model_config`); Sequential becomes a chain. */
function readLayers(
  b: Builder,
  topology: Record<string, unknown>,
): { name: string; layers: Layer[]; inputs: string[]; outputs: string[] } {
  const top = isObject(topology.model_config) ? topology.model_config : topology;
  const kind = top.class_name;
  const config = top.config;
  b.where = 'modelTopology';
  const list = kind === 'Sequential' && Array.isArray(config) ? config : isObject(config) ? config.layers : undefined;
  if (!Array.isArray(list) || list.length === 0)
    b.fail('config.layers', `expected a non-empty list of layers, found ${JSON.stringify(list)?.slice(0, 60)}`);
  const name = (isObject(config) && typeof config.name === 'string' && config.name) || b.g.name;
  const layers = list.map((l, i): Layer => {
    if (!isObject(l) || typeof l.class_name !== 'string' || !isObject(l.config))
      b.fail(`config.layers[${i}]`, 'expected {class_name, config}');
    const lname = typeof l.config.name === 'string' ? l.config.name : typeof l.name === 'string' ? l.name : `layer${i}`;
    return { name: lname, className: l.class_name, config: l.config, calls: [] };
  });
  if (kind === 'Sequential') {
    const inputs: string[] = [];
    if (layers[0]!.className !== 'InputLayer') {
      // Keras names the implicit input `<first layer>_input`; its shape is the first layer's batch_input_shape
      // (a nested model as first layer: its own input's)
      const first = layers[0]!;
      const nested = NESTED.has(first.className)
        ? readLayers(b, { class_name: first.className, config: first.config }).layers[0]!.config
        : first.config;
      const shape = first.config.batch_input_shape ?? nested.batch_input_shape ?? nested.batchInputShape;
      layers.unshift({
        name: `${layers[0]!.name}_input`,
        className: 'InputLayer',
        config: { batch_input_shape: shape },
        calls: [],
      });
    }
    inputs.push(layers[0]!.name);
    for (let i = 1; i < layers.length; i++) layers[i]!.calls = [[[layers[i - 1]!.name, 0, 0]]];
    return { name, layers, inputs, outputs: [layers[layers.length - 1]!.name] };
  }
  if (kind !== 'Model' && kind !== 'Functional')
    b.fail('class_name', `expected Sequential, Model or Functional, found ${JSON.stringify(kind)}`);
  const ref = (v: unknown, field: string): string => {
    if (!Array.isArray(v) || typeof v[0] !== 'string' || v[1] !== 0 || v[2] !== 0)
      b.fail(field, `expected [layer name, 0, 0], found ${JSON.stringify(v)}`);
    return v[0];
  };
  const cfg = config as Record<string, unknown>;
  const ends = (key: string) =>
    Array.isArray(cfg[key])
      ? (cfg[key] as unknown[]).map((v, i) => ref(v, `config.${key}[${i}]`))
      : b.fail(`config.${key}`, 'expected a list');
  list.forEach((l, i) => {
    const nodes = (l as Record<string, unknown>).inbound_nodes ?? [];
    if (!Array.isArray(nodes)) b.fail(`config.layers[${i}].inbound_nodes`, 'expected a list');
    layers[i]!.calls = nodes.map((call, k) => {
      if (
        !Array.isArray(call) ||
        !call.every(
          (t) => Array.isArray(t) && typeof t[0] === 'string' && Number.isInteger(t[1]) && Number.isInteger(t[2]),
        )
      )
        b.fail(
          `config.layers[${i}].inbound_nodes[${k}]`,
          `expected Keras 2 calls [[layer, node, tensor, kwargs], …], found ${JSON.stringify(call)?.slice(0, 80)}`,
        );
      return (call as [string, number, number][]).map((t) => [t[0], t[1], t[2]]);
    });
  });
  return { name, layers, inputs: ends('input_layers'), outputs: ends('output_layers') };
}

/** Model classes that may also stand as a layer of another model (Teachable Machine's nested Sequentials). */
const NESTED = new Set(['Sequential', 'Model', 'Functional']);

type Spec = ReturnType<typeof readLayers>;

/** Every unsupported layer class and activation, nested models included (for the one error). */
function unsupported(b: Builder, spec: Spec, bad: Map<string, string[]>): void {
  for (const l of spec.layers) {
    if (NESTED.has(l.className)) unsupported(b, readLayers(b, { class_name: l.className, config: l.config }), bad);
    else if (l.className !== 'InputLayer' && !LAYERS[l.className])
      bad.set(l.className, [...(bad.get(l.className) ?? []), l.name]);
    const act = l.config.activation;
    if (typeof act === 'string' && !ACTIVATIONS.includes(act)) {
      const key = `activation '${act}'`;
      bad.set(key, [...(bad.get(key) ?? []), l.name]);
    }
  }
}

/** Converts a layers-model (model.json `modelTopology` + decoded weights) into `b`'s graph. */
export function importLayersModel(
  b: Builder,
  topology: Record<string, unknown>,
  weights: Map<string, TfjsWeight>,
  opts: TfjsImportOptions,
): void {
  const spec = readLayers(b, topology);
  b.g.name = spec.name;
  const bad = new Map<string, string[]>();
  unsupported(b, spec, bad);
  if (bad.size > 0) {
    b.where = 'modelTopology';
    b.fail('layers', unsupportedMessage(bad, 'layers and activations'));
  }
  for (const [t, o] of runLayers(b, spec, weights, opts).map((t, i) => [t, spec.outputs[i]!])) {
    if (b.g.inputs.includes(t!)) b.fail('output_layers', `expected a computed layer, found the input '${o}'`);
    b.g.outputs.push(identityIfAlias(b, t!, o!));
  }
}

/**
 * Runs the layers of one model; its InputLayers read `feed` (a nested model's call inputs, in input_layers
 * order) or, at the top, become the graph inputs. Returns the output layers' tensors.
 */
function runLayers(
  b: Builder,
  spec: Spec,
  weights: Map<string, TfjsWeight>,
  opts: TfjsImportOptions,
  feed?: string[],
): string[] {
  const { layers, inputs, outputs } = spec;
  const byName = new Map(layers.map((l) => [l.name, l]));
  const values = new Map<string, string>(); // `${layer}:${call}` → IR tensor
  const pending = new Set(layers);
  if (feed && feed.length !== inputs.length)
    b.fail('inputs', `expected ${inputs.length} input(s) for the nested model '${spec.name}', found ${feed.length}`);
  for (const l of layers) {
    if (l.className !== 'InputLayer') continue;
    pending.delete(l);
    if (feed) {
      const k = inputs.indexOf(l.name);
      if (k >= 0) values.set(`${l.name}:0`, feed[k]!);
      continue;
    }
    b.where = `layer '${l.name}' (InputLayer)`;
    const dims = l.config.batch_input_shape ?? l.config.batchInputShape;
    const dtype = l.config.dtype ?? 'float32';
    if (dtype !== 'float32')
      b.fail('dtype', `expected float32 (edgec models take float32 inputs), found ${JSON.stringify(dtype)}`);
    if (!Array.isArray(dims) || dims.length < 2)
      b.fail('batch_input_shape', `expected [batch, …dims], found ${JSON.stringify(dims)}`);
    values.set(`${l.name}:0`, b.input(l.name, inputShape(b, l.name, dims as (number | null)[], opts)));
  }
  b.where = 'modelTopology';
  for (const n of inputs) if (!values.has(`${n}:0`)) b.fail('input_layers', `expected InputLayer names, found '${n}'`);
  // Keras lists layers in order, but a functional config need not: run each call once its inputs exist
  while (pending.size > 0) {
    let progress = false;
    for (const l of pending) {
      const k = l.calls.findIndex((_, i) => !values.has(`${l.name}:${i}`));
      const call = l.calls[k];
      if (!call || !call.every(([src, node, t]) => t === 0 && values.has(`${src}:${node}`))) continue;
      const xs = call.map(([src, node]) => values.get(`${src}:${node}`)!);
      if (NESTED.has(l.className)) {
        const outs = runLayers(b, readLayers(b, { class_name: l.className, config: l.config }), weights, opts, xs);
        b.where = `layer '${l.name}' (${l.className})`;
        if (outs.length !== 1) b.fail('outputs', `expected a nested model with one output, found ${outs.length}`);
        values.set(`${l.name}:${k}`, outs[0]!);
      } else {
        b.where = `layer '${l.name}' (${l.className})`;
        values.set(`${l.name}:${k}`, LAYERS[l.className]!(context(b, l, k, weights), xs));
      }
      if (k === l.calls.length - 1) pending.delete(l);
      progress = true;
    }
    if (!progress) {
      const l = [...pending][0]!;
      const missing = l.calls.flat().find(([src, node]) => !values.has(`${src}:${node}`));
      b.where = `layer '${l.name}' (${l.className})`;
      b.fail(
        'inbound_nodes',
        missing
          ? `expected layers that compute its inputs, found '${missing[0]}'${byName.has(missing[0]) ? ` (call ${missing[1]} never computed)` : ' (no such layer)'}`
          : 'expected the layer to be called, found no inbound node',
      );
    }
  }
  b.where = 'modelTopology';
  return outputs.map((o) => values.get(`${o}:0`) ?? b.fail('output_layers', `expected a computed layer, found '${o}'`));
}

function context(b: Builder, l: Layer, k: number, weights: Map<string, TfjsWeight>): LayerContext {
  return {
    b,
    layer: l,
    out: k === 0 ? l.name : `${l.name}_call${k}`,
    cfg: <T>(key: string, def?: T): T => {
      const v = l.config[key];
      if (v !== undefined) return v as T;
      if (def === undefined) b.fail(key, 'expected it in the layer config, found nothing');
      return def;
    },
    weight: (p) => {
      const w = findWeight(weights, l.name, p);
      if (!w) b.fail(`weight '${l.name}/${p}'`, 'expected it in the weightsManifest, found no such weight');
      return w;
    },
  };
}

/** Two outputs naming one tensor (Dropout & co. return their input): the second gets a Reshape of its own. */
function identityIfAlias(b: Builder, t: string, layer: string): string {
  return b.g.outputs.includes(t) ? b.add('Reshape', [t], { shape: b.shape(t) }, layer) : t;
}

function findWeight(weights: Map<string, TfjsWeight>, layer: string, param: string): TfjsWeight | undefined {
  const exact = weights.get(`${layer}/${param}`);
  if (exact) return exact;
  const suffix = `/${layer}/${param}`;
  const found = [...weights.values()].filter((w) => w.name.endsWith(suffix));
  return found.length === 1 ? found[0] : undefined;
}
