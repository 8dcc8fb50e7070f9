"""The C runtime every generated file starts with: the array descriptor, errors, memory and the
scalar helpers that NumPy semantics need (floor division, ``logaddexp``, ``digamma``, ...).

Two flavours share all kernel code and differ only in memory management:

* ``GN_PYTHON`` (``mode="c"``): every buffer is a NumPy array; ``base`` holds a reference to it,
  so outputs go back to Python without a copy and Python fallbacks see ordinary arrays;
* otherwise (``gnomon.export_c``): buffers come from ``malloc`` with a reference count in a
  header in front of the data, and no Python exists at run time.

A kernel has the signature ``int k(gn_ctx *ctx, gn_arr *const *in, gn_arr *out)``: it reads its
inputs, fills ``out[j]`` (allocating with :c:func:`gn_alloc`, or pointing into an input and
retaining its base for a view) and returns 0, or returns -1 with a message in ``ctx->msg``.
"""

from __future__ import annotations

RUNTIME = r"""
#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <stdarg.h>
#include <stdio.h>
#include <math.h>

/* Vector math (glibc's libmvec). With GNOMON_VECMATH defined, on x86-64 with glibc, compiled
   with -fopenmp-simd (and -march for AVX2/AVX-512), the flat elementwise loops are marked
   `omp simd` and the math functions are declared SIMD-enabled, so GCC and Clang call libmvec's
   vector variants (_ZGVdN4v_exp, ...) on whole registers: at most 4 ulp from the correctly
   rounded result, special values (inf, NaN, signed zeros, domain edges) exact. Elsewhere the
   loops are plain C calling the scalar functions: same results to those 4 ulp. No fast-math
   flag is involved: NaN, infinities and signed zeros keep their IEEE semantics. */
#if defined(GNOMON_VECMATH) && defined(__x86_64__) && defined(__GLIBC__) \
    && (defined(__GNUC__) || defined(__clang__))
#define GN_SIMD _Pragma("omp simd")
/* a fused sum's loop: lanes keep partial sums of `acc`, added at the end (reassociation only;
   no fast-math: NaN and infinities propagate as in the sequential sum) */
#define GN_SIMD_ACC _Pragma("omp simd reduction(+:acc)")
#define GN_VDECL(T, F) _Pragma("omp declare simd notinbranch") T F(T);
#define GN_VDECL2(T, F) _Pragma("omp declare simd notinbranch") T F(T, T);
#define GN_VDECLS(F) GN_VDECL(double, F) GN_VDECL(float, F##f)
#define GN_VDECLS2(F) GN_VDECL2(double, F) GN_VDECL2(float, F##f)
GN_VDECLS(exp) GN_VDECLS(log) GN_VDECLS(sin) GN_VDECLS(cos) GN_VDECLS2(pow)
#if __GLIBC_PREREQ(2, 35)
GN_VDECLS(exp2) GN_VDECLS(expm1) GN_VDECLS(log2) GN_VDECLS(log10) GN_VDECLS(log1p)
GN_VDECLS(tan) GN_VDECLS(asin) GN_VDECLS(acos) GN_VDECLS(atan) GN_VDECLS(sinh)
GN_VDECLS(cosh) GN_VDECLS(tanh) GN_VDECLS(asinh) GN_VDECLS(acosh) GN_VDECLS(atanh)
GN_VDECLS(cbrt) GN_VDECLS2(atan2) GN_VDECLS2(hypot)
#endif
#else
#define GN_SIMD
#define GN_SIMD_ACC
#endif

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif
#ifndef M_SQRT1_2
#define M_SQRT1_2 0.70710678118654752440
#endif

#ifndef GN_MAXD
#define GN_MAXD 8
#endif

typedef uint8_t gn_bool;

/* A strided array: byte strides, shape in elements; base owns the memory (NULL: borrowed). */
typedef struct {
    char *data;
    int nd;
    int64_t shape[GN_MAXD];
    int64_t strides[GN_MAXD];
    void *base;
} gn_arr;

typedef struct {
    int code;          /* 0 ok, 1 value/shape error, 2 out of memory, 3 Python error */
    char msg[512];
} gn_ctx;

static inline int gn_fail(gn_ctx *ctx, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->msg, sizeof ctx->msg, fmt, ap);
    va_end(ap);
    if (!ctx->code) ctx->code = 1;
    return -1;
}

static inline int64_t gn_size(const gn_arr *a) {
    int64_t n = 1;
    for (int d = 0; d < a->nd; d++) n *= a->shape[d];
    return n;
}

static inline int gn_is_c_contiguous(const gn_arr *a, int64_t itemsize) {
    int64_t s = itemsize;
    for (int d = a->nd - 1; d >= 0; d--) {
        if (a->shape[d] != 1 && a->strides[d] != s) return 0;
        s *= a->shape[d];
    }
    return 1;
}

static inline void gn_c_strides(gn_arr *a, int64_t itemsize) {
    int64_t s = itemsize;
    for (int d = a->nd - 1; d >= 0; d--) {
        a->strides[d] = s;
        s *= a->shape[d] > 0 ? a->shape[d] : 1;
    }
}

#ifdef GN_PYTHON
static inline void gn_retain(void *base) { Py_XINCREF((PyObject *)base); }
static inline void gn_release(void *base) { Py_XDECREF((PyObject *)base); }
static inline int gn_alloc(gn_ctx *ctx, gn_arr *a, int typenum, int64_t itemsize) {
    npy_intp dims[GN_MAXD > 0 ? GN_MAXD : 1];
    for (int d = 0; d < a->nd; d++) {
        if (a->shape[d] < 0) return gn_fail(ctx, "negative dimensions are not allowed");
        dims[d] = (npy_intp)a->shape[d];
    }
    PyObject *o = PyArray_EMPTY(a->nd, dims, typenum, 0);
    if (o == NULL) { ctx->code = 3; return -1; }
    a->data = PyArray_BYTES((PyArrayObject *)o);
    for (int d = 0; d < a->nd; d++) a->strides[d] = PyArray_STRIDES((PyArrayObject *)o)[d];
    (void)itemsize;
    a->base = o;
    return 0;
}
#else
/* malloc'd block: a 64-byte header holding the reference count, then the data */
static inline void gn_retain(void *base) { if (base) ++*(int64_t *)base; }
static inline void gn_release(void *base) { if (base && --*(int64_t *)base == 0) free(base); }
static inline int gn_alloc(gn_ctx *ctx, gn_arr *a, int typenum, int64_t itemsize) {
    (void)typenum;
    int64_t n = 1;
    for (int d = 0; d < a->nd; d++) {
        if (a->shape[d] < 0) return gn_fail(ctx, "negative dimensions are not allowed");
        n *= a->shape[d];
    }
    char *p = (char *)malloc((size_t)(64 + (n > 0 ? n : 1) * itemsize));
    if (p == NULL) { ctx->code = 2; return gn_fail(ctx, "out of memory"); }
    *(int64_t *)p = 1;
    a->base = p;
    a->data = p + 64;
    gn_c_strides(a, itemsize);
    return 0;
}
#endif

/* n[0:nd] := the broadcast shape of the inputs listed in spec (pairs: input index, bit mask of
   the dimensions to skip, of static length 1), checked like NumPy */
static int gn_broadcast(gn_ctx *ctx, gn_arr *const *in, const int64_t *spec, int na, int nd,
                        int64_t *n) {
    for (int d = 0; d < nd; d++) {
        n[d] = 1;
        for (int a = 0; a < na; a++) {
            int k = (int)spec[2 * a];
            int64_t len = in[k]->shape[d];
            if (((spec[2 * a + 1] >> d) & 1) || len == 1) continue;
            if (n[d] != 1 && n[d] != len)
                return gn_fail(ctx, "operands could not be broadcast together (input %d, "
                               "dimension %d: %lld against %lld)", k, d, (long long)len,
                               (long long)n[d]);
            n[d] = len;
        }
    }
    return 0;
}

/* out := a view of in (same memory), sharing its owner */
static inline void gn_view(gn_arr *out, const gn_arr *in) { *out = *in; gn_retain(out->base); }

/* dst (allocated, same shape) := src, element by element through the strides */
static inline void gn_copy(gn_arr *dst, const gn_arr *src, int64_t itemsize) {
    int nd = src->nd;
    int64_t n = gn_size(src);
    if (n == 0) return;
    int64_t idx[GN_MAXD > 0 ? GN_MAXD : 1];
    for (int d = 0; d < nd; d++) idx[d] = 0;
    for (int64_t k = 0; k < n; k++) {
        int64_t os = 0, od = 0;
        for (int d = 0; d < nd; d++) {
            os += idx[d] * src->strides[d];
            od += idx[d] * dst->strides[d];
        }
        memcpy(dst->data + od, src->data + os, (size_t)itemsize);
        for (int d = nd - 1; d >= 0; d--) { if (++idx[d] < src->shape[d]) break; idx[d] = 0; }
    }
}

/* Python's slice.indices(len): first index, number of elements, step; -1 if step == 0 */
static inline int gn_slice(int64_t len, int has_start, int64_t start, int has_stop, int64_t stop,
                    int has_step, int64_t step, int64_t *o_start, int64_t *o_n,
                    int64_t *o_step) {
    if (!has_step) step = 1;
    if (step == 0) return -1;
    int64_t lower = step > 0 ? 0 : -1, upper = step > 0 ? len : len - 1;
    if (!has_start) start = step > 0 ? lower : upper;
    else { if (start < 0) start += len; if (start < lower) start = lower;
           else if (start > upper) start = upper; }
    if (!has_stop) stop = step > 0 ? upper : lower;
    else { if (stop < 0) stop += len; if (stop < lower) stop = lower;
           else if (stop > upper) stop = upper; }
    int64_t n = 0;
    if (step > 0 && stop > start) n = (stop - start + step - 1) / step;
    if (step < 0 && start > stop) n = (start - stop - step - 1) / (-step);
    *o_start = start; *o_n = n; *o_step = step;
    return 0;
}

/* ---- scalar helpers with NumPy's semantics ---- */
#define GN_INT_DIVMOD(T, NAME)                                                       \
static inline T gn_floordiv_##NAME(T a, T b) {                                       \
    if (b == 0) return 0;                                                            \
    if (b == -1) return (T)((T)0 - a);                                               \
    T q = a / b;                                                                     \
    if ((a % b != 0) && ((a < 0) != (b < 0))) q -= 1;                                \
    return q;                                                                        \
}                                                                                    \
static inline T gn_mod_##NAME(T a, T b) {                                            \
    if (b == 0 || b == -1) return 0;                                                 \
    T r = a % b;                                                                     \
    if (r != 0 && ((r < 0) != (b < 0))) r += b;                                      \
    return r;                                                                        \
}
GN_INT_DIVMOD(int8_t, i8)
GN_INT_DIVMOD(int16_t, i16)
GN_INT_DIVMOD(int32_t, i32)
GN_INT_DIVMOD(int64_t, i64)
#define GN_UINT_DIVMOD(T, NAME)                                                      \
static inline T gn_floordiv_##NAME(T a, T b) { return b == 0 ? 0 : a / b; }          \
static inline T gn_mod_##NAME(T a, T b) { return b == 0 ? 0 : a % b; }
GN_UINT_DIVMOD(uint8_t, u8)
GN_UINT_DIVMOD(uint16_t, u16)
GN_UINT_DIVMOD(uint32_t, u32)
GN_UINT_DIVMOD(uint64_t, u64)

/* NumPy's npy_divmod for floats */
#define GN_FLOAT_DIVMOD(T, S)                                                        \
static inline T gn_fmod_floor##S(T a, T b) {                                         \
    T mod = fmod##S(a, b);                                                           \
    if (!b) return mod;                                                              \
    if (mod) { if ((b < 0) != (mod < 0)) mod += b; }                                 \
    else mod = copysign##S((T)0, b);                                                 \
    return mod;                                                                      \
}                                                                                    \
static inline T gn_floordiv##S(T a, T b) {                                           \
    if (!b) return a / b;                                                            \
    T mod = fmod##S(a, b);                                                           \
    T div = (a - mod) / b;                                                           \
    if (mod) { if ((b < 0) != (mod < 0)) div -= (T)1; }                              \
    T fl;                                                                            \
    if (div) { fl = floor##S(div); if (div - fl > (T)0.5) fl += (T)1; }              \
    else fl = copysign##S((T)0, a / b);                                              \
    return fl;                                                                       \
}                                                                                    \
static inline T gn_logaddexp##S(T x, T y) {                                          \
    if (x == y) return x + (T)0.693147180559945309417232121458176568;                \
    T t = x - y;                                                                     \
    if (t > 0) return x + log1p##S(exp##S(-t));                                      \
    if (t <= 0) return y + log1p##S(exp##S(t));                                      \
    return t;                                                                        \
}                                                                                    \
static inline T gn_logaddexp2##S(T x, T y) {                                         \
    const T ln2 = (T)0.693147180559945309417232121458176568;                         \
    if (x == y) return x + (T)1;                                                     \
    T t = x - y;                                                                     \
    if (t > 0) return x + log1p##S(exp2##S(-t)) / ln2;                               \
    if (t <= 0) return y + log1p##S(exp2##S(t)) / ln2;                               \
    return t;                                                                        \
}                                                                                    \
static inline T gn_max##S(T a, T b) { return (a >= b || isnan(a)) ? a : b; }         \
static inline T gn_min##S(T a, T b) { return (a <= b || isnan(a)) ? a : b; }         \
static inline T gn_expit##S(T x) {                                                   \
    if (x >= 0) return (T)1 / ((T)1 + exp##S(-x));                                   \
    T e = exp##S(x); return e / ((T)1 + e);                                          \
}                                                                                    \
static inline T gn_sign##S(T a) { return a > 0 ? (T)1 : (a < 0 ? (T)-1 : a); }
GN_FLOAT_DIVMOD(double, )
GN_FLOAT_DIVMOD(float, f)

static inline double gn_log1mexp(double x) {
    return x > -0.6931471805599453 ? log(-expm1(x)) : log1p(-exp(x));
}
static inline double gn_xlogy(double x, double y) {
    return (x == 0 && !isnan(y)) ? 0.0 : x * log(y);
}
static inline double gn_xlog1py(double x, double y) {
    return (x == 0 && !isnan(y)) ? 0.0 : x * log1p(y);
}
static inline double gn_digamma(double x) {
    /* reflection for x < 0.5, recurrence up to x >= 6, then the asymptotic series */
    if (isnan(x) || x == -INFINITY) return NAN;
    if (x == 0.0) return signbit(x) ? INFINITY : -INFINITY;
    if (x < 0.0 && floor(x) == x) return NAN;
    double res = 0.0;
    if (x < 0.5) { res = -M_PI / tan(M_PI * x); x = 1.0 - x; }
    while (x < 6.0) { res -= 1.0 / x; x += 1.0; }
    double f = 1.0 / (x * x);
    double t = f * (-1.0 / 12 + f * (1.0 / 120 + f * (-1.0 / 252 + f * (1.0 / 240 + f * (
        -1.0 / 132 + f * (691.0 / 32760 + f * (-1.0 / 12)))))));
    return res + log(x) - 0.5 / x + t;
}
static inline double gn_ndtr(double a) {
    /* Cephes' ndtr, as SciPy computes it */
    if (isnan(a)) return NAN;
    double x = a * M_SQRT1_2, z = fabs(x), y;
    if (z < M_SQRT1_2) y = 0.5 + 0.5 * erf(x);
    else { y = 0.5 * erfc(z); if (x > 0) y = 1.0 - y; }
    return y;
}
"""


