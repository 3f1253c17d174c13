import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

describe('training code', () => {
  it('trains 2 steps on a few images, exports both ONNX graphs and runs them in onnxruntime-node (training/smoke.sh)', async () => {
    const { stdout } = await run('bash', ['training/smoke.sh'], { maxBuffer: 16 * 1024 * 1024, timeout: 600_000 });
    expect(stdout).toMatch(/smoke: OK/);
  }, 600_000);
});
