/** Shared inputs for the composer tests: reproducible noise and geometries that reach every edge case. */

/** Deterministic pseudo-random numbers in [0, 1), so a failure can be reproduced. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/**
 * Odd sizes (rows not a multiple of four samples), a grid finer than the chroma plane, a 1x1 grid,
 * edge awareness off, and both ranges.
 */
export const composeGeometries = [
  { chromaWidth: 97, chromaHeight: 55, gridWidth: 20, gridHeight: 11, matrix: 'bt709', range: 'limited', edgeSigma: 6 },
  { chromaWidth: 240, chromaHeight: 135, gridWidth: 24, gridHeight: 14, matrix: 'bt709', range: 'limited', edgeSigma: 6 },
  { chromaWidth: 64, chromaHeight: 36, gridWidth: 16, gridHeight: 9, matrix: 'bt601', range: 'full', edgeSigma: 6 },
  { chromaWidth: 33, chromaHeight: 17, gridWidth: 33, gridHeight: 17, matrix: 'bt709', range: 'limited', edgeSigma: 0 },
  { chromaWidth: 8, chromaHeight: 5, gridWidth: 12, gridHeight: 7, matrix: 'bt601', range: 'limited', edgeSigma: 3 },
  { chromaWidth: 3, chromaHeight: 2, gridWidth: 1, gridHeight: 1, matrix: 'bt601', range: 'limited', edgeSigma: 6 },
] as const;
