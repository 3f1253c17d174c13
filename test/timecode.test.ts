import { describe, expect, it } from 'vitest';
import { framesToTimecode, timecodeAfter, timecodeToFrames } from '../src/decode/timecode.js';
import { timecodeAt } from '../src/encode/encoder-args.js';

describe('timecode arithmetic', () => {
  it('non-drop code counts every frame number', () => {
    expect(timecodeToFrames('01:00:00:00', 24)).toBe(86400);
    expect(timecodeAfter('01:00:00:00', 24, 25)).toBe('01:00:01:01');
    expect(timecodeAt('00:59:59:24', 25, 1)).toBe('01:00:00:00');
  });

  it('29.97 drop-frame code skips ;00 and ;01 at each minute but every tenth', () => {
    expect(framesToTimecode(1799, 30, true)).toBe('00:00:59;29');
    expect(framesToTimecode(1800, 30, true)).toBe('00:01:00;02');
    expect(framesToTimecode(17982, 30, true)).toBe('00:10:00;00');
    expect(framesToTimecode(17981, 30, true)).toBe('00:09:59;29');
    expect(timecodeToFrames('00:01:00;02', 30)).toBe(1800);
    expect(timecodeToFrames('00:10:00;00', 30)).toBe(17982);
    // A preview starting one frame on from 00:00:59;29 starts at 00:01:00;02 (the library's and the DPX writer's shared rule).
    expect(timecodeAt('00:00:59;29', 29.97, 1)).toBe('00:01:00;02');
    expect(timecodeAfter('00:00:59;29', 30, 1)).toBe('00:01:00;02');
    // One hour of drop-frame code is 107,892 frames, and every frame number round-trips.
    expect(timecodeToFrames('01:00:00;00', 30)).toBe(107892);
    for (let n = 0; n < 40000; n += 7) expect(timecodeToFrames(framesToTimecode(n, 30, true), 30)).toBe(n);
  });

  it('59.94 drop-frame code skips four frame numbers', () => {
    expect(framesToTimecode(3600, 60, true)).toBe('00:01:00;04');
    for (let n = 0; n < 80000; n += 13) expect(timecodeToFrames(framesToTimecode(n, 60, true), 60)).toBe(n);
  });

  it('unreadable codes stay as they are', () => {
    expect(timecodeAfter('garbage', 24, 10)).toBe('garbage');
  });
});
