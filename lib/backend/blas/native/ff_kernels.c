/*
 * flops-fit native kernels: the element-wise work of a transformer training step (GELU, LayerNorm,
 * softmax, exp, erf) as C loops that gcc vectorises (-O3 -march=native), called from TypeScript
 * through Deno.dlopen by lib/backend/blas/native.ts. Every function has a JavaScript twin in
 * lib/backend/blas/fused_impl.ts with the same formula; tests compare both against tfjs's reference ops.
 *
 * Build (lib/backend/blas/native.ts does it): cc -O3 -march=native -fno-math-errno -fno-trapping-math
 *   -fassociative-math -fno-signed-zeros -freciprocal-math -shared -fPIC -o libff_kernels.so
 *   ff_kernels.c -lm
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FF_API __attribute__((visibility("default")))

#ifdef _OPENMP
#include <omp.h>
static int ff_max_threads(void) { return omp_get_max_threads(); }
static int ff_thread_id(void) { return omp_get_thread_num(); }
static int ff_team_size(void) { return omp_get_num_threads(); }
#else
static int ff_max_threads(void) { return 1; }
static int ff_thread_id(void) { return 0; }
static int ff_team_size(void) { return 1; }
#endif

/* Loops over at least this many floats are split across the OpenMP threads; below it, waking a
 * sleeping thread (OMP_WAIT_POLICY=PASSIVE, tens of µs) costs more than the second core saves. */
#define PAR_MIN 32768

/* expf by range reduction: x = n·ln2 + r, |r| ≤ ln2/2, e^x = 2^n · p(r) with Cephes' degree-6
 * polynomial (relative error ≈ 1e-7). Inputs below EXP_MIN give exactly 0 (as float32 expf
 * underflows), above EXP_MAX are clamped (overflow is not reached by the callers: softmax
 * subtracts the row max, GELU/erf exponents are ≤ 0). */
#define EXP_MIN (-87.33654f)
#define EXP_MAX (88.72283f)
static inline float ff_expf(float x) {
  const float clamped = x < EXP_MIN ? EXP_MIN : (x > EXP_MAX ? EXP_MAX : x);
  const float n = __builtin_rintf(clamped * 1.44269504088896341f);
  float r = clamped - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  const float z = r * r;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * z + r + 1.0f;
  const int32_t bits = ((int32_t)n + 127) << 23;
  float scale;
  memcpy(&scale, &bits, sizeof scale);
  return x < EXP_MIN ? 0.0f : p * scale;
}

/* erf by Abramowitz & Stegun 7.1.26 (absolute error ≤ 1.5e-7), the formula tfjs-cpu's Erf uses:
 * erf(v) = sign(v)·(1 − t·(a1 + t·(a2 + t·(a3 + t·(a4 + t·a5))))·e^(−v²)), t = 1/(1 + p·|v|). */
static inline float ff_erff(float v) {
  const float a = fabsf(v);
  const float t = 1.0f / (1.0f + 0.3275911f * a);
  const float poly =
      t * (0.254829592f + t * (-0.284496736f + t * (1.421413741f + t * (-1.453152027f + t * 1.061405429f))));
  const float e = 1.0f - poly * ff_expf(-a * a);
  return v < 0.0f ? -e : e;
}

FF_API void ff_exp(const float *x, float *y, int64_t n) {
#pragma omp parallel for schedule(static) if (n >= PAR_MIN)
  for (int64_t i = 0; i < n; i++) y[i] = ff_expf(x[i]);
}

FF_API void ff_erf(const float *x, float *y, int64_t n) {
#pragma omp parallel for schedule(static) if (n >= PAR_MIN)
  for (int64_t i = 0; i < n; i++) y[i] = ff_erff(x[i]);
}

#define SQRT1_2 0.70710678118654752f
#define INV_SQRT_2PI 0.39894228040143268f

