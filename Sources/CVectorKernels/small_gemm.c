#include "vector_kernels.h"

// ---------------------------------------------------------------------------------------------
// Portable kernel: rows of C accumulate rows of B, so the inner loop runs along B's unit stride.

static void small_gemm_generic(long m, long n, long k, float alpha, const float *a, long rsa, long csa,
                               const float *b, long ldb, float beta, float *c, long ldc) {
  for (long i = 0; i < m; i++) {
    float *ci = c + i * ldc;
    if (beta == 0) for (long j = 0; j < n; j++) ci[j] = 0;
    for (long p = 0; p < k; p++) {
      float aip = alpha * a[i * rsa + p * csa];
      const float *bp = b + p * ldb;
      for (long j = 0; j < n; j++) ci[j] += aip * bp[j];
    }
  }
}

static void transpose_generic(long r, long s, const float *src, long lds, float *dst, long ldd) {
  const long block = 16;
  for (long i0 = 0; i0 < r; i0 += block)
    for (long j0 = 0; j0 < s; j0 += block) {
      long i1 = i0 + block < r ? i0 + block : r, j1 = j0 + block < s ? j0 + block : s;
      for (long i = i0; i < i1; i++)
        for (long j = j0; j < j1; j++) dst[j * ldd + i] = src[i * lds + j];
    }
}

// ---------------------------------------------------------------------------------------------
// AVX2 + FMA: a 6 x 16 register tile (12 accumulators), B read in place, A broadcast.

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>
#define AVX2 __attribute__((target("avx2,fma")))

/// Lane mask for the first `count` (0...8) lanes.
AVX2 static inline __m256i lanes(long count) {
  const __m256i index = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)count), index);
}

/// How a tile's columns are loaded: all 16 in place, up to 16 through masks, or up to 8 (one
/// accumulator per row).
enum { FULL = 0, MASKED = 1, HALF = 2 };

/// One tile: `rows` (1...6) rows of C by `cols` (1...16) columns, `mode` as above.
AVX2 __attribute__((always_inline)) static inline void tile(
    const int rows, const int mode, long cols, long k, float alpha, const float *a, long rsa, long csa,
    const float *b, long ldb, float beta, float *c, long ldc) {
  __m256 acc0[6], acc1[6];
  for (int r = 0; r < 6; r++) { acc0[r] = _mm256_setzero_ps(); acc1[r] = _mm256_setzero_ps(); }
  const __m256i m0 = lanes(cols < 8 ? cols : 8), m1 = lanes(cols > 8 ? cols - 8 : 0);
  for (long p = 0; p < k; p++) {
    const float *bp = b + p * ldb;
    __m256 b0 = mode == FULL ? _mm256_loadu_ps(bp) : _mm256_maskload_ps(bp, m0);
    __m256 b1 = mode == FULL ? _mm256_loadu_ps(bp + 8) : mode == MASKED ? _mm256_maskload_ps(bp + 8, m1) : b0;
    const float *ap = a + p * csa;
    for (int r = 0; r < rows; r++) {
      __m256 av = _mm256_broadcast_ss(ap + r * rsa);
      acc0[r] = _mm256_fmadd_ps(av, b0, acc0[r]);
      if (mode != HALF) acc1[r] = _mm256_fmadd_ps(av, b1, acc1[r]);
    }
  }
  const __m256 va = _mm256_set1_ps(alpha);
  for (int r = 0; r < rows; r++) {
    float *cr = c + r * ldc;
    __m256 r0 = _mm256_mul_ps(acc0[r], va), r1 = _mm256_mul_ps(acc1[r], va);
    if (mode == FULL) {
      if (beta != 0) { r0 = _mm256_add_ps(r0, _mm256_loadu_ps(cr)); r1 = _mm256_add_ps(r1, _mm256_loadu_ps(cr + 8)); }
      _mm256_storeu_ps(cr, r0);
      _mm256_storeu_ps(cr + 8, r1);
    } else {
      if (beta != 0) r0 = _mm256_add_ps(r0, _mm256_maskload_ps(cr, m0));
      _mm256_maskstore_ps(cr, m0, r0);
      if (mode == MASKED) {
        if (beta != 0) r1 = _mm256_add_ps(r1, _mm256_maskload_ps(cr + 8, m1));
        _mm256_maskstore_ps(cr + 8, m1, r1);
      }
    }
  }
}

