#include "vector_kernels.h"
#include <math.h>

// ---------------------------------------------------------------------------------------------
// Portable kernels (the same polynomials, one float at a time).

static inline float exp_scalar(float x0) {
  if (x0 != x0) return x0;
  if (x0 < -87.3f) return 0.0f;
  float x1 = x0 > 88.3f ? 88.3f : x0;
  const float magic = 12582912.0f;
  float shifted = x1 * 1.44269504f + magic;
  float fx = shifted - magic;
  float x = x1 - fx * 0.693359375f;
  x = x + fx * 2.12194440e-4f;
  float y = 1.9875691500e-4f;
  y = y * x + 1.3981999507e-3f;
  y = y * x + 8.3334519073e-3f;
  y = y * x + 4.1665795894e-2f;
  y = y * x + 1.6666665459e-1f;
  y = y * x + 5.0000001201e-1f;
  y = y * (x * x) + x + 1.0f;
  union { float f; int i; } s = { shifted }, p;
  int n = s.i - 0x4B400000;
  p.i = (n + 127) << 23;
  return y * p.f;
}

static inline float erf_scalar(float x) {
  float a = x < 0 ? -x : x;
  float t = 1.0f / (1.0f + 0.3275911f * a);
  float p = 1.061405429f;
  p = p * t - 1.453152027f;
  p = p * t + 1.421413741f;
  p = p * t - 0.284496736f;
  p = p * t + 0.254829592f;
  p = p * t;
  float r = 1.0f - p * exp_scalar(-a * a);
  return x < 0 ? -r : r;
}

static void softmax_row_generic(const float *x, float *y, long n) {
  float m = -INFINITY;
  for (long j = 0; j < n; j++) {
    if (x[j] != x[j]) { for (long k = 0; k < n; k++) y[k] = NAN; return; }
    if (x[j] > m) m = x[j];
  }
  if (m == -INFINITY) m = 0;
  float total = 0;
  for (long j = 0; j < n; j++) { y[j] = exp_scalar(x[j] - m); total += y[j]; }
  float inv = 1.0f / total;
  for (long j = 0; j < n; j++) y[j] *= inv;
}

static void quick_gelu_forward_generic(const float *x, float *y, long n) {
  for (long i = 0; i < n; i++) y[i] = x[i] * (1.0f / (1.0f + exp_scalar(-1.702f * x[i])));
}

static void quick_gelu_backward_generic(const float *x, const float *g, float *gx, long n) {
  for (long i = 0; i < n; i++) {
    float s = 1.0f / (1.0f + exp_scalar(-1.702f * x[i]));
    gx[i] = g[i] * (s + 1.702f * x[i] * s * (1.0f - s));
  }
}

static void gelu_erf_forward_generic(const float *x, float *y, long n) {
  for (long i = 0; i < n; i++) y[i] = 0.5f * x[i] * (1.0f + erf_scalar(x[i] * 0.70710678f));
}

static void gelu_erf_backward_generic(const float *x, const float *g, float *gx, long n) {
  for (long i = 0; i < n; i++) {
    float cdf = 0.5f * (1.0f + erf_scalar(x[i] * 0.70710678f));
    float pdf = 0.39894228f * exp_scalar(-0.5f * x[i] * x[i]);
    gx[i] = g[i] * (cdf + x[i] * pdf);
  }
}


static void layer_norm_row_generic(const float *x, const float *w, const float *b, float *y, long d, float eps, float *mean, float *rstd) {
  float s = 0;
  for (long j = 0; j < d; j++) s += x[j];
  float mu = s / (float)d, v = 0;
  for (long j = 0; j < d; j++) { float c = x[j] - mu; v += c * c; }
  float inv = 1.0f / sqrtf(v / (float)d + eps);
  *mean = mu;
  *rstd = inv;
  for (long j = 0; j < d; j++) y[j] = (x[j] - mu) * inv * w[j] + b[j];
}