/* GELU (exact form): y = x·Φ(x), Φ(x) = ½·(1 + erf(x/√2)). */
FF_API void ff_gelu(const float *x, float *y, int64_t n) {
#pragma omp parallel for schedule(static) if (n >= PAR_MIN)
  for (int64_t i = 0; i < n; i++) {
    const float v = x[i];
    y[i] = 0.5f * v * (1.0f + ff_erff(v * SQRT1_2));
  }
}

/* dGELU: dx = dy·(Φ(x) + x·φ(x)), φ(x) = e^(−x²/2)/√(2π). */
FF_API void ff_gelu_grad(const float *x, const float *dy, float *dx, int64_t n) {
#pragma omp parallel for schedule(static) if (n >= PAR_MIN)
  for (int64_t i = 0; i < n; i++) {
    const float v = x[i];
    const float cdf = 0.5f * (1.0f + ff_erff(v * SQRT1_2));
    const float pdf = INV_SQRT_2PI * ff_expf(-0.5f * v * v);
    dx[i] = dy[i] * (cdf + v * pdf);
  }
}

/* LayerNorm over rows of width c: μ = mean(x), σ² = mean((x−μ)²) (biased, as PyTorch),
 * rstd = 1/√(σ² + eps), y = (x − μ)·rstd·g + b. Saves μ and rstd per row for the gradient.
 * Row statistics accumulate in double. */
FF_API void ff_layernorm(const float *x, const float *g, const float *b, float *y, float *mean,
                         float *rstd, int64_t rows, int64_t c, float eps) {
#pragma omp parallel for schedule(static) if (rows * c >= PAR_MIN)
  for (int64_t r = 0; r < rows; r++) {
    const float *xr = x + r * c;
    float *yr = y + r * c;
    double s = 0.0;
    for (int64_t j = 0; j < c; j++) s += xr[j];
    const float mu = (float)(s / (double)c);
    double v = 0.0;
    for (int64_t j = 0; j < c; j++) {
      const float d = xr[j] - mu;
      v += (double)d * d;
    }
    const float rs = (float)(1.0 / sqrt(v / (double)c + (double)eps));
    for (int64_t j = 0; j < c; j++) yr[j] = (xr[j] - mu) * rs * g[j] + b[j];
    mean[r] = mu;
    rstd[r] = rs;
  }
}

/* LayerNorm gradient. x̂ = (x − μ)·rstd, ĝ = dy·g:
 * dx = rstd·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)); dg = Σ_rows dy·x̂; db = Σ_rows dy (dg, db accumulate).
 * Rows are split between the threads; each sums its dg, db share in its own partial, added at the
 * end. Returns 0, or −1 when the partials cannot be allocated. */
FF_API int32_t ff_layernorm_grad(const float *x, const float *g, const float *mean,
                                 const float *rstd, const float *dy, float *dx, double *dg,
                                 double *db, int64_t rows, int64_t c) {
  const int64_t threads = rows * c >= PAR_MIN ? ff_max_threads() : 1;
  double *partial = calloc((size_t)(2 * threads * c), sizeof(double));
  if (partial == NULL) return -1;
#pragma omp parallel num_threads(threads) if (threads > 1)
  {
    const int64_t id = ff_thread_id(), team = ff_team_size();
    double *pg = partial + 2 * id * c, *pb = pg + c;
    for (int64_t r = rows * id / team; r < rows * (id + 1) / team; r++) {
      const float *xr = x + r * c;
      const float *dyr = dy + r * c;
      float *dxr = dx + r * c;
      const float mu = mean[r];
      const float rs = rstd[r];
      float sum_g = 0.0f, sum_gx = 0.0f;
      for (int64_t j = 0; j < c; j++) {
        const float xh = (xr[j] - mu) * rs;
        const float gh = dyr[j] * g[j];
        sum_g += gh;
        sum_gx += gh * xh;
        pg[j] += (double)(dyr[j] * xh);
        pb[j] += (double)dyr[j];
      }
      const float m_g = sum_g / (float)c;
      const float m_gx = sum_gx / (float)c;
      for (int64_t j = 0; j < c; j++) {
        const float xh = (xr[j] - mu) * rs;
        dxr[j] = rs * (dyr[j] * g[j] - m_g - xh * m_gx);
      }
    }
  }
  for (int64_t t = 0; t < threads; t++) {
    for (int64_t j = 0; j < c; j++) {
      dg[j] += partial[2 * t * c + j];
      db[j] += partial[(2 * t + 1) * c + j];
    }
  }
  free(partial);
  return 0;
}

