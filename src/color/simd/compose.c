/*
 * Chroma composition in WebAssembly SIMD: the 8-bit ChromaComposer (src/color/compose.ts) four
 * samples at a time in float32. Same algorithm and tables: joint bilateral upsampling of the a*b*
 * grid over 3x3 cells with the range-weight table, then L*a*b* -> XYZ -> linear sRGB -> sRGB
 * (table) -> Cb/Cr codes. Float32 instead of the reference's float64 moves a code by one where a
 * value sits on a rounding boundary; test/compose-simd.test.ts bounds how often.
 *
 * Built by scripts/build-simd.sh (clang --target=wasm32 -msimd128); no libc, no allocator: the
 * caller lays out every buffer in linear memory and passes the offsets.
 */
#include <stdint.h>
#include <wasm_simd128.h>

#define TAPS 3

typedef struct {
  /* Sizes. */
  int32_t chroma_width, chroma_height, grid_width, grid_height;
  /* Per output column: TAPS grid columns, and their weights as three planar rows (padded by 4). */
  const int32_t *column_index;
  const float *column_weight0, *column_weight1, *column_weight2;
  /* End (exclusive) of each run of columns sharing their three grid columns. */
  const int32_t *run_ends;
  int32_t runs;
  /* Per output row: TAPS grid rows and weights. */
  const int32_t *row_index;
  const float *row_weight;
  /* Range weights by squared L* difference (range_lut_size entries, index = d*d*range_scale). */
  const float *range_lut;
  int32_t range_lut_size;
  float range_scale;
  /* Linear light -> sRGB at srgb_steps+1 points. */
  const float *srgb_lut;
  int32_t srgb_steps;
  /* Y'CbCr code mapping. */
  float kr, kg, kb, cb_scale, cr_scale, mid, lo, hi;
  /* Scratch rows (chroma_width + 4 floats each). */
  float *a_row, *b_row;
} Plan;

static inline v128_t gather(const float *table, v128_t index) {
  return wasm_f32x4_make(table[wasm_i32x4_extract_lane(index, 0)], table[wasm_i32x4_extract_lane(index, 1)],
                         table[wasm_i32x4_extract_lane(index, 2)], table[wasm_i32x4_extract_lane(index, 3)]);
}