static void layer_norm_backward_row_generic(const float *x, const float *g, const float *w, float mu, float inv, float *gx, long d) {
  float sum_g = 0, sum_gx = 0;
  for (long j = 0; j < d; j++) { float gh = g[j] * w[j]; sum_g += gh; sum_gx += gh * (x[j] - mu) * inv; }
  float a = sum_g / (float)d, bb = sum_gx / (float)d;
  for (long j = 0; j < d; j++) gx[j] = inv * (g[j] * w[j] - a - (x[j] - mu) * inv * bb);
}

static void softmax_backward_row_generic(const float *p, float *d, long n, float scale) {
  float dot = 0;
  for (long j = 0; j < n; j++) dot += p[j] * d[j];
  for (long j = 0; j < n; j++) d[j] = p[j] * (d[j] - dot) * scale;
}

// ---------------------------------------------------------------------------------------------
// AVX2 + FMA kernels (x86-64), compiled for those instructions only inside these functions.

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>
#define AVX2 __attribute__((target("avx2,fma")))

AVX2 static inline __m256 exp256(__m256 x0) {
  // max/min return their second operand when either is NaN: NaN stays NaN.
  __m256 x1 = _mm256_min_ps(_mm256_set1_ps(88.3f), _mm256_max_ps(_mm256_set1_ps(-87.3f), x0));
  const __m256 magic = _mm256_set1_ps(12582912.0f);
  __m256 shifted = _mm256_fmadd_ps(x1, _mm256_set1_ps(1.44269504f), magic);
  __m256 fx = _mm256_sub_ps(shifted, magic);
  __m256 x = _mm256_fnmadd_ps(fx, _mm256_set1_ps(0.693359375f), x1);
  x = _mm256_fmadd_ps(fx, _mm256_set1_ps(2.12194440e-4f), x);
  __m256 y = _mm256_set1_ps(1.9875691500e-4f);
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(1.3981999507e-3f));
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(8.3334519073e-3f));
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(4.1665795894e-2f));
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(1.6666665459e-1f));
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(5.0000001201e-1f));
  y = _mm256_fmadd_ps(y, _mm256_mul_ps(x, x), _mm256_add_ps(x, _mm256_set1_ps(1.0f)));
  __m256i n = _mm256_sub_epi32(_mm256_castps_si256(shifted), _mm256_set1_epi32(0x4B400000));
  __m256 pow2n = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n, _mm256_set1_epi32(127)), 23));
  __m256 r = _mm256_mul_ps(y, pow2n);
  __m256 below = _mm256_cmp_ps(x0, _mm256_set1_ps(-87.3f), _CMP_LT_OQ);
  return _mm256_andnot_ps(below, r);
}

AVX2 static inline __m256 erf256(__m256 x) {
  const __m256 sign = _mm256_set1_ps(-0.0f);
  __m256 a = _mm256_andnot_ps(sign, x);
  __m256 t = _mm256_div_ps(_mm256_set1_ps(1.0f), _mm256_fmadd_ps(_mm256_set1_ps(0.3275911f), a, _mm256_set1_ps(1.0f)));
  __m256 p = _mm256_set1_ps(1.061405429f);
  p = _mm256_fmsub_ps(p, t, _mm256_set1_ps(1.453152027f));
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(1.421413741f));
  p = _mm256_fmsub_ps(p, t, _mm256_set1_ps(0.284496736f));
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(0.254829592f));
  p = _mm256_mul_ps(p, t);
  __m256 e = exp256(_mm256_xor_ps(_mm256_mul_ps(a, a), sign));
  __m256 r = _mm256_fnmadd_ps(p, e, _mm256_set1_ps(1.0f));
  return _mm256_or_ps(r, _mm256_and_ps(x, sign));
}

AVX2 static inline __m256 sigmoid_quick256(__m256 x) {
  __m256 e = exp256(_mm256_mul_ps(_mm256_set1_ps(-1.702f), x));
  return _mm256_div_ps(_mm256_set1_ps(1.0f), _mm256_add_ps(_mm256_set1_ps(1.0f), e));
}

