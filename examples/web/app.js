// Demo page logic: loads /model.edgec (or a dropped .edgec) with the browser runtime, turns the
// drawing pad into a 28x28 float input (MNIST-style: digit fitted into 20x20, centred, x/255) and shows
// prediction, latency, build and branch. window.edgecDemo exposes the same calls to test/browser.
import { load, pickBuild } from '/edgec/edgec.js';

const $ = (id) => document.getElementById(id);
const pad = $('pad');
const ctx = pad.getContext('2d', { willReadFrequently: true });
let bundle = null,
  bundleName = '',
  model = null,
  modelBuild = 'auto';

function status(text) {
  $('status').textContent = text;
}

async function useBundle(bytes, name, build = $('build').value) {
  status('loading');
  model = await load(bytes, { build });
  bundle = bytes;
  bundleName = name;
  modelBuild = build;
  const i = model.info.inputs[0];
  $('model').textContent =
    `${name}: ${model.info.inputs.map((t) => `${t.name} [${t.shape}] ${t.dtype}`).join(', ')} → ` +
    `${model.info.outputs.map((t) => `${t.name} [${t.shape}]`).join(', ')}, ${model.info.steps} steps, arena ${model.info.arenaBytes} B`;
  $('buildUsed').textContent = model.info.build;
  const vs = $('variant');
  vs.innerHTML = model.variants.length
    ? model.variants.map((v) => `<option>${v}</option>`).join('')
    : '<option value="">(one)</option>';
  vs.value = model.variant;
  vs.disabled = model.variants.length === 0;
  status(i && numel(i.shape) === 784 ? 'ready' : `ready (input [${i?.shape}] is not 28x28: runs on zeros)`);
  return model;
}

const numel = (s) => s.reduce((a, b) => a * b, 1);
const ARRAYS = { float32: Float32Array, int8: Int8Array, uint8: Uint8Array, int32: Int32Array };

/** The pad as a 784-float MNIST input: bounding box scaled into 20x20, centred in 28x28, [0,1]. */
function padToInput() {
  const { data, width, height } = ctx.getImageData(0, 0, pad.width, pad.height);
  let x0 = width,
    y0 = height,
    x1 = -1,
    y1 = -1;
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      if (data[(y * width + x) * 4] > 20) {
        x0 = Math.min(x0, x);
        x1 = Math.max(x1, x);
        y0 = Math.min(y0, y);
        y1 = Math.max(y1, y);
      }
    }
  const small = document.createElement('canvas');
  small.width = small.height = 28;
  const s = small.getContext('2d', { willReadFrequently: true });
  s.fillStyle = '#000';
  s.fillRect(0, 0, 28, 28);
  if (x1 >= 0) {
    const w = x1 - x0 + 1,
      h = y1 - y0 + 1,
      k = 20 / Math.max(w, h);
    s.imageSmoothingEnabled = true;
    s.imageSmoothingQuality = 'high';
    s.drawImage(pad, x0, y0, w, h, 14 - (w * k) / 2, 14 - (h * k) / 2, w * k, h * k);
  }
  const px = s.getImageData(0, 0, 28, 28).data;
  const x = new Float32Array(784);
  for (let i = 0; i < 784; i++) x[i] = px[i * 4] / 255;
  return x;
}

/** Runs the model on one float input; returns { output, best, ms, build, branch }. */
function infer(x) {
  const t = model.info.inputs[0];
  const input = numel(t.shape) === x.length && t.dtype === 'float32' ? x : new ARRAYS[t.dtype](numel(t.shape));
  const t0 = performance.now();
  // runDetailed also reports the route: the branch each Branch block took and any early exit.
  const det = model.runDetailed({ [t.name]: input });
  const ms = performance.now() - t0;
  const y = det.outputs[model.info.outputs[0].name];
  let best = 0;
  for (let k = 1; k < y.length; k++) if (y[k] > y[best]) best = k;
  const r = det.samples[0];
  const parts = [
    ...Object.entries(r.branches).map(([b, k]) => `${b} → ${k === null ? 'not reached' : `branch ${k}`}`),
    ...(r.exitedAt ? [`exit ${r.exitedAt}`] : []),
  ];
  const branch = parts.length ? parts.join(', ') : null;
  return { output: y, best, ms, build: model.info.build, branch, variant: model.variant };
}

function show(r) {
  $('prediction').textContent = String(r.best);
  $('latency').textContent = `${r.ms.toFixed(2)} ms`;
  $('buildUsed').textContent = r.variant ? `${r.build}, variant ${r.variant}` : r.build;
  $('branch').textContent =
    r.branch === null || r.branch === undefined ? 'none (no branches in this model)' : String(r.branch);
  const y = Array.from(r.output),
    m = Math.max(...y),
    e = y.map((v) => Math.exp(v - m)),
    z = e.reduce((a, b) => a + b, 0);
  $('bars').innerHTML = '';
  e.forEach((v, k) => {
    const d = document.createElement('div');
    d.innerHTML = `${k} <span class="bar" style="width:${((100 * v) / z).toFixed(1)}px"></span> ${((100 * v) / z).toFixed(1)}%`;
    $('bars').appendChild(d);
  });
  status('done');
}