static void upsample_row(const Plan *p, int32_t y, const float *lightness, const float *grid_lightness, const float *ab) {
  const int32_t width = p->chroma_width;
  const int32_t grid_n = p->grid_width * p->grid_height;
  const v128_t lut_last = wasm_i32x4_splat(p->range_lut_size - 1);
  const v128_t scale = wasm_f32x4_splat(p->range_scale);
  const v128_t tiny = wasm_f32x4_splat(1e-6f);
  const v128_t zero = wasm_f32x4_splat(0.0f);
  const float wy[3] = {p->row_weight[y * TAPS], p->row_weight[y * TAPS + 1], p->row_weight[y * TAPS + 2]};
  const int32_t r[3] = {p->row_index[y * TAPS] * p->grid_width, p->row_index[y * TAPS + 1] * p->grid_width,
                        p->row_index[y * TAPS + 2] * p->grid_width};
  const float *guide_row = lightness + (int64_t)y * width;
  int32_t x = 0;
  for (int32_t run = 0; run < p->runs; run++) {
    const int32_t end = p->run_ends[run];
    const int32_t c[3] = {p->column_index[x * TAPS], p->column_index[x * TAPS + 1], p->column_index[x * TAPS + 2]};
    int32_t cells[9];
    for (int i = 0; i < 3; i++)
      for (int j = 0; j < 3; j++) cells[i * 3 + j] = r[i] + c[j];
    /* The run's nine cells, broadcast from memory where used: holding all 27 in registers spills. */
#define G(t) wasm_v128_load32_splat(grid_lightness + cells[t])
#define A(t) wasm_v128_load32_splat(ab + cells[t])
#define B(t) wasm_v128_load32_splat(ab + grid_n + cells[t])
    v128_t wyv[3];
    for (int i = 0; i < 3; i++) wyv[i] = wasm_f32x4_splat(wy[i]);
    /* Four samples at a time; lanes past the run's end are written here and rewritten by the next run. */
    for (; x < end; x += 4) {
      const v128_t guide = wasm_v128_load(guide_row + x);
      const v128_t wx[3] = {wasm_v128_load(p->column_weight0 + x), wasm_v128_load(p->column_weight1 + x),
                            wasm_v128_load(p->column_weight2 + x)};
      v128_t w_sum = zero, a_sum = zero, b_sum = zero;
      for (int i = 0; i < 3; i++) {
        for (int j = 0; j < 3; j++) {
          const int t = i * 3 + j;
          const v128_t d = wasm_f32x4_sub(guide, G(t));
          v128_t k = wasm_i32x4_trunc_sat_f32x4(wasm_f32x4_mul(wasm_f32x4_mul(d, d), scale));
          k = wasm_i32x4_min(k, lut_last);
          const v128_t range = gather(p->range_lut, k);
          const v128_t w = wasm_f32x4_mul(wasm_f32x4_mul(wyv[i], wx[j]), range);
          w_sum = wasm_f32x4_add(w_sum, w);
          a_sum = wasm_f32x4_add(a_sum, wasm_f32x4_mul(w, A(t)));
          b_sum = wasm_f32x4_add(b_sum, wasm_f32x4_mul(w, B(t)));
        }
      }
      const v128_t supported = wasm_f32x4_gt(w_sum, tiny);
      const v128_t inverse = wasm_f32x4_div(wasm_f32x4_splat(1.0f), w_sum);
      wasm_v128_store(p->a_row + x, wasm_v128_and(wasm_f32x4_mul(a_sum, inverse), supported));
      wasm_v128_store(p->b_row + x, wasm_v128_and(wasm_f32x4_mul(b_sum, inverse), supported));
    }
#undef G
#undef A
#undef B
    x = end;
  }
}

/* f^3 above the CIE knee, the linear segment below it. */
static inline v128_t f_inverse(v128_t f) {
  const v128_t cube = wasm_f32x4_mul(wasm_f32x4_mul(f, f), f);
  const v128_t linear = wasm_f32x4_mul(wasm_f32x4_sub(wasm_f32x4_mul(f, wasm_f32x4_splat(116.0f)), wasm_f32x4_splat(16.0f)),
                                       wasm_f32x4_splat(1.0f / 903.2962963f));
  return wasm_v128_bitselect(cube, linear, wasm_f32x4_gt(f, wasm_f32x4_splat(0.20689655f)));
}

static inline v128_t to_srgb(const Plan *p, v128_t linear) {
  const v128_t steps = wasm_f32x4_splat((float)p->srgb_steps);
  v128_t index = wasm_i32x4_trunc_sat_f32x4(wasm_f32x4_add(wasm_f32x4_mul(linear, steps), wasm_f32x4_splat(0.5f)));
  index = wasm_i32x4_max(wasm_i32x4_min(index, wasm_i32x4_splat(p->srgb_steps)), wasm_i32x4_splat(0));
  return gather(p->srgb_lut, index);
}

/* Round half up and clamp to [lo, hi]; returns int32 lanes. */
static inline v128_t to_code(v128_t value, v128_t lo, v128_t hi) {
  const v128_t clamped = wasm_f32x4_min(wasm_f32x4_max(wasm_f32x4_add(value, wasm_f32x4_splat(0.5f)), lo), hi);
  return wasm_i32x4_trunc_sat_f32x4(clamped);
}