/// Loads the n < 8 trailing floats into a zero-padded vector.
AVX2 static inline __m256 load_tail(const float *p, long n) {
  float tmp[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  for (long i = 0; i < n; i++) tmp[i] = p[i];
  return _mm256_loadu_ps(tmp);
}

AVX2 static inline void store_tail(float *p, __m256 v, long n) {
  float tmp[8];
  _mm256_storeu_ps(tmp, v);
  for (long i = 0; i < n; i++) p[i] = tmp[i];
}

AVX2 static void softmax_row_avx2(const float *x, float *y, long n) {
  __m256 vm = _mm256_set1_ps(-INFINITY);
  __m256 nan = _mm256_setzero_ps();
  long j = 0;
  for (; j + 8 <= n; j += 8) {
    __m256 v = _mm256_loadu_ps(x + j);
    nan = _mm256_or_ps(nan, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
    vm = _mm256_max_ps(vm, v);
  }
  float m = -INFINITY;
  float lanes[8];
  _mm256_storeu_ps(lanes, vm);
  for (int k = 0; k < 8; k++) if (lanes[k] > m) m = lanes[k];
  int any_nan = _mm256_movemask_ps(nan) != 0;
  for (; j < n; j++) {
    if (x[j] != x[j]) any_nan = 1;
    if (x[j] > m) m = x[j];
  }
  if (any_nan) { for (long k = 0; k < n; k++) y[k] = NAN; return; }
  if (m == -INFINITY) m = 0;
  __m256 shift = _mm256_set1_ps(m), sum = _mm256_setzero_ps();
  for (j = 0; j + 8 <= n; j += 8) {
    __m256 e = exp256(_mm256_sub_ps(_mm256_loadu_ps(x + j), shift));
    _mm256_storeu_ps(y + j, e);
    sum = _mm256_add_ps(sum, e);
  }
  _mm256_storeu_ps(lanes, sum);
  float total = 0;
  for (int k = 0; k < 8; k++) total += lanes[k];
  for (; j < n; j++) { y[j] = exp_scalar(x[j] - m); total += y[j]; }
  __m256 inv = _mm256_set1_ps(1.0f / total);
  for (j = 0; j + 8 <= n; j += 8) _mm256_storeu_ps(y + j, _mm256_mul_ps(_mm256_loadu_ps(y + j), inv));
  float s = 1.0f / total;
  for (; j < n; j++) y[j] *= s;
}

AVX2 static void quick_gelu_forward_avx2(const float *x, float *y, long n) {
  long i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 v = _mm256_loadu_ps(x + i);
    _mm256_storeu_ps(y + i, _mm256_mul_ps(v, sigmoid_quick256(v)));
  }
  if (i < n) { __m256 v = load_tail(x + i, n - i); store_tail(y + i, _mm256_mul_ps(v, sigmoid_quick256(v)), n - i); }
}

AVX2 static inline __m256 quick_gelu_grad256(__m256 v, __m256 g) {
  __m256 s = sigmoid_quick256(v);
  __m256 ds = _mm256_mul_ps(_mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(1.702f), v), s), _mm256_sub_ps(_mm256_set1_ps(1.0f), s));
  return _mm256_mul_ps(g, _mm256_add_ps(s, ds));
}

AVX2 static void quick_gelu_backward_avx2(const float *x, const float *g, float *gx, long n) {
  long i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(gx + i, quick_gelu_grad256(_mm256_loadu_ps(x + i), _mm256_loadu_ps(g + i)));
  if (i < n) store_tail(gx + i, quick_gelu_grad256(load_tail(x + i, n - i), load_tail(g + i, n - i)), n - i);
}

AVX2 static inline __m256 gelu_erf256(__m256 v) {
  __m256 c = _mm256_add_ps(_mm256_set1_ps(1.0f), erf256(_mm256_mul_ps(v, _mm256_set1_ps(0.70710678f))));
  return _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(0.5f), v), c);
}

AVX2 static inline __m256 gelu_erf_grad256(__m256 v, __m256 g) {
  __m256 cdf = _mm256_mul_ps(_mm256_set1_ps(0.5f),
    _mm256_add_ps(_mm256_set1_ps(1.0f), erf256(_mm256_mul_ps(v, _mm256_set1_ps(0.70710678f)))));
  __m256 pdf = _mm256_mul_ps(_mm256_set1_ps(0.39894228f), exp256(_mm256_mul_ps(_mm256_set1_ps(-0.5f), _mm256_mul_ps(v, v))));
  return _mm256_mul_ps(g, _mm256_fmadd_ps(v, pdf, cdf));
}

