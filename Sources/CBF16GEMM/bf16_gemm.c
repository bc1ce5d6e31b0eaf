#include "bf16_gemm.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

fm_cpu_bf16_features fm_cpu_bf16_detect(void) {
  fm_cpu_bf16_features f = {0, 0, 0};
#if defined(__x86_64__) || defined(__i386__)
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 27))) return f;  // OSXSAVE
  unsigned lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  int zmmState = (lo & 0xE6) == 0xE6;  // SSE, AVX, opmask, ZMM_Hi256, Hi16_ZMM saved by the OS
  int tileState = (lo & (3u << 17)) == (3u << 17);  // XTILECFG, XTILEDATA
  if (__get_cpuid_max(0, 0) < 7) return f;
  __cpuid_count(7, 0, a, b, c, d);
  f.avx512f = zmmState && (b & (1u << 16));
  f.amx_bf16 = tileState && (d & (1u << 22));
  unsigned maxSub = a;
  if (maxSub >= 1) {
    __cpuid_count(7, 1, a, b, c, d);
    f.avx512_bf16 = f.avx512f && (a & (1u << 5));
  }
#endif
  return f;
}

// Round to nearest even; a NaN keeps its sign and stays a (quiet) NaN (rounding could carry it into
// infinity).
static void convertRowPortable(const uint32_t *s, int cols, uint16_t *o) {
  for (int j = 0; j < cols; j++) {
    uint32_t u = s[j];
    uint32_t rounded = (u + 0x7FFFu + ((u >> 16) & 1u)) >> 16;
    o[j] = (uint16_t)(((u & 0x7FFFFFFFu) > 0x7F800000u) ? ((u >> 16) | 0x40u) : rounded);
  }
}

#if (defined(__x86_64__) || defined(__i386__)) && defined(__clang__)
#include <immintrin.h>
// VCVTNE2PS2BF16: 32 values per instruction, round to nearest even, NaN quieted; like oneDNN's own
// conversion it reads fp32 subnormals as zero (below 1.2e-38: no bf16 GEMM can tell).
__attribute__((target("avx512f,avx512bw,avx512bf16"))) static void convertRowAVX512BF16(const uint32_t *s, int cols,
                                                                                      uint16_t *o) {
  const float *f = (const float *)s;
  int j = 0;
  for (; j + 32 <= cols; j += 32) {
    __m512bh r = _mm512_cvtne2ps_pbh(_mm512_loadu_ps(f + j + 16), _mm512_loadu_ps(f + j));
    _mm512_storeu_si512((void *)(o + j), (__m512i)r);
  }
  convertRowPortable(s + j, cols - j, o + j);
}
#define FM_HAVE_AVX512BF16_KERNEL 1
#endif

typedef void (*rowConverter)(const uint32_t *, int, uint16_t *);
static rowConverter pickConverter(void) {
#ifdef FM_HAVE_AVX512BF16_KERNEL
  if (fm_cpu_bf16_detect().avx512_bf16) return convertRowAVX512BF16;
#endif
  return convertRowPortable;
}

void fm_f32_to_bf16(const float *src, int rows, int cols, int ld, uint16_t *dst) {
  static rowConverter convert;
  if (!convert) convert = pickConverter();  // idempotent: a race stores the same pointer
  for (int i = 0; i < rows; i++) convert((const uint32_t *)(src + (size_t)i * ld), cols, dst + (size_t)i * cols);
}

static __thread uint16_t *buffers[2];
static __thread size_t capacities[2];

uint16_t *fm_bf16_buffer(int slot, size_t count) {
  if (slot < 0 || slot > 1) return NULL;
  if (count > capacities[slot]) {
    free(buffers[slot]);
    size_t bytes = (count * 2 + 63) / 64 * 64;
    buffers[slot] = aligned_alloc(64, bytes);
    capacities[slot] = buffers[slot] ? count : 0;
  }
  return buffers[slot];
}

void fm_bf16_to_f32(const uint16_t *src, size_t count, float *dst) {
  uint32_t *o = (uint32_t *)dst;
  for (size_t i = 0; i < count; i++) o[i] = (uint32_t)src[i] << 16;
}

#if __has_include(<oneapi/dnnl/dnnl.h>)
#include <oneapi/dnnl/dnnl.h>

int fm_bf16_available(void) { return 1; }

const char *fm_dnnl_version(void) {
  static char text[32];
  const dnnl_version_t *v = dnnl_version();
  snprintf(text, sizeof text, "%d.%d.%d", v->major, v->minor, v->patch);
  return text;
}

static dnnl_engine_t engine;
static pthread_once_t engineOnce = PTHREAD_ONCE_INIT;
static dnnl_status_t engineStatus;
static void (*setOMPThreads)(int);

static void makeEngine(void) {
  engineStatus = dnnl_engine_create(&engine, dnnl_cpu, 0);
  // oneDNN runs on OpenMP here: every call runs on one OpenMP thread, FairMed's threads split the work.
  setOMPThreads = (void (*)(int))dlsym(RTLD_DEFAULT, "omp_set_num_threads");
}