#: The module-level part of a Python-mode file: BLAS/LAPACK function pointers, filled by the
#: module's init function from SciPy's exported capsules (``scipy.linalg.cython_blas``).
BLAS_DECLS = r"""
typedef void (*gn_dgemm_t)(char *, char *, int *, int *, int *, double *, double *, int *,
                           double *, int *, double *, double *, int *);
typedef void (*gn_sgemm_t)(char *, char *, int *, int *, int *, float *, float *, int *,
                           float *, int *, float *, float *, int *);
typedef void (*gn_dpotrf_t)(char *, int *, double *, int *, int *);
typedef void (*gn_spotrf_t)(char *, int *, float *, int *, int *);
static gn_dgemm_t gn_dgemm; static gn_sgemm_t gn_sgemm;
static gn_dpotrf_t gn_dpotrf; static gn_spotrf_t gn_spotrf;
"""

#: Names bound in Python mode: (C variable, module, capsule name in its ``__pyx_capi__``).
BLAS_SYMBOLS = (
    ("gn_dgemm", "scipy.linalg.cython_blas", "dgemm"),
    ("gn_sgemm", "scipy.linalg.cython_blas", "sgemm"),
    ("gn_dpotrf", "scipy.linalg.cython_lapack", "dpotrf"),
    ("gn_spotrf", "scipy.linalg.cython_lapack", "spotrf"),
)

