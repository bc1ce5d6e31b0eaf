#ifndef FAIRMED_SMALL_GEMM_H
#define FAIRMED_SMALL_GEMM_H
// A GEMM for the per-head products of attention (tens to hundreds of rows, 64-wide heads), where
// a BLAS call's fixed costs (packing both operands, zeroing C for beta = 0, call overhead) cost
// more than the product itself. Registers hold a 6 x 16 tile of C; nothing is packed.

/// C = alpha * A * B + beta * C, with beta 0 or 1 (beta 0 never reads C).
///
/// A is m x k with A(i, p) at a[i * rsa + p * csa], so a transposed A is just swapped strides.
/// B is k x n with unit stride along n: B(p, j) at b[p * ldb + j]. C is m x n at c[i * ldc + j].
void fm_small_gemm(long m, long n, long k, float alpha,
                   const float *a, long rsa, long csa,
                   const float *b, long ldb,
                   float beta, float *c, long ldc);

/// dst[j * ldd + i] = src[i * lds + j] for an r x s block of src (dst is s x r).
void fm_transpose(long r, long s, const float *src, long lds, float *dst, long ldd);

#endif
