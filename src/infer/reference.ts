import sharp from 'sharp';
import { UserError } from '../decode/errors.js';
import { srgb8ToLightness } from '../color/srgb8.js';

/** L* view (size x size, squashed like the film's own global views) of a color or gray reference image. */
export async function referenceLightnessView(path: string, size: number): Promise<Float32Array> {
  let pixels: Buffer;
  try {
    pixels = await sharp(path).removeAlpha().toColourspace('srgb').resize(size, size, { fit: 'fill' }).raw().toBuffer();
  } catch (error) {
    throw new UserError(`reference image ${path} could not be read: ${(error as Error).message.split('\n')[0]}`);
  }
  return srgb8ToLightness(pixels, size, size, pixels.length / (size * size));
}