// The primitive cache: one matmul primitive per shape, created once (open addressing, never evicted).
typedef struct {
  int f32;  // 1: fp32 operands (the measured alternative to OpenBLAS), 0: bf16
  int m, n, k, transA, lda, transB, ldb, ldc;
  uint32_t alpha, beta;
  dnnl_primitive_t primitive;
  size_t scratchBytes;
} entry;
enum { cacheSize = 4096 };
static entry cache[cacheSize];
static pthread_mutex_t cacheLock = PTHREAD_MUTEX_INITIALIZER;

static uint32_t bits(float x) { uint32_t u; memcpy(&u, &x, 4); return u; }

static dnnl_status_t create(entry *e, float alpha, float beta) {
  dnnl_memory_desc_t aDesc, bDesc, cDesc;
  dnnl_dims_t aDims = {e->m, e->k}, aStrides = {e->lda, 1}, aStridesT = {1, e->lda};
  dnnl_dims_t bDims = {e->k, e->n}, bStrides = {e->ldb, 1}, bStridesT = {1, e->ldb};
  dnnl_dims_t cDims = {e->m, e->n}, cStrides = {e->ldc, 1};
  dnnl_status_t s;
  dnnl_data_type_t type = e->f32 ? dnnl_f32 : dnnl_bf16;
  if ((s = dnnl_memory_desc_init_by_strides(&aDesc, 2, aDims, type, e->transA ? aStridesT : aStrides))) return s;
  if ((s = dnnl_memory_desc_init_by_strides(&bDesc, 2, bDims, type, e->transB ? bStridesT : bStrides))) return s;
  if ((s = dnnl_memory_desc_init_by_strides(&cDesc, 2, cDims, dnnl_f32, cStrides))) return s;
  dnnl_matmul_desc_t desc;
  if ((s = dnnl_matmul_desc_init(&desc, &aDesc, &bDesc, NULL, &cDesc))) return s;
  dnnl_primitive_attr_t attr;
  if ((s = dnnl_primitive_attr_create(&attr))) return s;
  dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user);
  if (alpha != 1.0f) dnnl_primitive_attr_set_output_scales(attr, 1, 0, &alpha);
  dnnl_post_ops_t post = NULL;
  if (beta != 0.0f) {
    dnnl_post_ops_create(&post);
    dnnl_post_ops_append_sum(post, beta);
    dnnl_primitive_attr_set_post_ops(attr, post);
  }
  dnnl_primitive_desc_t pd;
  s = dnnl_primitive_desc_create(&pd, &desc, attr, engine, NULL);
  dnnl_primitive_attr_destroy(attr);
  if (post) dnnl_post_ops_destroy(post);
  if (s) return s;
  const dnnl_memory_desc_t *scratch = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
  e->scratchBytes = scratch ? dnnl_memory_desc_get_size(scratch) : 0;
  s = dnnl_primitive_create(&e->primitive, pd);
  dnnl_primitive_desc_destroy(pd);
  return s;
}

static dnnl_status_t lookup(int f32, int m, int n, int k, int transA, int lda, int transB, int ldb, int ldc, float alpha,
                            float beta, dnnl_primitive_t *primitive, size_t *scratchBytes) {
  uint32_t h = 2166136261u;
  int key[11] = {f32, m, n, k, transA, lda, transB, ldb, ldc, (int)bits(alpha), (int)bits(beta)};
  for (int i = 0; i < 11; i++) h = (h ^ (uint32_t)key[i]) * 16777619u;
  pthread_mutex_lock(&cacheLock);
  dnnl_status_t s = dnnl_success;
  for (unsigned probe = 0; probe < cacheSize; probe++) {
    entry *e = &cache[(h + probe) % cacheSize];
    if (e->primitive && e->f32 == f32 && e->m == m && e->n == n && e->k == k && e->transA == transA && e->lda == lda &&
        e->transB == transB && e->ldb == ldb &&
        e->ldc == ldc && e->alpha == bits(alpha) && e->beta == bits(beta)) {
      *primitive = e->primitive; *scratchBytes = e->scratchBytes;
      pthread_mutex_unlock(&cacheLock);
      return dnnl_success;
    }
    if (!e->primitive) {
      entry fresh = {f32, m, n, k, transA, lda, transB, ldb, ldc, bits(alpha), bits(beta), NULL, 0};
      s = create(&fresh, alpha, beta);
      if (s == dnnl_success) *e = fresh;
      *primitive = fresh.primitive; *scratchBytes = fresh.scratchBytes;
      pthread_mutex_unlock(&cacheLock);
      return s;
    }
  }
  pthread_mutex_unlock(&cacheLock);
  // A full cache: a primitive for this call only.
  return dnnl_out_of_memory;  // 4096 shapes cached: more is a caller's bug, not a workload
}