static void chroma_row(const Plan *p, const float *lightness, uint8_t *cb, uint8_t *cr, int32_t wide) {
  const v128_t kr = wasm_f32x4_splat(p->kr), kg = wasm_f32x4_splat(p->kg), kb = wasm_f32x4_splat(p->kb);
  const v128_t cb_scale = wasm_f32x4_splat(p->cb_scale), cr_scale = wasm_f32x4_splat(p->cr_scale);
  const v128_t mid = wasm_f32x4_splat(p->mid);
  const v128_t lo = wasm_f32x4_splat(p->lo), hi = wasm_f32x4_splat(p->hi);
  for (int32_t x = 0; x < p->chroma_width; x += 4) {
    const v128_t fy = wasm_f32x4_mul(wasm_f32x4_add(wasm_v128_load(lightness + x), wasm_f32x4_splat(16.0f)), wasm_f32x4_splat(1.0f / 116.0f));
    const v128_t fx = wasm_f32x4_add(fy, wasm_f32x4_mul(wasm_v128_load(p->a_row + x), wasm_f32x4_splat(1.0f / 500.0f)));
    const v128_t fz = wasm_f32x4_sub(fy, wasm_f32x4_mul(wasm_v128_load(p->b_row + x), wasm_f32x4_splat(1.0f / 200.0f)));
    const v128_t xx = wasm_f32x4_mul(wasm_f32x4_splat(0.95047f), f_inverse(fx));
    const v128_t yy = f_inverse(fy);
    const v128_t zz = wasm_f32x4_mul(wasm_f32x4_splat(1.08883f), f_inverse(fz));
#define MIX(c0, c1, c2) \
  wasm_f32x4_add(wasm_f32x4_add(wasm_f32x4_mul(wasm_f32x4_splat(c0), xx), wasm_f32x4_mul(wasm_f32x4_splat(c1), yy)), wasm_f32x4_mul(wasm_f32x4_splat(c2), zz))
    const v128_t r = to_srgb(p, MIX(3.2404542f, -1.5371385f, -0.4985314f));
    const v128_t g = to_srgb(p, MIX(-0.969266f, 1.8760108f, 0.041556f));
    const v128_t b = to_srgb(p, MIX(0.0556434f, -0.2040259f, 1.0572252f));
#undef MIX
    const v128_t luma = wasm_f32x4_add(wasm_f32x4_add(wasm_f32x4_mul(kr, r), wasm_f32x4_mul(kg, g)), wasm_f32x4_mul(kb, b));
    const v128_t u = to_code(wasm_f32x4_add(mid, wasm_f32x4_mul(cb_scale, wasm_f32x4_sub(b, luma))), lo, hi);
    const v128_t v = to_code(wasm_f32x4_add(mid, wasm_f32x4_mul(cr_scale, wasm_f32x4_sub(r, luma))), lo, hi);
    const v128_t u16 = wasm_u16x8_narrow_i32x4(u, u), v16 = wasm_u16x8_narrow_i32x4(v, v);
    if (wide) {
      wasm_v128_store64_lane(cb + 2 * x, u16, 0);
      wasm_v128_store64_lane(cr + 2 * x, v16, 0);
    } else {
      wasm_v128_store32_lane(cb + x, wasm_u8x16_narrow_i16x8(u16, u16), 0);
      wasm_v128_store32_lane(cr + x, wasm_u8x16_narrow_i16x8(v16, v16), 0);
    }
  }
}

/*
 * Cb/Cr for one frame. lightness: L* at chroma size (rows of chroma_width, 4 floats of padding at
 * the end); grid_lightness, ab: the grid's L* and planar a*b*. Output rows may run up to 3 samples
 * past chroma_width into the next row (rewritten by it) and past the plane's end (padding).
 */
__attribute__((export_name("compose"))) void compose(const Plan *p, const float *lightness, const float *grid_lightness,
                                                     const float *ab, uint8_t *cb, uint8_t *cr, int32_t wide) {
  const int32_t width = p->chroma_width;
  const int32_t bytes = wide ? 2 : 1;
  for (int32_t y = 0; y < p->chroma_height; y++) {
    upsample_row(p, y, lightness, grid_lightness, ab);
    const int64_t offset = (int64_t)y * width;
    chroma_row(p, lightness + offset, cb + offset * bytes, cr + offset * bytes, wide);
  }
}
