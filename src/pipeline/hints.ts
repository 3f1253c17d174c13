import type { ColorHint } from '../project/project-file.js';

/**
 * Color hints rasterised as the model's optional hint input takes them (model.json
 * `local.inputs.hints`): planar [3, gridHeight, gridWidth] = a*, b* in Lab units and a 0/1 mask,
 * zeros where the model decides alone. Each hint marks the grid cell under its position
 * (x, y in 0..1 of the frame). Which hints a frame gets is the caller's choice.
 */
export function hintPlanes(hints: ColorHint[], gridWidth: number, gridHeight: number): Float32Array {
  const size = gridWidth * gridHeight;
  const planes = new Float32Array(3 * size);
  for (const hint of hints) {
    const col = Math.min(gridWidth - 1, Math.max(0, Math.floor(hint.x * gridWidth)));
    const row = Math.min(gridHeight - 1, Math.max(0, Math.floor(hint.y * gridHeight)));
    const i = row * gridWidth + col;
    planes[i] = hint.a;
    planes[size + i] = hint.b;
    planes[2 * size + i] = 1;
  }
  return planes;
}