static __thread dnnl_stream_t stream;
static __thread void *scratchBuffer;
static __thread size_t scratchCapacity;

static int matmul(int f32, int m, int n, int k, float alpha, const void *a, int transA, int lda, const void *b,
                  int transB, int ldb, float beta, float *c, int ldc) {
  pthread_once(&engineOnce, makeEngine);
  if (engineStatus) return engineStatus;
  if (!stream) {
    if (setOMPThreads) setOMPThreads(1);
    dnnl_status_t s = dnnl_stream_create(&stream, engine, dnnl_stream_default_flags);
    if (s) return s;
  }
  dnnl_primitive_t primitive;
  size_t scratchBytes;
  dnnl_status_t s = lookup(f32, m, n, k, transA, lda, transB, ldb, ldc, alpha, beta, &primitive, &scratchBytes);
  if (s) return s;
  if (scratchBytes > scratchCapacity) {
    free(scratchBuffer);
    scratchBuffer = aligned_alloc(64, (scratchBytes + 63) / 64 * 64);
    scratchCapacity = scratchBuffer ? scratchBytes : 0;
    if (!scratchBuffer) return dnnl_out_of_memory;
  }
  dnnl_memory_desc_t aDesc, bDesc, cDesc;
  dnnl_dims_t aDims = {m, k}, aStrides = {lda, 1}, aStridesT = {1, lda};
  dnnl_dims_t bDims = {k, n}, bStrides = {ldb, 1}, bStridesT = {1, ldb};
  dnnl_dims_t cDims = {m, n}, cStrides = {ldc, 1};
  dnnl_data_type_t type = f32 ? dnnl_f32 : dnnl_bf16;
  dnnl_memory_desc_init_by_strides(&aDesc, 2, aDims, type, transA ? aStridesT : aStrides);
  dnnl_memory_desc_init_by_strides(&bDesc, 2, bDims, type, transB ? bStridesT : bStrides);
  dnnl_memory_desc_init_by_strides(&cDesc, 2, cDims, dnnl_f32, cStrides);
  dnnl_memory_desc_t sDesc;
  dnnl_dims_t sDims = {(dnnl_dim_t)scratchBytes};
  dnnl_memory_desc_init_by_tag(&sDesc, 1, sDims, dnnl_u8, dnnl_a);
  dnnl_memory_t memA, memB, memC, memS = NULL;
  dnnl_memory_create(&memA, &aDesc, engine, (void *)a);
  dnnl_memory_create(&memB, &bDesc, engine, (void *)b);
  dnnl_memory_create(&memC, &cDesc, engine, c);
  dnnl_exec_arg_t args[4] = {{DNNL_ARG_SRC, memA}, {DNNL_ARG_WEIGHTS, memB}, {DNNL_ARG_DST, memC}};
  int nargs = 3;
  if (scratchBytes > 0) {
    dnnl_memory_create(&memS, &sDesc, engine, scratchBuffer);
    args[3] = (dnnl_exec_arg_t){DNNL_ARG_SCRATCHPAD, memS};
    nargs = 4;
  }
  s = dnnl_primitive_execute(primitive, stream, nargs, args);
  if (!s) s = dnnl_stream_wait(stream);
  dnnl_memory_destroy(memA); dnnl_memory_destroy(memB); dnnl_memory_destroy(memC);
  if (memS) dnnl_memory_destroy(memS);
  return s;
}

int fm_bf16_matmul(int m, int n, int k, float alpha, const uint16_t *a, int transA, int lda, const uint16_t *b,
                   int transB, int ldb, float beta, float *c, int ldc) {
  return matmul(0, m, n, k, alpha, a, transA, lda, b, transB, ldb, beta, c, ldc);
}

int fm_dnnl_f32_matmul(int m, int n, int k, float alpha, const float *a, int transA, int lda, const float *b,
                       int transB, int ldb, float beta, float *c, int ldc) {
  return matmul(1, m, n, k, alpha, a, transA, lda, b, transB, ldb, beta, c, ldc);
}

#else

int fm_bf16_available(void) { return 0; }
const char *fm_dnnl_version(void) { return ""; }
int fm_bf16_matmul(int m, int n, int k, float alpha, const uint16_t *a, int transA, int lda, const uint16_t *b,
                   int transB, int ldb, float beta, float *c, int ldc) {
  (void)m; (void)n; (void)k; (void)alpha; (void)a; (void)transA; (void)lda; (void)b; (void)transB; (void)ldb;
  (void)beta; (void)c; (void)ldc;
  return -1;
}
int fm_dnnl_f32_matmul(int m, int n, int k, float alpha, const float *a, int transA, int lda, const float *b,
                       int transB, int ldb, float beta, float *c, int ldc) {
  (void)m; (void)n; (void)k; (void)alpha; (void)a; (void)transA; (void)lda; (void)b; (void)transB; (void)ldb;
  (void)beta; (void)c; (void)ldc;
  return -1;
}

#endif