AVX2 static void gelu_erf_forward_avx2(const float *x, float *y, long n) {
  long i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, gelu_erf256(_mm256_loadu_ps(x + i)));
  if (i < n) store_tail(y + i, gelu_erf256(load_tail(x + i, n - i)), n - i);
}

AVX2 static void gelu_erf_backward_avx2(const float *x, const float *g, float *gx, long n) {
  long i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(gx + i, gelu_erf_grad256(_mm256_loadu_ps(x + i), _mm256_loadu_ps(g + i)));
  if (i < n) store_tail(gx + i, gelu_erf_grad256(load_tail(x + i, n - i), load_tail(g + i, n - i)), n - i);
}

AVX2 static inline float hsum256(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
  return _mm_cvtss_f32(s);
}

AVX2 static void layer_norm_row_avx2(const float *x, const float *w, const float *b, float *y, long d, float eps, float *mean, float *rstd) {
  __m256 acc = _mm256_setzero_ps();
  long j = 0;
  for (; j + 8 <= d; j += 8) acc = _mm256_add_ps(acc, _mm256_loadu_ps(x + j));
  float s = hsum256(acc);
  for (; j < d; j++) s += x[j];
  float mu = s / (float)d;
  __m256 vmu = _mm256_set1_ps(mu);
  acc = _mm256_setzero_ps();
  for (j = 0; j + 8 <= d; j += 8) { __m256 c = _mm256_sub_ps(_mm256_loadu_ps(x + j), vmu); acc = _mm256_fmadd_ps(c, c, acc); }
  float v = hsum256(acc);
  for (; j < d; j++) { float c = x[j] - mu; v += c * c; }
  float inv = 1.0f / sqrtf(v / (float)d + eps);
  *mean = mu;
  *rstd = inv;
  __m256 vinv = _mm256_set1_ps(inv);
  for (j = 0; j + 8 <= d; j += 8) {
    __m256 xh = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(x + j), vmu), vinv);
    _mm256_storeu_ps(y + j, _mm256_fmadd_ps(xh, _mm256_loadu_ps(w + j), _mm256_loadu_ps(b + j)));
  }
  for (; j < d; j++) y[j] = (x[j] - mu) * inv * w[j] + b[j];
}

AVX2 static void layer_norm_backward_row_avx2(const float *x, const float *g, const float *w, float mu, float inv, float *gx, long d) {
  __m256 vmu = _mm256_set1_ps(mu), vinv = _mm256_set1_ps(inv), ag = _mm256_setzero_ps(), agx = _mm256_setzero_ps();
  long j = 0;
  for (; j + 8 <= d; j += 8) {
    __m256 gh = _mm256_mul_ps(_mm256_loadu_ps(g + j), _mm256_loadu_ps(w + j));
    ag = _mm256_add_ps(ag, gh);
    agx = _mm256_fmadd_ps(gh, _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(x + j), vmu), vinv), agx);
  }
  float sum_g = hsum256(ag), sum_gx = hsum256(agx);
  for (; j < d; j++) { float gh = g[j] * w[j]; sum_g += gh; sum_gx += gh * (x[j] - mu) * inv; }
  float a = sum_g / (float)d, bb = sum_gx / (float)d;
  __m256 va = _mm256_set1_ps(a), vb = _mm256_set1_ps(bb);
  for (j = 0; j + 8 <= d; j += 8) {
    __m256 xh = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(x + j), vmu), vinv);
    __m256 t = _mm256_sub_ps(_mm256_mul_ps(_mm256_loadu_ps(g + j), _mm256_loadu_ps(w + j)), va);
    _mm256_storeu_ps(gx + j, _mm256_mul_ps(vinv, _mm256_fnmadd_ps(xh, vb, t)));
  }
  for (; j < d; j++) gx[j] = inv * (g[j] * w[j] - a - (x[j] - mu) * inv * bb);
}

