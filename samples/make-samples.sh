#!/usr/bin/env bash
# Makes the sample clips the README uses, from ffmpeg's synthetic lavfi sources only:
#   samples/sample.mp4  8 s, 640x360, 25 fps, black-and-white, three shots, 440/660 Hz sine audio.
set -euo pipefail
cd "$(dirname "$0")"
FFMPEG="${FFMPEG_PATH:-$(node -e "process.stdout.write(require('@ffmpeg-installer/ffmpeg').path)")}"
out=sample.mp4
[ -f "$out" ] && [ "${1:-}" != "--force" ] && { echo "samples/$out exists"; exit 0; }
"$FFMPEG" -hide_banner -v error -y \
  -f lavfi -i "testsrc2=size=640x360:rate=25:duration=3" \
  -f lavfi -i "mandelbrot=size=640x360:rate=25,trim=duration=3" \
  -f lavfi -i "life=size=640x360:rate=25:mold=10:ratio=0.1:death_color=#204020:life_color=#e0d0a0,trim=duration=2" \
  -f lavfi -i "sine=frequency=440:sample_rate=48000:duration=8" \
  -filter_complex "[0:v]format=yuv420p,setsar=1[a];[1:v]format=yuv420p,setsar=1[b];[2:v]format=yuv420p,setsar=1[c];[a][b][c]concat=n=3:v=1:a=0,hue=s=0,format=yuv420p[v]" \
  -map "[v]" -map 3:a -c:v libx264 -preset veryfast -crf 18 -c:a aac -b:a 128k -movflags +faststart "$out.tmp.mp4"
mv "$out.tmp.mp4" "$out"
echo "wrote samples/$out"
