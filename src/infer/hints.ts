/**
 * Colour hints (Zhang et al. 2017): a colourist's "this point is this colour", given to a model
 * whose local network has a hint input. A hint is a point in normalised picture coordinates with
 * the a*b* it should have; it is drawn as a small square on the model's a*b* grid.
 */
export interface ColorHint {
  /** 0..1 from the left edge. */
  x: number;
  /** 0..1 from the top edge. */
  y: number;
  /** CIE a*, b* in Lab units. */
  a: number;
  b: number;
  /** Half-size of the square in grid cells (default 1: a 3x3 patch). */
  radius?: number;
}

/** Planar [a*, b*, mask] hint planes on a grid of gridWidth x gridHeight (3 * w * h values). */
export function rasterizeHints(hints: readonly ColorHint[], gridWidth: number, gridHeight: number): Float32Array {
  const n = gridWidth * gridHeight;
  const planes = new Float32Array(3 * n);
  for (const hint of hints) {
    for (const [name, value] of [['x', hint.x], ['y', hint.y], ['a', hint.a], ['b', hint.b]] as const) {
      if (!Number.isFinite(value)) throw new RangeError(`colour hint ${name} must be a finite number`);
    }
    if (hint.x < 0 || hint.x > 1 || hint.y < 0 || hint.y > 1) throw new RangeError('colour hint x and y must be within 0..1');
    const radius = hint.radius ?? 1;
    const cx = Math.min(gridWidth - 1, Math.floor(hint.x * gridWidth));
    const cy = Math.min(gridHeight - 1, Math.floor(hint.y * gridHeight));
    for (let y = Math.max(0, cy - radius); y <= Math.min(gridHeight - 1, cy + radius); y++) {
      for (let x = Math.max(0, cx - radius); x <= Math.min(gridWidth - 1, cx + radius); x++) {
        const i = y * gridWidth + x;
        planes[i] = hint.a;
        planes[n + i] = hint.b;
        planes[2 * n + i] = 1;
      }
    }
  }
  return planes;
}