/* Softmax of one row: y = e^(x − max)/Σ e^(x − max) over x[0 .. n) (y may be x). */
static void softmax_row(const float *x, float *y, int64_t n) {
  float m = -INFINITY;
  for (int64_t j = 0; j < n; j++) m = x[j] > m ? x[j] : m;
  float s = 0.0f;
  for (int64_t j = 0; j < n; j++) {
    const float e = ff_expf(x[j] - m);
    y[j] = e;
    s += e;
  }
  const float inv = 1.0f / s;
  for (int64_t j = 0; j < n; j++) y[j] *= inv;
}

/* Softmax over rows of width n: y = e^(x − max)/Σ e^(x − max). */
FF_API void ff_softmax(const float *x, float *y, int64_t rows, int64_t n) {
#pragma omp parallel for schedule(static) if (rows * n >= PAR_MIN)
  for (int64_t r = 0; r < rows; r++) softmax_row(x + r * n, y + r * n, n);
}

/* Softmax gradient from its output: dx = y·(dy − Σ dy·y). */
FF_API void ff_softmax_grad(const float *y, const float *dy, float *dx, int64_t rows, int64_t n) {
#pragma omp parallel for schedule(static) if (rows * n >= PAR_MIN)
  for (int64_t r = 0; r < rows; r++) {
    const float *yr = y + r * n;
    const float *dyr = dy + r * n;
    float *dxr = dx + r * n;
    float s = 0.0f;
    for (int64_t j = 0; j < n; j++) s += dyr[j] * yr[j];
    for (int64_t j = 0; j < n; j++) dxr[j] = yr[j] * (dyr[j] - s);
  }
}

/* Softmax cross-entropy over rows of width n (labels in [0, n), checked by the caller):
 *   lse = m + ln Σ_j e^(z_j − m)  (m = max_j z_j),   p_j = e^(z_j − m) / Σ_j e^(z_j − m),
 *   nll = lse − z_label,   uniform = lse − mean_j z_j  (= −mean_j ln p_j, label smoothing's term).
 * Row sums accumulate in double. */
FF_API void ff_cross_entropy(const float *z, const int32_t *labels, float *probs, float *nll,
                             float *uniform, int64_t rows, int64_t n) {
#pragma omp parallel for schedule(static) if (rows * n >= PAR_MIN)
  for (int64_t r = 0; r < rows; r++) {
    const float *zr = z + r * n;
    float *pr = probs + r * n;
    float m = -INFINITY;
    for (int64_t j = 0; j < n; j++) m = zr[j] > m ? zr[j] : m;
    double s = 0.0, zsum = 0.0;
    for (int64_t j = 0; j < n; j++) {
      const float e = ff_expf(zr[j] - m);
      pr[j] = e;
      s += e;
      zsum += zr[j];
    }
    const float inv = (float)(1.0 / s);
    for (int64_t j = 0; j < n; j++) pr[j] *= inv;
    const double lse = (double)m + log(s);
    nll[r] = (float)(lse - (double)zr[labels[r]]);
    uniform[r] = (float)(lse - zsum / (double)n);
  }
}

