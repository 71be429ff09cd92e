// A labelled data set for training and evaluation: samples from a .npy file whose first axis is the
// sample axis and whose other axes are the model input's shape without its batch axis (the layout
// the model declares at its input: NCHW for ONNX imports, as `edgec run` takes it), plus integer
// class labels from a second .npy. Small files are read whole; larger ones stay on disk and each
// batch reads only its rows (NpyFile). Every check names the file and what was expected.
import { statSync } from 'node:fs';
import { NpyError, NpyFile, type NpyData } from '../../io/npy.ts';

/** Files up to this size are read into memory; larger ones are streamed by batch. */
export const DEFAULT_RESIDENT_BYTES = 256 * 1024 * 1024;

export interface ModelInput {
  name: string;
  /** The input's declared shape; dim 0 is the batch axis. */
  shape: readonly number[];
}

export interface DatasetSpec {
  data: string;
  /** Absent: unlabelled samples (labels all 0; data-only distillation never reads them). */
  labels?: string;
  input: ModelInput;
  /** Classes of the model's output: labels must lie in [0, classes). */
  classes: number;
  /** Files larger than this stream from disk (default DEFAULT_RESIDENT_BYTES). */
  residentBytes?: number;
}

export interface Dataset {
  readonly size: number;
  /** One sample's shape (the input shape without the batch axis) and element count. */
  readonly sampleShape: readonly number[];
  readonly sampleElements: number;
  readonly labels: Int32Array;
  /** True when the samples are read from disk batch by batch. */
  readonly streamed: boolean;
  /** Samples `indices[i]` one after the other as float32 ([indices.length, ...sampleShape]). */
  readSamples(indices: ArrayLike<number>): Float32Array;
  close(): void;
}

const fmt = (s: readonly number[]) => `[${s.join(',')}]`;

function toFloat32(data: NpyData): Float32Array {
  return data instanceof Float32Array ? data : Float32Array.from(data as Float64Array);
}

/** Opens samples + labels and checks them against the model input and class count. */
export function openDataset(spec: DatasetSpec): Dataset {
  const file = new NpyFile(spec.data);
  try {
    const sampleShape = spec.input.shape.slice(1);
    if (file.dtype !== 'float32' && file.dtype !== 'float64') {
      throw new NpyError(
        spec.data,
        `dtype ${file.dtype} does not match input '${spec.input.name}' float32 (convert it, e.g. x.astype(np.float32) / 255 for images)`,
      );
    }
    const got = file.shape.slice(1);
    if (got.length !== sampleShape.length || got.some((d, i) => d !== sampleShape[i])) {
      throw new NpyError(
        spec.data,
        `shape ${fmt(file.shape)} does not fit input '${spec.input.name}' ${fmt(spec.input.shape)}: expected [N,${sampleShape.join(',')}] (N samples, the model's input layout)`,
      );
    }
    if (file.rows === 0) throw new NpyError(spec.data, `holds no samples (shape ${fmt(file.shape)})`);
    const labels = spec.labels
      ? loadLabels(spec.labels, file.rows, spec.data, spec.classes)
      : new Int32Array(file.rows);
    const streamed = statSync(spec.data).size > (spec.residentBytes ?? DEFAULT_RESIDENT_BYTES);
    const all = streamed ? undefined : toFloat32(file.readRows(Array.from({ length: file.rows }, (_, i) => i)));
    if (all) file.close();
    const per = file.rowElements;
    return {
      size: file.rows,
      sampleShape,
      sampleElements: per,
      labels,
      streamed,
      readSamples(indices) {
        if (!all) return toFloat32(file.readRows(indices));
        const out = new Float32Array(indices.length * per);
        for (let i = 0; i < indices.length; i++) {
          const r = indices[i]!;
          if (!(r >= 0 && r < file.rows)) throw new RangeError(`${spec.data}: sample ${r} outside [0, ${file.rows})`);
          out.set(all.subarray(r * per, (r + 1) * per), i * per);
        }
        return out;
      },
      close() {
        file.close();
      },
    };
  } catch (e) {
    file.close();
    throw e;
  }
}

/**
 * Integer class labels: an int8/uint8/int32/int64 .npy of shape [N] or [N,1], N = `count` (the
 * sample count of `dataFile`), every value in [0, classes).
 */
export function loadLabels(path: string, count: number, dataFile: string, classes: number): Int32Array {
  const f = new NpyFile(path);
  try {
    if (f.dtype === 'float32' || f.dtype === 'float64') {
      throw new NpyError(path, `labels must be integer class indices (int8, uint8, int32 or int64), found ${f.dtype}`);
    }
    if (!(f.shape.length === 1 || (f.shape.length === 2 && f.shape[1] === 1))) {
      throw new NpyError(path, `labels must have shape [N] or [N,1], found ${fmt(f.shape)}`);
    }
    if (f.rows !== count) throw new NpyError(path, `holds ${f.rows} labels, ${dataFile} holds ${count} samples`);
    const raw = f.readRows(Array.from({ length: f.rows }, (_, i) => i));
    const out = new Int32Array(count);
    for (let i = 0; i < count; i++) {
      const v = Number(raw[i]!);
      if (!(v >= 0 && v < classes))
        throw new NpyError(path, `label ${i} is ${raw[i]}, outside the model's ${classes} classes [0, ${classes - 1}]`);
      out[i] = v;
    }
    return out;
  } finally {
    f.close();
  }
}
