#ifndef FAIRMED_VECTOR_KERNELS_H
#define FAIRMED_VECTOR_KERNELS_H
// Element-wise hot loops with AVX2 + FMA where the CPU has them (chosen at run time: Swift code
// compiles for baseline x86-64, i.e. SSE2 only), and portable loops otherwise. exp is the Cephes
// polynomial of VectorMath.exp, exactly 0 below -87.3; NaN propagates through every kernel.

/// Whether the AVX2 + FMA kernels are in use on this CPU.
int fm_vector_kernels_avx2(void);

/// Whether the CPU has AVX2 and FMA (whatever the calling thread's kernel choice).
int fm_cpu_has_avx2_fma(void);

/// Tests only: 0 forces the portable kernels on the calling thread, 1 restores AVX2 + FMA where
/// the CPU has them.
void fm_vector_kernels_allow_avx2(int allow);

/// y = softmax(x) over one contiguous row of n floats (y may equal x). A NaN anywhere makes the
/// whole row NaN; a row of -inf gives NaN (0/0), as the Swift kernel did.
void fm_softmax_row(const float *x, float *y, long n);

/// y = x * sigmoid(1.702 x) (CLIP's quick GELU).
void fm_quick_gelu_forward(const float *x, float *y, long n);

/// gx = g * d/dx[x * sigmoid(1.702 x)].
void fm_quick_gelu_backward(const float *x, const float *g, float *gx, long n);

/// y = 0.5 x (1 + erf(x / sqrt 2)) (exact GELU; erf by Abramowitz & Stegun 7.1.26).
void fm_gelu_erf_forward(const float *x, float *y, long n);

/// gx = g * (Phi(x) + x phi(x)), the exact GELU's derivative.
void fm_gelu_erf_backward(const float *x, const float *g, float *gx, long n);

/// One layer-norm row: y = (x - mean) * rstd * w + b over d floats, with mean and
/// rstd = 1 / sqrt(var + eps) (biased variance) returned through the pointers.
void fm_layer_norm_row(const float *x, const float *w, const float *b, float *y, long d, float eps, float *mean, float *rstd);

/// The input gradient of one layer-norm row: gx = rstd (g w - mean(g w) - xhat mean(g w xhat)).
void fm_layer_norm_backward_row(const float *x, const float *g, const float *w, float mean, float rstd, float *gx, long d);

/// One row of the softmax backward: d = p (d - sum(p d)) scale, in place.
void fm_softmax_backward_row(const float *p, float *d, long n, float scale);

// ---------------------------------------------------------------------------------------------
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