/* Its gradient: dz_j = scale·(p_j − ε/n − (1 − ε)·[j = label])  (scale = upstream / rows). */
FF_API void ff_cross_entropy_grad(const float *probs, const int32_t *labels, float *dz, int64_t rows,
                                  int64_t n, float scale, float smoothing) {
  const float off = smoothing / (float)n, on = 1.0f - smoothing;
#pragma omp parallel for schedule(static) if (rows * n >= PAR_MIN)
  for (int64_t r = 0; r < rows; r++) {
    const float *pr = probs + r * n;
    float *dr = dz + r * n;
    for (int64_t j = 0; j < n; j++) dr[j] = scale * (pr[j] - off);
    dr[labels[r]] -= scale * on;
  }
}

/* AdamW (PyTorch's order), h = {lr, beta1, beta2, eps, weight decay, 1 − β1ᵗ, 1 − β2ᵗ, coef}:
 *   g ← coef·g,  m ← β1·m + (1 − β1)·g,  v ← β2·v + (1 − β2)·g²,
 *   p ← p·(1 − lr·λ) − lr · (m / (1 − β1ᵗ)) / (√(v / (1 − β2ᵗ)) + eps) */
FF_API void ff_adamw(const float *p, const float *g, const float *m, const float *v, float *p_out,
                     float *m_out, float *v_out, int64_t n, const double *h) {
  const float lr = (float)h[0], b1 = (float)h[1], b2 = (float)h[2], eps = (float)h[3];
  const float keep = (float)(1.0 - h[0] * h[4]), inv_bias1 = (float)(1.0 / h[5]);
  const float inv_bias2 = (float)(1.0 / h[6]), coef = (float)h[7];
#pragma omp parallel for schedule(static) if (n >= PAR_MIN)
  for (int64_t i = 0; i < n; i++) {
    const float gi = g[i] * coef;
    const float mi = b1 * m[i] + (1.0f - b1) * gi;
    const float vi = b2 * v[i] + (1.0f - b2) * gi * gi;
    m_out[i] = mi;
    v_out[i] = vi;
    p_out[i] = p[i] * keep - lr * ((mi * inv_bias1) / (sqrtf(vi * inv_bias2) + eps));
  }
}

/* Binary ops over a 2-D broadcast plan: out[i·d1 + j] = a[i·sa0 + j·sa1] ⊙ b[i·sb0 + j·sb1],
 * with the inner strides sa1, sb1 in {0, 1} (0 broadcasts). op: 0 add, 1 sub, 2 mul, 3 div. */
#define FF_ROW(EXPR)                                                              \
  do {                                                                            \
    if (sa1 == 1 && sb1 == 1) {                                                   \
      for (int64_t j = 0; j < d1; j++) { const float x = ar[j], y = br[j]; o[j] = (EXPR); } \
    } else if (sa1 == 1) {                                                        \
      const float y = br[0];                                                      \
      for (int64_t j = 0; j < d1; j++) { const float x = ar[j]; o[j] = (EXPR); }  \
    } else if (sb1 == 1) {                                                        \
      const float x = ar[0];                                                      \
      for (int64_t j = 0; j < d1; j++) { const float y = br[j]; o[j] = (EXPR); }  \
    } else {                                                                      \
      const float x = ar[0], y = br[0];                                           \
      for (int64_t j = 0; j < d1; j++) o[j] = (EXPR);                             \
    }                                                                             \
  } while (0)

FF_API void ff_binary2d(int32_t op, const float *a, int64_t sa0, int64_t sa1, const float *b,
                        int64_t sb0, int64_t sb1, float *out, int64_t d0, int64_t d1) {
  /* One long row (same shapes, or a scalar operand): cut it into blocks the threads can share. */
  if (d0 == 1 && d1 >= PAR_MIN) {
    const int64_t block = 8192, blocks = (d1 + block - 1) / block;
#pragma omp parallel for schedule(static)
    for (int64_t k = 0; k < blocks; k++) {
      const int64_t lo = k * block, len = d1 - lo < block ? d1 - lo : block;
      ff_binary2d(op, a + lo * sa1, 0, sa1, b + lo * sb1, 0, sb1, out + lo, 1, len);
    }
    return;
  }
#pragma omp parallel for schedule(static) if (d0 * d1 >= PAR_MIN)
  for (int64_t i = 0; i < d0; i++) {
    const float *ar = a + i * sa0;
    const float *br = b + i * sb0;
    float *o = out + i * d1;
    switch (op) {
      case 0: FF_ROW(x + y); break;
      case 1: FF_ROW(x - y); break;
      case 2: FF_ROW(x * y); break;
      default: FF_ROW(x / y); break;
    }
  }
}

