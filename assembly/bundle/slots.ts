// Field slots of schema/bundle.fbs (slot k = vtable entry 4 + 2k; a union is its `_type` slot,
// then its value slot). test/assembly/slots.test.ts checks every constant against the schema.

export const ConvParams_kernel_h: i32 = 0;
export const ConvParams_kernel_w: i32 = 1;
export const ConvParams_stride_h: i32 = 2;
export const ConvParams_stride_w: i32 = 3;
export const ConvParams_dilation_h: i32 = 4;
export const ConvParams_dilation_w: i32 = 5;
export const ConvParams_pad_top: i32 = 6;
export const ConvParams_pad_left: i32 = 7;
export const ConvParams_pad_bottom: i32 = 8;
export const ConvParams_pad_right: i32 = 9;
export const ConvParams_groups: i32 = 10;
export const ConvParams_depth_multiplier: i32 = 11;
export const ConvParams_activation: i32 = 12;
export const ConvParams_act_min: i32 = 13;
export const ConvParams_act_max: i32 = 14;
export const ConvParams_q_min: i32 = 15;
export const ConvParams_q_max: i32 = 16;

export const PoolParams_kernel_h: i32 = 0;
export const PoolParams_kernel_w: i32 = 1;
export const PoolParams_stride_h: i32 = 2;
export const PoolParams_stride_w: i32 = 3;
export const PoolParams_pad_top: i32 = 4;
export const PoolParams_pad_left: i32 = 5;
export const PoolParams_pad_bottom: i32 = 6;
export const PoolParams_pad_right: i32 = 7;
export const PoolParams_count_include_pad: i32 = 8;

export const DenseParams_activation: i32 = 0;
export const DenseParams_act_min: i32 = 1;
export const DenseParams_act_max: i32 = 2;
export const DenseParams_q_min: i32 = 3;
export const DenseParams_q_max: i32 = 4;

export const BinaryParams_op: i32 = 0;
export const BinaryParams_shape: i32 = 1;
export const BinaryParams_a_strides: i32 = 2;
export const BinaryParams_b_strides: i32 = 3;
export const BinaryParams_activation: i32 = 4;
export const BinaryParams_act_min: i32 = 5;
export const BinaryParams_act_max: i32 = 6;
export const BinaryParams_q_min: i32 = 7;
export const BinaryParams_q_max: i32 = 8;

export const UnaryParams_op: i32 = 0;
export const UnaryParams_alpha: i32 = 1;
export const UnaryParams_beta: i32 = 2;

export const SoftmaxParams_outer: i32 = 0;
export const SoftmaxParams_axis: i32 = 1;
export const SoftmaxParams_inner: i32 = 2;

export const TransposeParams_shape: i32 = 0;
export const TransposeParams_strides: i32 = 1;
export const TransposeParams_offset: i32 = 2;

export const PadParams_shape: i32 = 0;
export const PadParams_in_shape: i32 = 1;
export const PadParams_before: i32 = 2;
export const PadParams_value: i32 = 3;

export const ConcatParams_outer: i32 = 0;
export const ConcatParams_sizes: i32 = 1;

export const ControlParams_targets: i32 = 0;
export const ControlParams_metric: i32 = 1;
export const ControlParams_threshold: i32 = 2;
export const ControlParams_arena_saved: i32 = 3;

export const TrainParams_label_smoothing: i32 = 0;
export const TrainParams_momentum: i32 = 1;
export const TrainParams_nesterov: i32 = 2;
export const TrainParams_weight_decay: i32 = 3;
export const TrainParams_beta1: i32 = 4;
export const TrainParams_beta2: i32 = 5;
export const TrainParams_epsilon: i32 = 6;
export const TrainParams_decoupled: i32 = 7;
export const TrainParams_max_norm: i32 = 8;
export const TrainParams_temperature: i32 = 9;

export const Tensor_name: i32 = 0;
export const Tensor_dtype: i32 = 1;
export const Tensor_shape: i32 = 2;
export const Tensor_constant: i32 = 3;
export const Tensor_offset: i32 = 4;
export const Tensor_size: i32 = 5;
export const Tensor_scale: i32 = 6;
export const Tensor_zero_point: i32 = 7;
export const Tensor_variable: i32 = 8;
export const Tensor_init: i32 = 9;

export const Step_kernel: i32 = 0;
export const Step_inputs: i32 = 1;
export const Step_outputs: i32 = 2;
export const Step_params_type: i32 = 3;
export const Step_params: i32 = 4;
export const Step_macs: i32 = 5;
export const Step_node: i32 = 6;

export const Metadata_edgec_version: i32 = 0;
export const Metadata_source_hash: i32 = 1;
export const Metadata_compile_options: i32 = 2;
export const Metadata_target: i32 = 3;
export const Metadata_model_name: i32 = 4;

export const Bundle_version: i32 = 0;
export const Bundle_tensors: i32 = 1;
export const Bundle_steps: i32 = 2;
export const Bundle_inputs: i32 = 3;
export const Bundle_outputs: i32 = 4;
export const Bundle_arena_size: i32 = 5;
export const Bundle_constants: i32 = 6;
export const Bundle_metadata: i32 = 7;
export const Bundle_variants: i32 = 8;

export const Variant_tensors: i32 = 1;
export const Variant_steps: i32 = 2;
export const Variant_inputs: i32 = 3;
export const Variant_outputs: i32 = 4;
export const Variant_arena_size: i32 = 5;
export const Variant_name: i32 = 6;
