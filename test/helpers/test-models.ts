import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildOnnxModel } from './onnx-builder.js';

export interface TestModelOptions {
  /** Constant a*b* every pixel gets (before the global term). */
  a: number;
  b: number;
  /** Adds globalGain * mean(global features) to a*, so the global branch visibly matters. */
  globalGain?: number;
  features?: number;
  globalSize?: number;
  workingShortSide?: number;
  outputStride?: number;
  /** Give the local network a hint input (model.json local.inputs.hints) whose a*, b* planes are added to the output. */
  hints?: boolean;
}

/**
 * Writes a model folder (model.json, global.onnx, colorizer.onnx) whose output is known:
 * global features = mean of the normalized L_global view repeated G times;
 * a*b* = (a + globalGain * mean(global), b) everywhere, at 1/outputStride resolution.
 */
export async function writeTestModel(dir: string, options: TestModelOptions): Promise<string> {
  const features = options.features ?? 4;
  const stride = options.outputStride ?? 4;
  const globalGain = options.globalGain ?? 0;
  await mkdir(dir, { recursive: true });
  const globalModel = buildOnnxModel({
    inputs: [{ name: 'L_global', shape: ['N', 1, 'S', 'S'] }],
    outputs: [{ name: 'global_features', shape: ['N', features] }],
    initializers: [{ name: 'spread', dims: [1, features], values: new Array(features).fill(1) }],
    nodes: [
      { op: 'GlobalAveragePool', inputs: ['L_global'], outputs: ['pooled'] },
      { op: 'Flatten', inputs: ['pooled'], outputs: ['flat'], attributes: { axis: 1 } },
      { op: 'MatMul', inputs: ['flat', 'spread'], outputs: ['global_features'] },
    ],
  });
  const gainWeights = new Array(2 * features).fill(0);
  for (let f = 0; f < features; f++) gainWeights[f] = globalGain / features;
  const localModel = buildOnnxModel({
    inputs: [
      { name: 'L', shape: ['N', 1, 'H', 'W'] },
      { name: 'global_features', shape: ['N', features] },
      ...(options.hints ? [{ name: 'hints', shape: ['N', 3, 'h', 'w'] }] : []),
    ],
    outputs: [{ name: 'ab', shape: ['N', 2, 'h', 'w'] }],
    initializers: [
      { name: 'zero_w', dims: [2, 1, stride, stride], values: new Array(2 * stride * stride).fill(0) },
      { name: 'ab_bias', dims: [2], values: [options.a, options.b] },
      { name: 'gain_w', dims: [2, features, 1, 1], values: gainWeights },
      { name: 'axes', dims: [2], values: [2, 3], dtype: 'int64' },
      { name: 'hint_starts', dims: [1], values: [0], dtype: 'int64' },
      { name: 'hint_ends', dims: [1], values: [2], dtype: 'int64' },
      { name: 'hint_axes', dims: [1], values: [1], dtype: 'int64' },
    ],
    nodes: [
      { op: 'Conv', inputs: ['L', 'zero_w', 'ab_bias'], outputs: ['ab_const'], attributes: { strides: [stride, stride], kernel_shape: [stride, stride] } },
      { op: 'Unsqueeze', inputs: ['global_features', 'axes'], outputs: ['g4'] },
      { op: 'Conv', inputs: ['g4', 'gain_w'], outputs: ['ab_global'], attributes: { kernel_shape: [1, 1] } },
      ...(options.hints
        ? [
            { op: 'Add', inputs: ['ab_const', 'ab_global'], outputs: ['ab_auto'] },
            { op: 'Slice', inputs: ['hints', 'hint_starts', 'hint_ends', 'hint_axes'], outputs: ['hint_ab'] },
            { op: 'Add', inputs: ['ab_auto', 'hint_ab'], outputs: ['ab'] },
          ]
        : [{ op: 'Add', inputs: ['ab_const', 'ab_global'], outputs: ['ab'] }]),
    ],
  });
  await writeFile(join(dir, 'global.onnx'), globalModel);
  await writeFile(join(dir, 'colorizer.onnx'), localModel);
  const config = {
    name: 'test-constant-ab',
    version: 1,
    input: { L: { center: 50, scale: 100 } },
    global: { file: 'global.onnx', input: 'L_global', output: 'global_features', size: options.globalSize ?? 32, features },
    local: {
      file: 'colorizer.onnx',
      inputs: { L: 'L', global: 'global_features', ...(options.hints ? { hints: 'hints' } : {}) },
      output: 'ab',
      multipleOf: 8,
      outputStride: stride,
      workingShortSide: options.workingShortSide ?? 64,
    },
    output: { ab: { scale: 1 } },
  };
  await writeFile(join(dir, 'model.json'), JSON.stringify(config, null, 2));
  return dir;
}