/* Sum of x viewed as [outer, reduce, inner] over the middle axis, times scale (1/reduce for a
 * mean), accumulated in double. Returns 0, or −1 when the partial sums cannot be allocated. */
FF_API int32_t ff_sum3(const float *x, float *out, int64_t outer, int64_t reduce, int64_t inner,
                       float scale) {
  if (inner == 1) {
#pragma omp parallel for schedule(static) if (outer * reduce >= PAR_MIN)
    for (int64_t o = 0; o < outer; o++) {
      const float *xr = x + o * reduce;
      double s = 0.0;
      for (int64_t r = 0; r < reduce; r++) s += xr[r];
      out[o] = (float)(s * scale);
    }
    return 0;
  }
  /* Rows split between the threads, each summing whole rows (contiguous reads) into its own
   * partial; the partials are added at the end (bias gradients: outer 1, reduce B·T, inner C). */
  const int64_t threads = reduce * inner >= PAR_MIN ? ff_max_threads() : 1;
  double *partial = malloc(sizeof(double) * (size_t)(threads * inner));
  if (partial == NULL) return -1;
  for (int64_t o = 0; o < outer; o++) {
    const float *xo = x + o * reduce * inner;
    /* Zeroed here: a team smaller than asked for leaves some partials untouched. */
    memset(partial, 0, sizeof(double) * (size_t)(threads * inner));
#pragma omp parallel num_threads(threads) if (threads > 1)
    {
      const int64_t id = ff_thread_id(), team = ff_team_size();
      const int64_t r0 = reduce * id / team, r1 = reduce * (id + 1) / team;
      double *acc = partial + id * inner;
      for (int64_t r = r0; r < r1; r++) {
        const float *xr = xo + r * inner;
        for (int64_t i = 0; i < inner; i++) acc[i] += xr[i];
      }
    }
    for (int64_t i = 0; i < inner; i++) {
      double s = 0.0;
      for (int64_t t = 0; t < threads; t++) s += partial[t * inner + i];
      out[o * inner + i] = (float)(s * scale);
    }
  }
  free(partial);
  return 0;
}

/* ---- Fused multi-head attention, heads in parallel (OpenMP) ----
 * qkv is (B·T, 3C): q, k, v side by side; head h of batch row b uses columns h·hs .. (h+1)·hs of
 * each, rows b·T .. (b+1)·T, in place (leading dimension 3C). Per (b, h), s = 1/√hs:
 *   forward:  S = s·Q Kᵀ + M,  P = softmax(S),  O = P V
 *   backward: dP = dO Vᵀ,  dV = Pᵀ dO,  dS = P ⊙ (dP − rowsum(dP ⊙ P)),  dQ = s·dS K,  dK = s·dSᵀ Q
 * Each (b, h) is a few products of T×hs and T×T matrices (65×16 for the benchmark ViT): too small
 * for a BLAS call to pay off its packing and dispatch, so they run through small_gemm below, one
 * (b, h) per thread at a time. */
FF_API int32_t ff_threads(void) { return ff_max_threads(); }

/* 8 floats in a vector register (AVX with -march=native; gcc splits it where the CPU has less). */
typedef float v8 __attribute__((vector_size(32)));
/* The same, at any float alignment (loads and stores of rows at arbitrary offsets). */
typedef float v8u __attribute__((vector_size(32), aligned(4)));

static inline v8 load8(const float *p) { return *(const v8u *)p; }
static inline void store8(float *p, v8 v) { *(v8u *)p = v; }
static inline v8 splat8(float x) { return (v8){x, x, x, x, x, x, x, x}; }

