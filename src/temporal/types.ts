/**
 * A dense displacement field on a width×height grid, stored planar.
 * For a flow from image A to image B: A(x, y) ≈ B(x + dx[i], y + dy[i]), i = y * width + x.
 */
export interface FlowField {
  readonly width: number;
  readonly height: number;
  readonly dx: Float32Array;
  readonly dy: Float32Array;
}

/** One single-channel image, row-major. */
export interface ImagePlane {
  readonly width: number;
  readonly height: number;
  readonly data: Float32Array;
}

export function assertLength(name: string, array: ArrayLike<number>, expected: number): void {
  if (array.length !== expected) {
    throw new RangeError(`${name}: expected ${expected} values, got ${array.length}`);
  }
}

export function assertGridSize(width: number, height: number): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`grid size must be positive integers, got ${width}x${height}`);
  }
}
