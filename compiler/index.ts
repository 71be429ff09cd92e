// The compiler's public API (`import … from 'edgec/compiler'`, built to dist/compiler/index.js with
// declarations in dist/types): model files → IR graph → .edgec bundle bytes, float or int8. The CLI is a
// thin layer over exactly these calls; docs/api.md shows them in use.
export { compileGraph, formatGraph, PASS_NAMES, type CompileOptions, type CompileResult } from './compile.ts';
export {
  compileQuantized,
  quantize,
  splitSamples,
  CALIBRATION_METHODS,
  type CalibrationMethod,
  type QuantizeOptions,
  type QuantizeReport,
  type QuantizedGraph,
  type Samples,
} from './quantize/index.ts';
export { loadModelJson, parseModelJson, writeModelJson, serializeModelJson } from './frontend/model-json/index.ts';
export { loadOnnx, parseOnnx, SUPPORTED_OPS, type OnnxImportOptions } from './frontend/onnx/index.ts';
export { loadTfjs, parseTfjs, tfjsFormat, type TfjsImportOptions } from './frontend/tfjs/index.ts';
export { loadTflite, parseTflite, SUPPORTED_TFLITE_OPS } from './frontend/tflite/index.ts';
export { loadNpy, readNpy, saveNpy, writeNpy, NpyError, type NpyArray, type NpyData, type NpyDtype } from './io/npy.ts';
export {
  ModelError,
  type Graph,
  type Tensor,
  type Node,
  type DType,
  type TensorData,
  type QuantParams,
} from './ir/graph.ts';
export { compileTraining, type CompiledTraining } from './train/compile-training.ts';
export {
  buildTrainingGraph,
  withBatch,
  type TrainingOptions,
  type TrainingGraph,
  type LossOptions,
  type OptimizerOptions,
} from './train/training-graph.ts';
export { initWeights, type InitKind } from './train/init.ts';
export { learningRate, type Schedule } from './train/schedule.ts';
export { findNonFinite, findNonFiniteSharded, describeSite, type NonFiniteSite } from './train/diagnose.ts';
export {
  saveCheckpoint,
  loadCheckpoint,
  encodeCheckpoint,
  decodeCheckpoint,
  modelStructureHash,
  CheckpointError,
  type Checkpoint,
} from './train/checkpoint.ts';
export { openDataset, type Dataset } from './train/data/dataset.ts';
export {
  distill,
  datasetOf,
  type DistillJob,
  type DistillResult,
  type DistillReport,
  type DistillStart,
  type EpochLine,
  type Replay,
  type ReplaySelect,
} from './distill/index.ts';
export { buildShardedTraining, compileShardedTraining, defaultShards, type ShardedTraining } from './train/shard.ts';
