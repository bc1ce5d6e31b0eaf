#ifndef FAIRMED_BF16_GEMM_H
#define FAIRMED_BF16_GEMM_H

#include <stddef.h>
#include <stdint.h>

/// bf16 GEMMs with fp32 accumulation through oneDNN's matmul primitive (FairMed's `--precision
/// bf16`). All matrices are row-major; bf16 values are the upper 16 bits of an IEEE fp32.

/// CPU features the bf16 path needs, read with CPUID/XGETBV (never from oneDNN's guesses).
typedef struct {
  int avx512f;       ///< AVX-512 Foundation, with the OS saving its state (XCR0 opmask/ZMM bits).
  int avx512_bf16;   ///< AVX512_BF16 (vdpbf16ps, vcvtne2ps2bf16): CPUID.(7,1):EAX[5].
  int amx_bf16;      ///< AMX-BF16 tiles: CPUID.(7,0):EDX[22].
} fm_cpu_bf16_features;

fm_cpu_bf16_features fm_cpu_bf16_detect(void);

/// 1 when this build links oneDNN (libdnnl), else 0 (every call below then fails with -1).
int fm_bf16_available(void);

/// oneDNN's version as "major.minor.patch", or "" without it.
const char *fm_dnnl_version(void);

/// fp32 → bf16, round to nearest even (NaN stays NaN): `rows × cols` of `src` (row stride `ld`)
/// into `dst` contiguous (`rows × cols`). With AVX512_BF16 (VCVTNE2PS2BF16, 32 values per
/// instruction) fp32 subnormal inputs read as zero, as in oneDNN's own conversion.
void fm_f32_to_bf16(const float *src, int rows, int cols, int ld, uint16_t *dst);

/// bf16 → fp32 (exact).
void fm_bf16_to_f32(const uint16_t *src, size_t count, float *dst);

/// C[m × n] = alpha · op(A) · op(B) + beta · C, A and B bf16, C fp32, fp32 accumulation.
/// op(A) is `m × k`: stored `m × k` (transA 0) or `k × m` (transA 1) with row stride `lda`;
/// op(B) is `k × n`: stored `k × n` (transB 0) or `n × k` (transB 1) with row stride `ldb`.
/// Runs on the calling thread only (oneDNN's OpenMP threads are set to 1 for it: FairMed's threads
/// split the work); the primitive is created once per shape and cached; its scratchpad is the
/// calling thread's, grown on demand. Returns 0, or a oneDNN status (-1: no oneDNN in this build).
int fm_bf16_matmul(int m, int n, int k, float alpha, const uint16_t *a, int transA, int lda, const uint16_t *b,
                   int transB, int ldb, float beta, float *c, int ldc);

/// The same matmul with fp32 operands (oneDNN's f32 kernels): measured against OpenBLAS by
/// `fairmed-bench` (rows `onednn_f32_*`), not used by training.
int fm_dnnl_f32_matmul(int m, int n, int k, float alpha, const float *a, int transA, int lda, const float *b,
                       int transB, int ldb, float beta, float *c, int ldc);

/// The calling thread's reusable bf16 buffer number `slot` (0 or 1) of at least `count` values
/// (grown on demand, kept for the thread's life); NULL when out of memory.
uint16_t *fm_bf16_buffer(int slot, size_t count);

#endif
