import { defineConfig } from 'vitest/config';

/** `npm run test:training`: the training smoke test, which needs Python with torch, onnx, PIL and numpy. */
export default defineConfig({
  test: {
    include: ['test/training-smoke.test.ts'],
    testTimeout: 600_000,
    pool: 'forks',
  },
});
