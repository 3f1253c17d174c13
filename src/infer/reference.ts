import sharp from 'sharp';
import { UserError } from '../decode/errors.js';
import { luminanceToLightness, srgbToLinear } from '../color/lab.js';

/** L* view (size x size, squashed like the film's own global views) of a color or gray reference image. */
export async function referenceLightnessView(path: string, size: number): Promise<Float32Array> {
  let pixels: Buffer;
  try {
    pixels = await sharp(path).removeAlpha().toColourspace('srgb').resize(size, size, { fit: 'fill' }).raw().toBuffer();
  } catch (error) {
    throw new UserError(`reference image ${path} could not be read: ${(error as Error).message.split('\n')[0]}`);
  }
  const channels = pixels.length / (size * size);
  const lightness = new Float32Array(size * size);
  const linear = new Float32Array(256);
  for (let v = 0; v < 256; v++) linear[v] = srgbToLinear(v / 255);
  for (let i = 0; i < size * size; i++) {
    const p = i * channels;
    const y = channels >= 3 ? 0.2126729 * linear[pixels[p]] + 0.7151522 * linear[pixels[p + 1]] + 0.072175 * linear[pixels[p + 2]] : linear[pixels[p]];
    lightness[i] = luminanceToLightness(y);
  }
  return lightness;
}