/// Every row block of one column block of C, in `mode`.
#define COLUMN_BLOCK(mode)                                                                        \
  do {                                                                                            \
    long i = 0;                                                                                   \
    for (; i + 6 <= m; i += 6) tile(6, mode, cols, k, alpha, a + i * rsa, rsa, csa, bj, ldb, beta, c + i * ldc + j, ldc); \
    const float *ai = a + i * rsa;                                                                \
    float *ci = c + i * ldc + j;                                                                  \
    switch (m - i) {                                                                              \
    case 5: tile(5, mode, cols, k, alpha, ai, rsa, csa, bj, ldb, beta, ci, ldc); break;          \
    case 4: tile(4, mode, cols, k, alpha, ai, rsa, csa, bj, ldb, beta, ci, ldc); break;          \
    case 3: tile(3, mode, cols, k, alpha, ai, rsa, csa, bj, ldb, beta, ci, ldc); break;          \
    case 2: tile(2, mode, cols, k, alpha, ai, rsa, csa, bj, ldb, beta, ci, ldc); break;          \
    case 1: tile(1, mode, cols, k, alpha, ai, rsa, csa, bj, ldb, beta, ci, ldc); break;          \
    default: break;                                                                               \
    }                                                                                             \
  } while (0)

AVX2 static void small_gemm_avx2(long m, long n, long k, float alpha, const float *a, long rsa, long csa,
                                 const float *b, long ldb, float beta, float *c, long ldc) {
  for (long j = 0; j < n; j += 16) {
    const long cols = n - j < 16 ? n - j : 16;
    const float *bj = b + j;
    if (cols == 16) COLUMN_BLOCK(FULL);
    else if (cols > 8) COLUMN_BLOCK(MASKED);
    else COLUMN_BLOCK(HALF);
  }
}

/// dst (8 x 8, row stride ldd) = the transpose of src (8 x 8, row stride lds).
AVX2 static inline void transpose8x8(const float *src, long lds, float *dst, long ldd) {
  __m256 r[8], t[8], u[8];
  for (int i = 0; i < 8; i++) r[i] = _mm256_loadu_ps(src + i * lds);
  for (int i = 0; i < 8; i += 2) { t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]); t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]); }
  for (int i = 0; i < 8; i += 4) {
    u[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);
    u[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xEE);
    u[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
    u[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
  }
  for (int i = 0; i < 4; i++) {
    _mm256_storeu_ps(dst + i * ldd, _mm256_permute2f128_ps(u[i], u[i + 4], 0x20));
    _mm256_storeu_ps(dst + (i + 4) * ldd, _mm256_permute2f128_ps(u[i], u[i + 4], 0x31));
  }
}

AVX2 static void transpose_avx2(long r, long s, const float *src, long lds, float *dst, long ldd) {
  long r8 = r - r % 8, s8 = s - s % 8;
  for (long i = 0; i < r8; i += 8)
    for (long j = 0; j < s8; j += 8) transpose8x8(src + i * lds + j, lds, dst + j * ldd + i, ldd);
  for (long i = 0; i < r; i++)
    for (long j = i < r8 ? s8 : 0; j < s; j++) dst[j * ldd + i] = src[i * lds + j];
}
#else
#define small_gemm_avx2 small_gemm_generic
#define transpose_avx2 transpose_generic
#endif

void fm_small_gemm(long m, long n, long k, float alpha, const float *a, long rsa, long csa,
                   const float *b, long ldb, float beta, float *c, long ldc) {
  if (m <= 0 || n <= 0) return;
  if (fm_vector_kernels_avx2()) small_gemm_avx2(m, n, k, alpha, a, rsa, csa, b, ldb, beta, c, ldc);
  else small_gemm_generic(m, n, k, alpha, a, rsa, csa, b, ldb, beta, c, ldc);
}

void fm_transpose(long r, long s, const float *src, long lds, float *dst, long ldd) {
  if (fm_vector_kernels_avx2()) transpose_avx2(r, s, src, lds, dst, ldd); else transpose_generic(r, s, src, lds, dst, ldd);
}
