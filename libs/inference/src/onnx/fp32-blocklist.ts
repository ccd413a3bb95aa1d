/**
 * Ops that stay float32 when a model is converted to fp16/bf16, with Casts inserted around them.
 * Starts from onnxconverter-common's DEFAULT_OP_BLOCK_LIST; the reasons are about numerics, not kernels.
 */
export const DEFAULT_FP32_OPS: readonly string[] = [
  // Index/shape producers: their float inputs are coordinates or bounds, where 11 bits of mantissa lose pixels.
  'Range',
  'TopK',
  'NonMaxSuppression',
  'RoiAlign',
  'CumSum',
  // Samplers: their dtype attribute describes the distribution, and fp16 draws are visibly biased.
  'RandomNormal',
  'RandomNormalLike',
  'RandomUniform',
  'RandomUniformLike',
  'Multinomial',
  'Bernoulli',
  // onnx-ml ops have float-only type constraints.
  'ArrayFeatureExtractor',
  'Binarizer',
  'CastMap',
  'CategoryMapper',
  'DictVectorizer',
  'FeatureVectorizer',
  'Imputer',
  'LabelEncoder',
  'LinearClassifier',
  'LinearRegressor',
  'Normalizer',
  'OneHotEncoder',
  'SVMClassifier',
  'SVMRegressor',
  'Scaler',
  'TreeEnsembleClassifier',
  'TreeEnsembleRegressor',
  'ZipMap',
];

/**
 * Input slots that must stay float32 even when their op is converted: the ONNX spec types Resize's `scales`
 * as tensor(float) only, and a rounded `roi`/scale moves sampling positions, not just values.
 * Resize opset 10 is (X, scales); opset 11+ is (X, roi, scales, sizes); Upsample is (X, scales).
 */
export const FP32_INPUT_SLOTS: Readonly<Record<string, readonly number[]>> = {
  Resize: [1, 2],
  Upsample: [1],
};

/**
 * Ops whose float inputs may be any type: they read shape or reinterpret, so they never need a Cast in front.
 * `Cast` itself is here; a Cast to float32 inside the graph is retargeted to the new format instead.
 */
export const TYPE_AGNOSTIC_OPS: ReadonlySet<string> = new Set(['Cast', 'Shape', 'Size']);
