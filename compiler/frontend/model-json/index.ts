// model.json v1 frontend (docs/model-format.md): load/parse a model.json + sidecar into the IR
// Graph with precise ModelErrors, and write a Graph back out as model.json + `<basename>.bin`.

export {
  MAX_INLINE_ELEMENTS,
  MODEL_DTYPES,
  MODEL_FORMAT,
  MODEL_VERSION,
  loadModelJson,
  parseJsonText,
  parseModelJson,
  readSidecar,
  sidecarPath,
} from './parse.ts';
export { SIDECAR_ALIGNMENT, float32Text, serializeModelJson, writeModelJson } from './write.ts';