function runPad() {
  if (model) show(infer(padToInput()));
}

// Drawing: white round strokes on black, run on every stroke end.
let drawing = false;
ctx.fillStyle = '#000';
ctx.fillRect(0, 0, pad.width, pad.height);
ctx.lineCap = ctx.lineJoin = 'round';
ctx.lineWidth = 20;
ctx.strokeStyle = '#fff';
const at = (e) => {
  const r = pad.getBoundingClientRect();
  return [e.clientX - r.left, e.clientY - r.top];
};
pad.addEventListener('pointerdown', (e) => {
  drawing = true;
  const [x, y] = at(e);
  ctx.beginPath();
  ctx.moveTo(x, y);
  ctx.lineTo(x, y);
  ctx.stroke();
});
pad.addEventListener('pointermove', (e) => {
  if (!drawing) return;
  const [x, y] = at(e);
  ctx.lineTo(x, y);
  ctx.stroke();
});
addEventListener('pointerup', () => {
  if (drawing) {
    drawing = false;
    runPad();
  }
});
$('clear').onclick = () => {
  ctx.fillStyle = '#000';
  ctx.fillRect(0, 0, pad.width, pad.height);
  $('prediction').textContent = '–';
};

// Shipped test digits: drawn onto the pad (scaled up) and run exactly as given (no re-centring).
const digits = (await (await fetch('digits.json')).json()).digits;
function pickDigit(d) {
  const px = Uint8Array.from(atob(d.pixels), (c) => c.charCodeAt(0));
  const img = ctx.createImageData(28, 28);
  px.forEach((v, i) => {
    img.data.set([v, v, v, 255], i * 4);
  });
  const small = document.createElement('canvas');
  small.width = small.height = 28;
  small.getContext('2d').putImageData(img, 0, 0);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(small, 0, 0, pad.width, pad.height);
  const x = Float32Array.from(px, (v) => v / 255);
  if (model) show(infer(x));
}
for (const d of digits) {
  const b = document.createElement('button');
  b.textContent = String(d.label);
  b.title = `MNIST test image #${d.index}`;
  b.dataset.digit = String(d.label);
  b.onclick = () => pickDigit(d);
  $('digits').appendChild(b);
}

$('variant').onchange = () => {
  if (model && $('variant').value) {
    model.useVariant($('variant').value);
    runPad();
  }
};
$('build').onchange = async () => {
  if (bundle) {
    await useBundle(bundle, bundleName);
    runPad();
  }
};
async function openFile(f) {
  try {
    await useBundle(new Uint8Array(await f.arrayBuffer()), f.name);
    runPad();
  } catch (e) {
    status(`error: ${e.message}`);
  }
}
$('file').onchange = () => {
  const f = $('file').files[0];
  if (f) openFile(f);
};
addEventListener('dragover', (e) => {
  e.preventDefault();
  document.body.classList.add('dragging');
});
addEventListener('dragleave', () => document.body.classList.remove('dragging'));
addEventListener('drop', (e) => {
  e.preventDefault();
  document.body.classList.remove('dragging');
  const f = e.dataTransfer.files[0];
  if (f) openFile(f);
});

// For tests and the console: run raw input bytes on a chosen build, get output bytes back.
window.edgecDemo = {
  pickBuild,
  lastInput: () => Array.from(padToInput()),
  /** Runs samples (each: byte arrays in bundle input order) on `build` and returns each sample's output
   *  bytes; `bytes`/`variant` pick another bundle and variant (one instance for all samples). */
  async runBytes(build, samples, bytes, variant) {
    const m = await load(bytes ? Uint8Array.from(bytes) : bundle, { build, variant });
    const outputs = samples.map((inputs) => {
      const feeds = {};
      m.info.inputs.forEach((t, i) => {
        feeds[t.name] = new ARRAYS[t.dtype](Uint8Array.from(inputs[i]).buffer);
      });
      const out = m.run(feeds);
      return m.info.outputs.map((t) =>
        Array.from(new Uint8Array(out[t.name].buffer, out[t.name].byteOffset, out[t.name].byteLength)),
      );
    });
    return { build: m.info.build, variant: m.variant, outputs };
  },
};

try {
  const r = await fetch('/model.edgec');
  if (!r.ok) throw new Error(`no /model.edgec (HTTP ${r.status}): drop an .edgec file`);
  await useBundle(new Uint8Array(await r.arrayBuffer()), 'mnist.edgec');
} catch (e) {
  status(`error: ${e.message}`);
}