/* C = alpha·A·B for small matrices: C m×n (row stride ldc), B k×n (row stride ldb), and A m×k
 * read as A(i, p) = a[i·sai + p·sap] — (sai, sap) = (lda, 1) for A, (1, lda) for a stored Aᵀ.
 * Register tiles of 4 rows × 16 columns (8 vector accumulators), then 4×8, then scalar columns;
 * leftover rows one at a time. Overwrites C. */
static void small_gemm(int64_t m, int64_t n, int64_t k, float alpha, const float *a, int64_t sai,
                       int64_t sap, const float *b, int64_t ldb, float *c, int64_t ldc) {
  const v8 va = splat8(alpha);
  int64_t i = 0;
  for (; i + 4 <= m; i += 4) {
    const float *a0 = a + i * sai, *a1 = a0 + sai, *a2 = a1 + sai, *a3 = a2 + sai;
    float *c0 = c + i * ldc, *c1 = c0 + ldc, *c2 = c1 + ldc, *c3 = c2 + ldc;
    int64_t j = 0;
    for (; j + 16 <= n; j += 16) {
      v8 x00 = {0}, x01 = {0}, x10 = {0}, x11 = {0}, x20 = {0}, x21 = {0}, x30 = {0}, x31 = {0};
      for (int64_t p = 0; p < k; p++) {
        const float *bp = b + p * ldb + j;
        const v8 b0 = load8(bp), b1 = load8(bp + 8);
        const int64_t o = p * sap;
        v8 s = splat8(a0[o]);
        x00 += s * b0;
        x01 += s * b1;
        s = splat8(a1[o]);
        x10 += s * b0;
        x11 += s * b1;
        s = splat8(a2[o]);
        x20 += s * b0;
        x21 += s * b1;
        s = splat8(a3[o]);
        x30 += s * b0;
        x31 += s * b1;
      }
      store8(c0 + j, va * x00);
      store8(c0 + j + 8, va * x01);
      store8(c1 + j, va * x10);
      store8(c1 + j + 8, va * x11);
      store8(c2 + j, va * x20);
      store8(c2 + j + 8, va * x21);
      store8(c3 + j, va * x30);
      store8(c3 + j + 8, va * x31);
    }
    for (; j + 8 <= n; j += 8) {
      v8 x0 = {0}, x1 = {0}, x2 = {0}, x3 = {0};
      for (int64_t p = 0; p < k; p++) {
        const v8 b0 = load8(b + p * ldb + j);
        const int64_t o = p * sap;
        x0 += splat8(a0[o]) * b0;
        x1 += splat8(a1[o]) * b0;
        x2 += splat8(a2[o]) * b0;
        x3 += splat8(a3[o]) * b0;
      }
      store8(c0 + j, va * x0);
      store8(c1 + j, va * x1);
      store8(c2 + j, va * x2);
      store8(c3 + j, va * x3);
    }
    for (; j < n; j++) {
      float x0 = 0.0f, x1 = 0.0f, x2 = 0.0f, x3 = 0.0f;
      for (int64_t p = 0; p < k; p++) {
        const float bv = b[p * ldb + j];
        const int64_t o = p * sap;
        x0 += a0[o] * bv;
        x1 += a1[o] * bv;
        x2 += a2[o] * bv;
        x3 += a3[o] * bv;
      }
      c0[j] = alpha * x0;
      c1[j] = alpha * x1;
      c2[j] = alpha * x2;
      c3[j] = alpha * x3;
    }
  }
  for (; i < m; i++) {
    const float *ar = a + i * sai;
    float *cr = c + i * ldc;
    int64_t j = 0;
    for (; j + 8 <= n; j += 8) {
      v8 x = {0};
      for (int64_t p = 0; p < k; p++) x += splat8(ar[p * sap]) * load8(b + p * ldb + j);
      store8(cr + j, va * x);
    }
    for (; j < n; j++) {
      float x = 0.0f;
      for (int64_t p = 0; p < k; p++) x += ar[p * sap] * b[p * ldb + j];
      cr[j] = alpha * x;
    }
  }
}