#: The exported (no Python) flavour: reference loops, or the system BLAS with -DGNOMON_BLAS.
EXPORT_BLAS = r"""
#ifdef GNOMON_BLAS
void dgemm_(char *, char *, int *, int *, int *, double *, double *, int *, double *, int *,
            double *, double *, int *);
void sgemm_(char *, char *, int *, int *, int *, float *, float *, int *, float *, int *,
            float *, float *, int *);
void dpotrf_(char *, int *, double *, int *, int *);
void spotrf_(char *, int *, float *, int *, int *);
#define gn_dgemm dgemm_
#define gn_sgemm sgemm_
#define gn_dpotrf dpotrf_
#define gn_spotrf spotrf_
#else
/* column-major C := alpha op(A) op(B) + beta C, plain loops (no BLAS needed) */
#define GN_REF_GEMM(T, NAME)                                                            \
static inline void NAME(char *ta, char *tb, int *m, int *n, int *k, T *alpha, T *a, int *lda,  \
                 T *b, int *ldb, T *beta, T *c, int *ldc) {                              \
    int at = (*ta == 'T' || *ta == 't'), bt = (*tb == 'T' || *tb == 't');                \
    for (int j = 0; j < *n; j++)                                                         \
        for (int i = 0; i < *m; i++) {                                                   \
            T s = 0;                                                                     \
            for (int l = 0; l < *k; l++) {                                               \
                T av = at ? a[l + (int64_t)i * *lda] : a[i + (int64_t)l * *lda];         \
                T bv = bt ? b[j + (int64_t)l * *ldb] : b[l + (int64_t)j * *ldb];         \
                s += av * bv;                                                            \
            }                                                                            \
            T *cp = &c[i + (int64_t)j * *ldc];                                           \
            *cp = (*beta == 0 ? (T)0 : *beta * *cp) + *alpha * s;                        \
        }                                                                                \
}
GN_REF_GEMM(double, gn_dgemm)
GN_REF_GEMM(float, gn_sgemm)
/* LAPACK potrf with uplo='U' on a column-major matrix = lower Cholesky of the row-major
   matrix: A(i, j) = a[i * lda + j]; info > 0 if it is not positive definite */
#define GN_REF_POTRF(T, NAME, SQRT)                                                     \
static inline void NAME(char *uplo, int *n, T *a, int *lda, int *info) {                       \
    (void)uplo; *info = 0;                                                               \
    int64_t ld = *lda;                                                                   \
    for (int j = 0; j < *n; j++) {                                                       \
        T d = a[j * ld + j];                                                             \
        for (int k = 0; k < j; k++) d -= a[j * ld + k] * a[j * ld + k];                  \
        if (!(d > 0)) { *info = j + 1; return; }                                         \
        d = SQRT(d); a[j * ld + j] = d;                                                  \
        for (int i = j + 1; i < *n; i++) {                                               \
            T s = a[i * ld + j];                                                         \
            for (int k = 0; k < j; k++) s -= a[i * ld + k] * a[j * ld + k];              \
            a[i * ld + j] = s / d;                                                       \
        }                                                                                \
    }                                                                                    \
}
GN_REF_POTRF(double, gn_dpotrf, sqrt)
GN_REF_POTRF(float, gn_spotrf, sqrtf)
#endif
"""