AVX2 static void softmax_backward_row_avx2(const float *p, float *d, long n, float scale) {
  __m256 acc = _mm256_setzero_ps();
  long j = 0;
  for (; j + 8 <= n; j += 8) acc = _mm256_fmadd_ps(_mm256_loadu_ps(p + j), _mm256_loadu_ps(d + j), acc);
  float dot = hsum256(acc);
  for (; j < n; j++) dot += p[j] * d[j];
  __m256 vdot = _mm256_set1_ps(dot), vs = _mm256_set1_ps(scale);
  for (j = 0; j + 8 <= n; j += 8) {
    __m256 r = _mm256_mul_ps(_mm256_mul_ps(_mm256_loadu_ps(p + j), _mm256_sub_ps(_mm256_loadu_ps(d + j), vdot)), vs);
    _mm256_storeu_ps(d + j, r);
  }
  for (; j < n; j++) d[j] = p[j] * (d[j] - dot) * scale;
}

static int detect_avx2(void) {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
#else
static int detect_avx2(void) { return 0; }
#define softmax_row_avx2 softmax_row_generic
#define quick_gelu_forward_avx2 quick_gelu_forward_generic
#define quick_gelu_backward_avx2 quick_gelu_backward_generic
#define gelu_erf_forward_avx2 gelu_erf_forward_generic
#define gelu_erf_backward_avx2 gelu_erf_backward_generic
#define layer_norm_row_avx2 layer_norm_row_generic
#define layer_norm_backward_row_avx2 layer_norm_backward_row_generic
#define softmax_backward_row_avx2 softmax_backward_row_generic
#endif

// ---------------------------------------------------------------------------------------------
// Dispatch, detected once per thread; the tests' switch to the portable kernels is per thread
// too, so it never changes the numbers of work running on other threads.

static _Thread_local int avx2_state = -1;

int fm_vector_kernels_avx2(void) {
  if (avx2_state < 0) avx2_state = detect_avx2();
  return avx2_state;
}

void fm_vector_kernels_allow_avx2(int allow) { avx2_state = allow ? detect_avx2() : 0; }

int fm_cpu_has_avx2_fma(void) { return detect_avx2(); }

void fm_softmax_row(const float *x, float *y, long n) {
  if (fm_vector_kernels_avx2()) softmax_row_avx2(x, y, n); else softmax_row_generic(x, y, n);
}

void fm_quick_gelu_forward(const float *x, float *y, long n) {
  if (fm_vector_kernels_avx2()) quick_gelu_forward_avx2(x, y, n); else quick_gelu_forward_generic(x, y, n);
}

void fm_quick_gelu_backward(const float *x, const float *g, float *gx, long n) {
  if (fm_vector_kernels_avx2()) quick_gelu_backward_avx2(x, g, gx, n); else quick_gelu_backward_generic(x, g, gx, n);
}

void fm_gelu_erf_forward(const float *x, float *y, long n) {
  if (fm_vector_kernels_avx2()) gelu_erf_forward_avx2(x, y, n); else gelu_erf_forward_generic(x, y, n);
}

void fm_gelu_erf_backward(const float *x, const float *g, float *gx, long n) {
  if (fm_vector_kernels_avx2()) gelu_erf_backward_avx2(x, g, gx, n); else gelu_erf_backward_generic(x, g, gx, n);
}

void fm_layer_norm_row(const float *x, const float *w, const float *b, float *y, long d, float eps, float *mean, float *rstd) {
  if (fm_vector_kernels_avx2()) layer_norm_row_avx2(x, w, b, y, d, eps, mean, rstd);
  else layer_norm_row_generic(x, w, b, y, d, eps, mean, rstd);
}

void fm_layer_norm_backward_row(const float *x, const float *g, const float *w, float mean, float rstd, float *gx, long d) {
  if (fm_vector_kernels_avx2()) layer_norm_backward_row_avx2(x, g, w, mean, rstd, gx, d);
  else layer_norm_backward_row_generic(x, g, w, mean, rstd, gx, d);
}

void fm_softmax_backward_row(const float *p, float *d, long n, float scale) {
  if (fm_vector_kernels_avx2()) softmax_backward_row_avx2(p, d, n, scale); else softmax_backward_row_generic(p, d, n, scale);
}