/* dst (cols × rows, row stride rows) = srcᵀ, src rows × cols with row stride lds. */
static void transpose_into(const float *src, int64_t lds, int64_t rows, int64_t cols, float *dst) {
  for (int64_t r = 0; r < rows; r++)
    for (int64_t j = 0; j < cols; j++) dst[j * rows + r] = src[r * lds + j];
}

/* Causal attention works in blocks of this many query rows: row block [r0, r0 + BR) sees only
 * key columns [0, r0 + BR), so the products above the diagonal's blocks are never computed
 * (62.5 % of the full T×T work at T = 128). Backward's dK and dV use column blocks of the same
 * size, so every dS entry they read was computed (or is an exact 0 above the diagonal). */
#define CAUSAL_BLOCK 32

/* Forward. probs: (B, H, T, T) out; out: (B·T, C). mask: (T, T) additive, or NULL. causal ≠ 0:
 * key j > query i is excluded (probability exactly 0) and those blocks are skipped.
 * Returns 0, or −1 when the per-thread scratch cannot be allocated. */
FF_API int32_t ff_attention(const float *qkv, const float *mask, float *probs, float *out,
                            int64_t nb, int64_t t, int64_t nh, int64_t c, int32_t causal) {
  const int64_t c3 = 3 * c, hs = c / nh;
  const float scale = 1.0f / sqrtf((float)hs);
  int32_t failed = 0;
#pragma omp parallel
  {
    float *kt = malloc(sizeof(float) * (size_t)(hs * t)); /* Kᵀ of the current head */
    if (kt == NULL) {
#pragma omp atomic write
      failed = 1;
    }
#pragma omp for schedule(static)
    for (int64_t bh = 0; bh < nb * nh; bh++) {
      if (kt == NULL) continue;
      const int64_t b = bh / nh, h = bh % nh;
      const float *q = qkv + b * t * c3 + h * hs;
      float *p = probs + bh * t * t;
      float *o = out + b * t * c + h * hs;
      transpose_into(q + c, c3, t, hs, kt);
      if (!causal) {
        small_gemm(t, t, hs, scale, q, c3, 1, kt, t, p, t); /* S = s·Q Kᵀ */
        if (mask != NULL)
          for (int64_t i = 0; i < t * t; i++) p[i] += mask[i];
        for (int64_t i = 0; i < t; i++) softmax_row(p + i * t, p + i * t, t);
        small_gemm(t, hs, t, 1.0f, p, t, 1, q + 2 * c, c3, o, c); /* O = P V */
        continue;
      }
      for (int64_t r0 = 0; r0 < t; r0 += CAUSAL_BLOCK) {
        const int64_t rn = t - r0 < CAUSAL_BLOCK ? t - r0 : CAUSAL_BLOCK, cols = r0 + rn;
        float *pb = p + r0 * t;
        /* S[r0 : r0+rn, 0 : cols] = s · Q[r0 : r0+rn] K[0 : cols]ᵀ */
        small_gemm(rn, cols, hs, scale, q + r0 * c3, c3, 1, kt, t, pb, t);
        for (int64_t i = 0; i < rn; i++) {
          const int64_t row = r0 + i;
          float *pr = pb + i * t;
          if (mask != NULL)
            for (int64_t j = 0; j <= row; j++) pr[j] += mask[row * t + j];
          softmax_row(pr, pr, row + 1);
          for (int64_t j = row + 1; j < t; j++) pr[j] = 0.0f;
        }
        /* O[r0 : r0+rn] = P[r0 : r0+rn, 0 : cols] V[0 : cols] */
        small_gemm(rn, hs, cols, 1.0f, pb, t, 1, q + 2 * c, c3, o + r0 * c, c);
      }
    }
    free(kt);
  }
  return failed ? -1 : 0;
}