#: Matrix product and Cholesky on strided row-major operands, over the gemm/potrf above.
BLAS_HELPERS = r"""
/* P (M x N, C-contiguous) := alpha * A @ B for strided A (M x K) and B (K x N); column-major
   BLAS computes P^T = B^T A^T, reading each operand in place when one of its strides is the
   item size (else from a contiguous copy) */
#define GN_MATMUL(T, S, GEMM)                                                           \
static inline int gn_matmul_##S(gn_ctx *ctx, const char *a, int64_t as0, int64_t as1,           \
                         const char *b, int64_t bs0, int64_t bs1, T *p,                  \
                         int64_t M, int64_t N, int64_t K, T alpha) {                     \
    const int64_t isz = sizeof(T);                                                       \
    if (M == 0 || N == 0) return 0;                                                      \
    if (K == 0) { for (int64_t i = 0; i < M * N; i++) p[i] = 0; return 0; }              \
    if (M > 2147483647 || N > 2147483647 || K > 2147483647)                              \
        return gn_fail(ctx, "matrix too large for BLAS");                                \
    T *ta = NULL, *tb = NULL;                                                            \
    char tra, trb; int lda, ldb;                                                         \
    if ((K == 1 || as1 == isz)                                                      \
            && (M == 1 || (as0 > 0 && as0 % isz == 0 && as0 / isz >= K))) { \
        tra = 'N'; lda = (int)(M == 1 ? K : as0 / isz);                                  \
    } else if ((M == 1 || as0 == isz)                                               \
            && (K == 1 || (as1 > 0 && as1 % isz == 0 && as1 / isz >= M))) { \
        tra = 'T'; lda = (int)(K == 1 ? M : as1 / isz);                                  \
    } else {                                                                             \
        ta = (T *)malloc((size_t)(M * K * isz));                                         \
        if (!ta) { ctx->code = 2; return gn_fail(ctx, "out of memory"); }                \
        for (int64_t i = 0; i < M; i++) for (int64_t l = 0; l < K; l++)                  \
            ta[i * K + l] = *(const T *)(a + i * as0 + l * as1);                         \
        a = (const char *)ta; tra = 'N'; lda = (int)K;                                   \
    }                                                                                    \
    if ((N == 1 || bs1 == isz)                                                      \
            && (K == 1 || (bs0 > 0 && bs0 % isz == 0 && bs0 / isz >= N))) { \
        trb = 'N'; ldb = (int)(K == 1 ? N : bs0 / isz);                                  \
    } else if ((K == 1 || bs0 == isz)                                               \
            && (N == 1 || (bs1 > 0 && bs1 % isz == 0 && bs1 / isz >= K))) { \
        trb = 'T'; ldb = (int)(N == 1 ? K : bs1 / isz);                                  \
    } else {                                                                             \
        tb = (T *)malloc((size_t)(K * N * isz));                                         \
        if (!tb) { free(ta); ctx->code = 2; return gn_fail(ctx, "out of memory"); }      \
        for (int64_t l = 0; l < K; l++) for (int64_t j = 0; j < N; j++)                  \
            tb[l * N + j] = *(const T *)(b + l * bs0 + j * bs1);                         \
        b = (const char *)tb; trb = 'N'; ldb = (int)N;                                   \
    }                                                                                    \
    if (lda < 1) lda = 1;                                                                \
    if (ldb < 1) ldb = 1;                                                                \
    int m_ = (int)N, n_ = (int)M, k_ = (int)K, ldc = (int)N;                             \
    T beta0 = 0;                                                                         \
    GEMM(&trb, &tra, &m_, &n_, &k_, &alpha, (T *)b, &ldb, (T *)a, &lda, &beta0, p, &ldc); \
    free(ta); free(tb);                                                                  \
    return 0;                                                                            \
}
GN_MATMUL(double, d, gn_dgemm)
GN_MATMUL(float, s, gn_sgemm)
"""
