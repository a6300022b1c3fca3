// Edits of a plan before encoding.

import { OpType, Plan } from './plan';

/**
 * Puts y = x * scale[c] + shift[c] in front of the plan's single input, so callers feed
 * raw pixel values and the model's own normalisation runs in the core. An identity affine
 * (scale 1, shift 0) returns the plan unchanged, which saves a pass over the input.
 */
export function prependChannelAffine(plan: Plan, scale: number[], shift: number[]): Plan {
  if (plan.inputs.length !== 1) throw new RangeError(`Expected a plan with one input, received ${plan.inputs.length}`);
  const input = plan.inputs[0];
  const channels = input.shape[input.shape.length - 1];
  if (scale.length !== channels || shift.length !== channels) {
    throw new RangeError(`Expected ${channels} scale and shift values, received ${scale.length} and ${shift.length}`);
  }

  if (scale.every((value) => value === 1) && shift.every((value) => value === 0)) return plan;

  const raw = plan.tensorCount;
  return {
    inputs: [{ id: raw, shape: input.shape.slice() }],
    outputs: plan.outputs.slice(),
    ops: [
      {
        type: OpType.CHANNEL_AFFINE,
        inputs: [raw],
        output: input.id,
        params: [],
        consts: [Float32Array.from(scale), Float32Array.from(shift)],
        name: 'input_normalisation',
      },
      ...plan.ops,
    ],
    tensorCount: plan.tensorCount + 1,
  };
}

/** Expands a per-image mean and standard deviation into the affine's scale and shift. */
export function normalisation(mean: number[], std: number[]): { scale: number[]; shift: number[] } {
  return { scale: std.map((s) => 1 / s), shift: mean.map((m, i) => -m / std[i]) };
}