/* Backward. dout: (B·T, C); dqkv: (B·T, 3C) out; causal as in the forward pass (probs then hold
 * exact zeros above the diagonal). dS lives in a per-thread T×T scratch that stays in cache.
 * Returns 0, or −1 when the per-thread scratch cannot be allocated. */
FF_API int32_t ff_attention_grad(const float *qkv, const float *probs, const float *dout,
                                 float *dqkv, int64_t nb, int64_t t, int64_t nh, int64_t c,
                                 int32_t causal) {
  const int64_t c3 = 3 * c, hs = c / nh;
  const float scale = 1.0f / sqrtf((float)hs);
  int32_t failed = 0;
#pragma omp parallel
  {
    float *vt = malloc(sizeof(float) * (size_t)(hs * t)); /* Vᵀ of the current head */
    float *ds = malloc(sizeof(float) * (size_t)(t * t)); /* its dP, then dS */
    if (vt == NULL || ds == NULL) {
#pragma omp atomic write
      failed = 1;
    }
#pragma omp for schedule(static)
    for (int64_t bh = 0; bh < nb * nh; bh++) {
      if (vt == NULL || ds == NULL) continue;
      const int64_t b = bh / nh, h = bh % nh;
      const float *q = qkv + b * t * c3 + h * hs;
      const float *k = q + c;
      const float *p = probs + bh * t * t;
      const float *dO = dout + b * t * c + h * hs;
      float *dq = dqkv + b * t * c3 + h * hs;
      float *dk = dq + c, *dv = dq + 2 * c;
      transpose_into(q + 2 * c, c3, t, hs, vt);
      /* Causal: row blocks see columns [0, r0 + rn); otherwise one block of all T rows. */
      const int64_t block = causal ? CAUSAL_BLOCK : t;
      for (int64_t r0 = 0; r0 < t; r0 += block) {
        const int64_t rn = t - r0 < block ? t - r0 : block, cols = causal ? r0 + rn : t;
        float *db = ds + r0 * t;
        /* dP[r0 : r0+rn, 0 : cols] = dO[r0 : r0+rn] V[0 : cols]ᵀ */
        small_gemm(rn, cols, hs, 1.0f, dO + r0 * c, c, 1, vt, t, db, t);
        for (int64_t i = 0; i < rn; i++) {
          const int64_t row = r0 + i, visible = causal ? row + 1 : t;
          const float *pr = p + row * t;
          float *dr = db + i * t;
          float s = 0.0f;
          for (int64_t j = 0; j < visible; j++) s += dr[j] * pr[j];
          for (int64_t j = 0; j < visible; j++) dr[j] = pr[j] * (dr[j] - s);
          for (int64_t j = visible; j < cols; j++) dr[j] = 0.0f;
        }
        /* dQ[r0 : r0+rn] = s · dS[r0 : r0+rn, 0 : cols] K[0 : cols] */
        small_gemm(rn, hs, cols, scale, db, t, 1, k, c3, dq + r0 * c3, c3);
      }
      for (int64_t c0 = 0; c0 < t; c0 += block) {
        const int64_t cn = t - c0 < block ? t - c0 : block, rows = causal ? t - c0 : t;
        const int64_t first = causal ? c0 : 0;
        /* dK[c0 : c0+cn] = s · dS[first : T, c0 : c0+cn]ᵀ Q[first : T] (A read transposed) */
        small_gemm(cn, hs, rows, scale, ds + first * t + c0, 1, t, q + first * c3, c3,
                   dk + c0 * c3, c3);
        /* dV[c0 : c0+cn] = P[first : T, c0 : c0+cn]ᵀ dO[first : T] */
        small_gemm(cn, hs, rows, 1.0f, p + first * t + c0, 1, t, dO + first * c, c, dv + c0 * c3,
                   c3);
      }
    }
    free(vt);
    free(ds);
  }
  return failed ? -1 : 0;
}

/* Version of this file's interface, checked by the loader. */
FF_API int32_t ff_version(void) { return 10; }
