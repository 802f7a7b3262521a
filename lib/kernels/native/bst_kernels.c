/*
 * bst-lab's own float32 kernels for the tfjs wasm backend (tfjs-backend-wasm 4.22.0), compiled to WebAssembly
 * with SIMD by scripts/build-kernels.sh (Debian clang + lld).
 *
 * The module imports tfjs's own WebAssembly.Memory and works on tensors where they live: every argument is a
 * byte offset into that memory (from the backend's dataIdMap) or a size. So that it can share the memory of
 * another module, this code has NO static data and NO stack: no globals, no string or array constants, no
 * local arrays, no address-taken locals, no libc. The build fails if the linked module has a data section, a
 * global (the stack pointer) or any import other than the memory.
 *
 * Layouts are row-major. "rows x cols" below is the shape of a 2D view.
 */
#include <wasm_simd128.h>

typedef float f32;
typedef int i32;
typedef unsigned u32;

#define EXPORT(name) __attribute__((export_name(#name))) __attribute__((visibility("default")))
#define INLINE static inline __attribute__((always_inline))

/* c + a * b: one fused instruction with relaxed SIMD, a multiply and an add otherwise. */
#if defined(BST_RELAXED_SIMD)
typedef float f32x4_t __attribute__((vector_size(16)));
#define MADD(a, b, c) ((v128_t)__builtin_wasm_relaxed_madd_f32x4((f32x4_t)(a), (f32x4_t)(b), (f32x4_t)(c)))
#else
#define MADD(a, b, c) wasm_f32x4_add((c), wasm_f32x4_mul((a), (b)))
#endif

#define LOAD(p) wasm_v128_load((const void *)(p))
#define STORE(p, v) wasm_v128_store((void *)(p), (v))

/* ------------------------------------------------------------------------------------------------------ */
/* Copies                                                                                                  */
/* ------------------------------------------------------------------------------------------------------ */

/** out[0..n) = x[0..n) (memory.copy). */
EXPORT(bst_copy) void bst_copy(f32 *out, const f32 *x, i32 n) { __builtin_memcpy(out, x, (unsigned)n * 4u); }

/** dst[r * dst_ld + c] = src[r * src_ld + c] for r < rows, c < cols (concat and split along any axis). */
EXPORT(bst_copy2d) void bst_copy2d(f32 *dst, i32 dst_ld, const f32 *src, i32 src_ld, i32 rows, i32 cols) {
  for (i32 r = 0; r < rows; r++) __builtin_memcpy(dst + r * dst_ld, src + r * src_ld, (unsigned)cols * 4u);
}

/** out[r, c] = x[r, c] * s[r] for x rows x cols (a tensor times a mask broadcast along its last axis). */
EXPORT(bst_scale_rows) void bst_scale_rows(f32 *out, const f32 *x, const f32 *s, i32 rows, i32 cols) {
  for (i32 r = 0; r < rows; r++) {
    v128_t v = wasm_f32x4_splat(s[r]);
    const f32 *xr = x + r * cols;
    f32 *o = out + r * cols;
    i32 c = 0;
    for (; c + 4 <= cols; c += 4) STORE(o + c, wasm_f32x4_mul(LOAD(xr + c), v));
    for (; c < cols; c++) o[c] = xr[c] * s[r];
  }
}

/** out = x^T for x rows x cols. */
EXPORT(bst_transpose2d) void bst_transpose2d(f32 *out, const f32 *x, i32 rows, i32 cols) {
  const i32 T = 16; /* tile edge: keeps both sides of a tile in cache */
  for (i32 r0 = 0; r0 < rows; r0 += T) {
    i32 r1 = r0 + T < rows ? r0 + T : rows;
    for (i32 c0 = 0; c0 < cols; c0 += T) {
      i32 c1 = c0 + T < cols ? c0 + T : cols;
      for (i32 r = r0; r < r1; r++)
        for (i32 c = c0; c < c1; c++) out[c * rows + r] = x[r * cols + c];
    }
  }
}

/** out[b] = x[b]^T for `batch` matrices x[b] of rows x cols (batched attention transposes). */
EXPORT(bst_transpose_batched) void bst_transpose_batched(f32 *out, const f32 *x, i32 batch, i32 rows, i32 cols) {
  i32 sz = rows * cols;
  for (i32 b = 0; b < batch; b++) bst_transpose2d(out + b * sz, x + b * sz, rows, cols);
}

/* ------------------------------------------------------------------------------------------------------ */
/* Matrix product                                                                                          */
/* ------------------------------------------------------------------------------------------------------ */

/*
 * C[M, N] (+)= A' B where A' is A (M x K, transA = 0) or A^T (A is K x M, transA = 1), and B is K x N row-major
 * (callers transpose a B^T operand first: bst_matmul does). Register blocks of 4 rows x 8 columns; A is read
 * through strides (sai between rows of A', sak between its columns) so both layouts share one kernel. With
 * `acc` the block adds to C (K is walked in chunks so the B panel in use stays in the L1 cache).
 */
#define MM_INIT(c, p)                                                                                        \
  v128_t c##0 = acc ? LOAD(p) : wasm_f32x4_splat(0), c##1 = acc ? LOAD((p) + 4) : wasm_f32x4_splat(0);
INLINE void mm_4x8(const f32 *A, i32 sai, i32 sak, const f32 *B, i32 ldb, f32 *C, i32 ldc, i32 K, i32 acc) {
  MM_INIT(c0, C) MM_INIT(c1, C + ldc) MM_INIT(c2, C + 2 * ldc) MM_INIT(c3, C + 3 * ldc)
  for (i32 k = 0; k < K; k++) {
    const f32 *b = B + k * ldb;
    v128_t b0 = LOAD(b), b1 = LOAD(b + 4);
    const f32 *a = A + k * sak;
    /* load32_splat: one broadcasting load (vbroadcastss), no shuffle-port work */
    v128_t a0 = wasm_v128_load32_splat(a), a1 = wasm_v128_load32_splat(a + sai);
    v128_t a2 = wasm_v128_load32_splat(a + 2 * sai), a3 = wasm_v128_load32_splat(a + 3 * sai);
    c00 = MADD(a0, b0, c00); c01 = MADD(a0, b1, c01);
    c10 = MADD(a1, b0, c10); c11 = MADD(a1, b1, c11);
    c20 = MADD(a2, b0, c20); c21 = MADD(a2, b1, c21);
    c30 = MADD(a3, b0, c30); c31 = MADD(a3, b1, c31);
  }
  STORE(C, c00); STORE(C + 4, c01);
  STORE(C + ldc, c10); STORE(C + ldc + 4, c11);
  STORE(C + 2 * ldc, c20); STORE(C + 2 * ldc + 4, c21);
  STORE(C + 3 * ldc, c30); STORE(C + 3 * ldc + 4, c31);
}

/* One row x 4 columns. */
INLINE void mm_1x4(const f32 *A, i32 sak, const f32 *B, i32 ldb, f32 *C, i32 K, i32 acc) {
  v128_t c0 = acc ? LOAD(C) : wasm_f32x4_splat(0);
  for (i32 k = 0; k < K; k++) c0 = MADD(wasm_v128_load32_splat(A + k * sak), LOAD(B + k * ldb), c0);
  STORE(C, c0);
}

/* One row x 1 column. */
INLINE void mm_1x1(const f32 *A, i32 sak, const f32 *B, i32 ldb, f32 *C, i32 K, i32 acc) {
  f32 s = acc ? *C : 0;
  for (i32 k = 0; k < K; k++) s += A[k * sak] * B[k * ldb];
  *C = s;
}

/* Rows [i0, i1) of C, columns [j0, N). */
INLINE void mm_edge(const f32 *A, i32 sai, i32 sak, const f32 *B, f32 *C, i32 i0, i32 i1, i32 j0, i32 K, i32 N, i32 acc) {
  for (i32 i = i0; i < i1; i++) {
    const f32 *a = A + i * sai;
    f32 *c = C + i * N;
    i32 j = j0;
    for (; j + 4 <= N; j += 4) mm_1x4(a, sak, B + j, N, c + j, K, acc);
    for (; j < N; j++) mm_1x1(a, sak, B + j, N, c + j, K, acc);
  }
}

/*
 * Pack rows [0, kc) x columns [0, N8) of B (row stride N) panel by panel: panel p (columns 8p .. 8p + 7) becomes
 * kc x 8 contiguous floats at Bp + 8p * kc. A B row stride that is a multiple of 1 KB (N = 256) maps a panel's
 * rows to 4 of the L1's 64 sets; packed, the panel in use is 8 contiguous KB.
 */
INLINE void pack_b(f32 *Bp, const f32 *B, i32 N, i32 kc, i32 N8) {
  for (i32 k = 0; k < kc; k++) {
    const f32 *b = B + k * N;
    f32 *o = Bp + k * 8;
    for (i32 j = 0; j < N8; j += 8) {
      STORE(o + j * kc, LOAD(b + j));
      STORE(o + j * kc + 4, LOAD(b + j + 4));
    }
  }
}

/* Pack 4 adjacent columns of A (K x M, row stride M) for kc rows: Ap[4k .. 4k + 3] = A[k, 0 .. 3]. */
INLINE void pack_at(f32 *Ap, const f32 *A, i32 M, i32 kc) {
  for (i32 k = 0; k < kc; k++) STORE(Ap + 4 * k, LOAD(A + k * M));
}

#define MM_KC 256 /* rows of B per pass: a packed 8-column panel of them is 8 KB */
#define MM_SMALL_B 6144 /* floats (24 KB): a packed B chunk this small fits the 32 KB L1 */

/* Floats of scratch mm_plain needs for N columns (the packed B chunk and one packed A^T panel). */
INLINE i32 mm_scratch_floats(i32 N) { return MM_KC * (N & ~7) + MM_KC * 4; }

/* C = A' B for B K x N row-major; transA as above. `scratch` holds mm_scratch_floats(N) floats. */
static void mm_plain(const f32 *A, const f32 *B, f32 *C, i32 M, i32 K, i32 N, i32 transA, f32 *scratch) {
  i32 sai = transA ? 1 : K, sak = transA ? M : 1;
  i32 M4 = M & ~3, N8 = N & ~7;
  f32 *Bp = scratch, *Ap = scratch + MM_KC * N8;
  for (i32 k0 = 0; k0 < K; k0 += MM_KC) {
    i32 kc = K - k0 < MM_KC ? K - k0 : MM_KC, acc = k0 > 0;
    const f32 *Ak = A + k0 * sak, *Bk = B + k0 * N;
    if (M4 && N8) pack_b(Bp, Bk, N, kc, N8);
    if (transA) {
      /* A^T's 4-row panel, packed, is reused across all column panels */
      for (i32 i = 0; i < M4; i += 4) {
        pack_at(Ap, Ak + i, M, kc);
        for (i32 j = 0; j < N8; j += 8) mm_4x8(Ap, 1, 4, Bp + j * kc, 8, C + i * N + j, N, kc, acc);
      }
    } else if (kc * N8 <= MM_SMALL_B) {
      /* the packed chunk stays in L1: walk A once, each 4-row block against every panel */
      for (i32 i = 0; i < M4; i += 4)
        for (i32 j = 0; j < N8; j += 8) mm_4x8(Ak + i * K, sai, sak, Bp + j * kc, 8, C + i * N + j, N, kc, acc);
    } else {
      /* one panel (8 KB) in L1 at a time, against every row block of A */
      for (i32 j = 0; j < N8; j += 8)
        for (i32 i = 0; i < M4; i += 4) mm_4x8(Ak + i * K, sai, sak, Bp + j * kc, 8, C + i * N + j, N, kc, acc);
    }
    mm_edge(Ak, sai, sak, Bk, C, 0, M4, N8, kc, N, acc); /* last columns of the full row blocks */
    mm_edge(Ak, sai, sak, Bk, C, M4, M, 0, kc, N, acc);  /* last rows */
  }
}

/** Epilogue: C[M, N] += bias[N] (when bias != 0), then activation 0 linear, 1 relu, 2 leaky relu (alpha). */
INLINE void bias_act(f32 *C, i32 M, i32 N, const f32 *bias, i32 act, f32 alpha) {
  if (!bias && act == 0) return;
  v128_t zero = wasm_f32x4_splat(0), va = wasm_f32x4_splat(alpha);
  for (i32 i = 0; i < M; i++) {
    f32 *c = C + i * N;
    i32 j = 0;
    for (; j + 4 <= N; j += 4) {
      v128_t v = LOAD(c + j);
      if (bias) v = wasm_f32x4_add(v, LOAD(bias + j));
      if (act == 1) v = wasm_f32x4_max(v, zero);
      else if (act == 2) v = wasm_v128_bitselect(v, wasm_f32x4_mul(v, va), wasm_f32x4_gt(v, zero));
      STORE(c + j, v);
    }
    for (; j < N; j++) {
      f32 v = c[j];
      if (bias) v += bias[j];
      if (act == 1) v = v > 0 ? v : 0;
      else if (act == 2) v = v > 0 ? v : alpha * v;
      c[j] = v;
    }
  }
}

/**
 * C[M, N] = op(A) op(B) (+ bias[N]) then activation (0 linear, 1 relu, 2 leaky relu with alpha).
 * op(A) = A (M x K) or A^T (A K x M); op(B) = B (K x N) or B^T (B N x K). `scratch` holds
 * bst_matmul_scratch(K, N) floats (B^T is written there first, then the packed panels); `bias` may be 0.
 */
EXPORT(bst_matmul_scratch) i32 bst_matmul_scratch(i32 K, i32 N) { return K * N + mm_scratch_floats(N); }

EXPORT(bst_matmul)
void bst_matmul(f32 *C, const f32 *A, const f32 *B, i32 M, i32 K, i32 N, i32 transA, i32 transB, f32 *scratch,
                const f32 *bias, i32 act, f32 alpha) {
  if (transB) {
    bst_transpose2d(scratch, B, N, K);
    B = scratch;
  }
  if (K == 0) {
    __builtin_memset(C, 0, (unsigned)(M * N) * 4u);
  } else {
    mm_plain(A, B, C, M, K, N, transA, scratch + K * N);
  }
  bias_act(C, M, N, bias, act, alpha);
}

/* ------------------------------------------------------------------------------------------------------ */
/* Reductions, gathers, scatters                                                                           */
/* ------------------------------------------------------------------------------------------------------ */

/** out[n] = sum over m of x[m, n] for x rows x cols (sum over leading axes: bias gradients). */
EXPORT(bst_sum_rows) void bst_sum_rows(f32 *out, const f32 *x, i32 rows, i32 cols) {
  i32 j = 0;
  for (; j + 16 <= cols; j += 16) {
    v128_t s0 = wasm_f32x4_splat(0), s1 = s0, s2 = s0, s3 = s0;
    for (i32 r = 0; r < rows; r++) {
      const f32 *p = x + r * cols + j;
      s0 = wasm_f32x4_add(s0, LOAD(p)); s1 = wasm_f32x4_add(s1, LOAD(p + 4));
      s2 = wasm_f32x4_add(s2, LOAD(p + 8)); s3 = wasm_f32x4_add(s3, LOAD(p + 12));
    }
    STORE(out + j, s0); STORE(out + j + 4, s1); STORE(out + j + 8, s2); STORE(out + j + 12, s3);
  }
  for (; j + 4 <= cols; j += 4) {
    v128_t s = wasm_f32x4_splat(0);
    for (i32 r = 0; r < rows; r++) s = wasm_f32x4_add(s, LOAD(x + r * cols + j));
    STORE(out + j, s);
  }
  for (; j < cols; j++) {
    f32 s = 0;
    for (i32 r = 0; r < rows; r++) s += x[r * cols + j];
    out[j] = s;
  }
}

/** out[r] = sum of row r of x (rows x cols): sums over the last axis. */
EXPORT(bst_sum_last) void bst_sum_last(f32 *out, const f32 *x, i32 rows, i32 cols) {
  for (i32 r = 0; r < rows; r++) {
    const f32 *p = x + r * cols;
    v128_t s = wasm_f32x4_splat(0);
    i32 j = 0;
    for (; j + 4 <= cols; j += 4) s = wasm_f32x4_add(s, LOAD(p + j));
    f32 t = wasm_f32x4_extract_lane(s, 0) + wasm_f32x4_extract_lane(s, 1) + wasm_f32x4_extract_lane(s, 2) +
            wasm_f32x4_extract_lane(s, 3);
    for (; j < cols; j++) t += p[j];
    out[r] = t;
  }
}

/**
 * Row gather: for x viewed as [outer, dim, slice] and idx[n] (already range-checked by the caller),
 * out[o, i, :] = x[o, idx[i], :]. Element size 4 bytes (float32 and int32 alike).
 */
EXPORT(bst_gather) void bst_gather(f32 *out, const f32 *x, const i32 *idx, i32 outer, i32 dim, i32 n, i32 slice) {
  for (i32 o = 0; o < outer; o++) {
    const f32 *xb = x + o * dim * slice;
    for (i32 i = 0; i < n; i++) __builtin_memcpy(out + (o * n + i) * slice, xb + idx[i] * slice, (unsigned)slice * 4u);
  }
}

/**
 * out[s, :] = sum of x[i, :] over i with ids[i] == s, for x n x inner and out numSegments x inner (cleared
 * here). Ids outside [0, numSegments) are dropped, as TensorFlow does.
 */
EXPORT(bst_segment_sum)
void bst_segment_sum(f32 *out, const f32 *x, const i32 *ids, i32 n, i32 inner, i32 numSegments) {
  __builtin_memset(out, 0, (unsigned)(numSegments * inner) * 4u);
  for (i32 i = 0; i < n; i++) {
    i32 s = ids[i];
    if (s < 0 || s >= numSegments) continue;
    f32 *o = out + s * inner;
    const f32 *p = x + i * inner;
    i32 j = 0;
    for (; j + 4 <= inner; j += 4) STORE(o + j, wasm_f32x4_add(LOAD(o + j), LOAD(p + j)));
    for (; j < inner; j++) o[j] += p[j];
  }
}

/* ------------------------------------------------------------------------------------------------------ */
/* Layer normalisation over the last axis                                                                  */
/* ------------------------------------------------------------------------------------------------------ */

INLINE f32 hsum(v128_t v) {
  return wasm_f32x4_extract_lane(v, 0) + wasm_f32x4_extract_lane(v, 1) + wasm_f32x4_extract_lane(v, 2) +
         wasm_f32x4_extract_lane(v, 3);
}

/**
 * y = (x - mean) * rstd * gamma + beta per row of x (rows x d), rstd = 1 / sqrt(var + eps) with the biased
 * variance. Writes mean[rows] and rstd[rows] for the backward pass.
 */
EXPORT(bst_layernorm)
void bst_layernorm(f32 *y, f32 *mean, f32 *rstd, const f32 *x, const f32 *gamma, const f32 *beta, i32 rows, i32 d,
                   f32 eps) {
  f32 inv = 1.0f / (f32)d;
  for (i32 r = 0; r < rows; r++) {
    const f32 *p = x + r * d;
    f32 *q = y + r * d;
    v128_t s = wasm_f32x4_splat(0);
    i32 j = 0;
    for (; j + 4 <= d; j += 4) s = wasm_f32x4_add(s, LOAD(p + j));
    f32 mu = hsum(s);
    for (; j < d; j++) mu += p[j];
    mu *= inv;
    v128_t vm = wasm_f32x4_splat(mu), s2 = wasm_f32x4_splat(0);
    for (j = 0; j + 4 <= d; j += 4) {
      v128_t c = wasm_f32x4_sub(LOAD(p + j), vm);
      s2 = MADD(c, c, s2);
    }
    f32 var = hsum(s2);
    for (; j < d; j++) var += (p[j] - mu) * (p[j] - mu);
    f32 rs = 1.0f / __builtin_sqrtf(var * inv + eps);
    mean[r] = mu;
    rstd[r] = rs;
    v128_t vr = wasm_f32x4_splat(rs);
    for (j = 0; j + 4 <= d; j += 4) {
      v128_t nrm = wasm_f32x4_mul(wasm_f32x4_sub(LOAD(p + j), vm), vr);
      STORE(q + j, MADD(nrm, LOAD(gamma + j), LOAD(beta + j)));
    }
    for (; j < d; j++) q[j] = (p[j] - mu) * rs * gamma[j] + beta[j];
  }
}

/**
 * Gradient of bst_layernorm: dx (rows x d), dgamma[d], dbeta[d] from dy, x, gamma and the saved mean/rstd.
 * dx = rstd * (g - mean(g) - xhat * mean(g * xhat)) with g = dy * gamma and xhat = (x - mean) * rstd.
 */
EXPORT(bst_layernorm_grad)
void bst_layernorm_grad(f32 *dx, f32 *dgamma, f32 *dbeta, const f32 *dy, const f32 *x, const f32 *gamma,
                        const f32 *mean, const f32 *rstd, i32 rows, i32 d) {
  f32 inv = 1.0f / (f32)d;
  __builtin_memset(dgamma, 0, (unsigned)d * 4u);
  __builtin_memset(dbeta, 0, (unsigned)d * 4u);
  for (i32 r = 0; r < rows; r++) {
    const f32 *p = x + r * d, *g = dy + r * d;
    f32 *o = dx + r * d;
    v128_t vm = wasm_f32x4_splat(mean[r]), vr = wasm_f32x4_splat(rstd[r]);
    v128_t sg = wasm_f32x4_splat(0), sgx = sg;
    i32 j = 0;
    for (; j + 4 <= d; j += 4) {
      v128_t xh = wasm_f32x4_mul(wasm_f32x4_sub(LOAD(p + j), vm), vr);
      v128_t dyj = LOAD(g + j);
      v128_t gj = wasm_f32x4_mul(dyj, LOAD(gamma + j));
      sg = wasm_f32x4_add(sg, gj);
      sgx = MADD(gj, xh, sgx);
      STORE(dgamma + j, MADD(dyj, xh, LOAD(dgamma + j)));
      STORE(dbeta + j, wasm_f32x4_add(LOAD(dbeta + j), dyj));
    }
    f32 tg = hsum(sg), tgx = hsum(sgx);
    for (; j < d; j++) {
      f32 xh = (p[j] - mean[r]) * rstd[r];
      f32 gj = g[j] * gamma[j];
      tg += gj;
      tgx += gj * xh;
      dgamma[j] += g[j] * xh;
      dbeta[j] += g[j];
    }
    f32 mg = tg * inv, mgx = tgx * inv, rs = rstd[r];
    v128_t vmg = wasm_f32x4_splat(mg), vmgx = wasm_f32x4_splat(mgx);
    for (j = 0; j + 4 <= d; j += 4) {
      v128_t xh = wasm_f32x4_mul(wasm_f32x4_sub(LOAD(p + j), vm), vr);
      v128_t gj = wasm_f32x4_mul(LOAD(g + j), LOAD(gamma + j));
      v128_t t = wasm_f32x4_sub(wasm_f32x4_sub(gj, vmg), wasm_f32x4_mul(xh, vmgx));
      STORE(o + j, wasm_f32x4_mul(t, vr));
    }
    for (; j < d; j++) {
      f32 xh = (p[j] - mean[r]) * rs;
      o[j] = rs * (g[j] * gamma[j] - mg - xh * mgx);
    }
  }
}

/* ------------------------------------------------------------------------------------------------------ */
/* Element-wise                                                                                            */
/* ------------------------------------------------------------------------------------------------------ */

/** y = x > 0 ? x : alpha * x (leaky relu; relu for alpha 0). */
EXPORT(bst_leaky) void bst_leaky(f32 *y, const f32 *x, i32 n, f32 alpha) {
  v128_t zero = wasm_f32x4_splat(0), va = wasm_f32x4_splat(alpha);
  i32 j = 0;
  for (; j + 4 <= n; j += 4) {
    v128_t v = LOAD(x + j);
    STORE(y + j, wasm_v128_bitselect(v, wasm_f32x4_mul(v, va), wasm_f32x4_gt(v, zero)));
  }
  for (; j < n; j++) y[j] = x[j] > 0 ? x[j] : alpha * x[j];
}

/** dx = dy * (x > 0 ? 1 : alpha): the gradient of a leaky relu (x may also be its output: same sign). */
EXPORT(bst_leaky_grad) void bst_leaky_grad(f32 *dx, const f32 *dy, const f32 *x, i32 n, f32 alpha) {
  v128_t zero = wasm_f32x4_splat(0), va = wasm_f32x4_splat(alpha);
  i32 j = 0;
  for (; j + 4 <= n; j += 4) {
    v128_t g = LOAD(dy + j);
    STORE(dx + j, wasm_v128_bitselect(g, wasm_f32x4_mul(g, va), wasm_f32x4_gt(LOAD(x + j), zero)));
  }
  for (; j < n; j++) dx[j] = x[j] > 0 ? dy[j] : alpha * dy[j];
}

/* e^x for 4 lanes with x <= 0 (softmax after subtracting the row maximum), 0 below -87: Cephes' expf polynomial
 * after reducing by powers of two; relative error ~1e-7. (No libc here.) */
INLINE v128_t exp4_nonpos(v128_t x) {
  v128_t keep = wasm_f32x4_ge(x, wasm_f32x4_splat(-87.0f));
  x = wasm_f32x4_max(x, wasm_f32x4_splat(-87.0f));
  v128_t n = wasm_f32x4_floor(wasm_f32x4_add(wasm_f32x4_mul(x, wasm_f32x4_splat(1.44269504088896341f)), wasm_f32x4_splat(0.5f)));
  v128_t r = wasm_f32x4_add(wasm_f32x4_sub(x, wasm_f32x4_mul(n, wasm_f32x4_splat(0.693359375f))),
                            wasm_f32x4_mul(n, wasm_f32x4_splat(2.12194440e-4f)));
  v128_t p = wasm_f32x4_splat(1.9875691500E-4f);
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(1.3981999507E-3f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(8.3334519073E-3f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(4.1665795894E-2f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(1.6666665459E-1f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(5.0000001201E-1f));
  v128_t e = wasm_f32x4_add(wasm_f32x4_add(wasm_f32x4_mul(wasm_f32x4_mul(p, r), r), r), wasm_f32x4_splat(1.0f));
  v128_t two_n = wasm_i32x4_shl(wasm_i32x4_add(wasm_i32x4_trunc_sat_f32x4(n), wasm_i32x4_splat(127)), 23);
  return wasm_v128_and(wasm_f32x4_mul(e, two_n), keep);
}

/* xt[e * Lp + j] = x[j * D + e] for j < L, e < dh, and 0 for L <= j < Lp: one head's [L, dh] slice of a [L, D]
 * sample, transposed, its rows padded to Lp (a multiple of 4) so that products over it need no scalar tail. */
INLINE void head_transpose(f32 *xt, const f32 *x, i32 L, i32 Lp, i32 D, i32 dh) {
  for (i32 e = 0; e < dh; e++) {
    f32 *o = xt + e * Lp;
    for (i32 j = 0; j < L; j++) o[j] = x[j * D + e];
    for (i32 j = L; j < Lp; j++) o[j] = 0;
  }
}

/* 4 rows x 4 columns (mm_4x8's half, for a last 4-wide column chunk). */
INLINE void mm_4x4(const f32 *A, i32 sai, i32 sak, const f32 *B, i32 ldb, f32 *C, i32 ldc, i32 K) {
  v128_t c0 = wasm_f32x4_splat(0), c1 = c0, c2 = c0, c3 = c0;
  for (i32 k = 0; k < K; k++) {
    v128_t b = LOAD(B + k * ldb);
    const f32 *a = A + k * sak;
    c0 = MADD(wasm_v128_load32_splat(a), b, c0);
    c1 = MADD(wasm_v128_load32_splat(a + sai), b, c1);
    c2 = MADD(wasm_v128_load32_splat(a + 2 * sai), b, c2);
    c3 = MADD(wasm_v128_load32_splat(a + 3 * sai), b, c3);
  }
  STORE(C, c0); STORE(C + ldc, c1); STORE(C + 2 * ldc, c2); STORE(C + 3 * ldc, c3);
}

/*
 * The per-head products of attention: out[i * ldo + c] = sum over k < K of A[i * sai + k * sak] * B[k * ldb + c]
 * for i < M and c < N, reading and writing in place (B and out may be a head's columns of a [L, D] tensor). Four
 * rows at a time, so 4-8 independent accumulators hide the multiply-add latency that one row's short dot
 * products would wait on; the last N % 4 columns (a head width such as 18) run as scalar chains, 4 rows at once.
 */
static void head_mm(f32 *out, i32 ldo, const f32 *A, i32 sai, i32 sak, const f32 *B, i32 ldb, i32 M, i32 K, i32 N) {
  i32 N4 = N & ~3, i = 0;
  for (; i + 4 <= M; i += 4) {
    const f32 *a = A + i * sai;
    f32 *o = out + i * ldo;
    i32 c = 0;
    for (; c + 8 <= N4; c += 8) mm_4x8(a, sai, sak, B + c, ldb, o + c, ldo, K, 0);
    if (c < N4) mm_4x4(a, sai, sak, B + c, ldb, o + c, ldo, K);
    for (c = N4; c < N; c++) {
      f32 s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (i32 k = 0; k < K; k++) {
        f32 bk = B[k * ldb + c];
        const f32 *ak = a + k * sak;
        s0 += ak[0] * bk; s1 += ak[sai] * bk; s2 += ak[2 * sai] * bk; s3 += ak[3 * sai] * bk;
      }
      o[c] = s0; o[ldo + c] = s1; o[2 * ldo + c] = s2; o[3 * ldo + c] = s3;
    }
  }
  for (; i < M; i++) {
    i32 c = 0;
    for (; c < N4; c += 4) mm_1x4(A + i * sai, sak, B + c, ldb, out + i * ldo + c, K, 0);
    for (; c < N; c++) mm_1x1(A + i * sai, sak, B + c, ldb, out + i * ldo + c, K, 0);
  }
}

#define ATT_PAD4(n) (((n) + 3) & ~3)

/*
 * Multi-head scaled dot-product attention over the L positions of each sample (never across the batch).
 * q, k, v, ctx: [B, L, D] with head h in columns [h*dh, (h+1)*dh); mask [B, L] (1 real, 0 padding: such keys
 * get score - 1e9, as the tfjs formulation adds); probs [B, H, L, L] is saved for the gradient. `scratch` holds
 * bst_attention_scratch(L, D / H) floats: per head, its keys transposed and its scores, rows padded to a
 * multiple of 4.
 */
EXPORT(bst_attention_scratch) i32 bst_attention_scratch(i32 L, i32 dh) {
  return dh * ATT_PAD4(L) + L * ATT_PAD4(L);
}
EXPORT(bst_attention)
void bst_attention(f32 *ctx, f32 *probs, const f32 *q, const f32 *k, const f32 *v, const f32 *mask, i32 B, i32 L, i32 D,
                   i32 H, f32 scale, f32 *scratch) {
  i32 dh = D / H, Lp = ATT_PAD4(L);
  f32 *kt = scratch, *s = kt + dh * Lp;
  v128_t vscale = wasm_f32x4_splat(scale), one = wasm_f32x4_splat(1.0f), big = wasm_f32x4_splat(-1.0e9f);
  v128_t lowest = wasm_f32x4_splat(-3.0e38f);
  for (i32 b = 0; b < B; b++) {
    const f32 *qb = q + b * L * D, *kb = k + b * L * D, *vb = v + b * L * D, *mb = mask + b * L;
    for (i32 h = 0; h < H; h++) {
      f32 *pbh = probs + (b * H + h) * L * L;
      head_transpose(kt, kb + h * dh, L, Lp, D, dh);
      head_mm(s, Lp, qb + h * dh, D, 1, kt, Lp, L, dh, Lp); /* q k^T, rows padded to Lp */
      for (i32 i = 0; i < L; i++) {
        f32 *p = s + i * Lp;
        v128_t vmx = lowest;
        for (i32 j = 0; j < Lp; j += 4) {
          v128_t sc;
          if (j + 4 <= L) {
            sc = wasm_f32x4_add(wasm_f32x4_mul(LOAD(p + j), vscale), wasm_f32x4_mul(wasm_f32x4_sub(one, LOAD(mb + j)), big));
          } else { /* the last chunk: keys past L score the lowest float, so their weight is 0 */
            for (i32 t = j; t < j + 4; t++) p[t] = t < L ? p[t] * scale + (1.0f - mb[t]) * -1.0e9f : -3.0e38f;
            sc = LOAD(p + j);
          }
          STORE(p + j, sc);
          vmx = wasm_f32x4_max(vmx, sc);
        }
        vmx = wasm_f32x4_max(vmx, wasm_i32x4_shuffle(vmx, vmx, 2, 3, 0, 1));
        vmx = wasm_f32x4_max(vmx, wasm_i32x4_shuffle(vmx, vmx, 1, 0, 3, 2));
        v128_t vz = wasm_f32x4_splat(0);
        for (i32 j = 0; j < Lp; j += 4) {
          v128_t e = exp4_nonpos(wasm_f32x4_sub(LOAD(p + j), vmx));
          STORE(p + j, e);
          vz = wasm_f32x4_add(vz, e);
        }
        vz = wasm_f32x4_add(vz, wasm_i32x4_shuffle(vz, vz, 2, 3, 0, 1));
        vz = wasm_f32x4_add(vz, wasm_i32x4_shuffle(vz, vz, 1, 0, 3, 2));
        v128_t iz = wasm_f32x4_div(one, vz);
        for (i32 j = 0; j < Lp; j += 4) STORE(p + j, wasm_f32x4_mul(LOAD(p + j), iz));
        for (i32 j = 0; j < L; j++) pbh[i * L + j] = p[j];
      }
      head_mm(ctx + b * L * D + h * dh, D, s, Lp, 1, vb + h * dh, D, L, L, dh); /* P v */
    }
  }
}

/**
 * Gradient of bst_attention: dq, dk, dv [B, L, D] from dctx and the saved probs. With dP = dctx v^T,
 * dS = P * (dP - rowsum(P * dP)): dq = scale dS k, dk = scale dS^T q, dv = P^T dctx. `scratch` holds
 * bst_attention_grad_scratch(L, D / H) floats (no stack here): per head, its values transposed and dS, rows
 * padded to a multiple of 4.
 */
EXPORT(bst_attention_grad_scratch) i32 bst_attention_grad_scratch(i32 L, i32 dh) {
  return dh * ATT_PAD4(L) + L * ATT_PAD4(L);
}
EXPORT(bst_attention_grad)
void bst_attention_grad(f32 *dq, f32 *dk, f32 *dv, f32 *scratch, const f32 *dctx, const f32 *probs, const f32 *q, const f32 *k,
                        const f32 *v, i32 B, i32 L, i32 D, i32 H, f32 scale) {
  i32 dh = D / H, Lp = ATT_PAD4(L);
  f32 *vt = scratch, *ds = vt + dh * Lp;
  for (i32 b = 0; b < B; b++) {
    i32 off = b * L * D;
    for (i32 h = 0; h < H; h++) {
      const f32 *pbh = probs + (b * H + h) * L * L;
      i32 col = off + h * dh;
      head_transpose(vt, v + col, L, Lp, D, dh);
      head_mm(ds, Lp, dctx + col, D, 1, vt, Lp, L, dh, Lp); /* dP = dctx v^T */
      for (i32 i = 0; i < L; i++) {
        const f32 *p = pbh + i * L;
        f32 *row = ds + i * Lp;
        i32 j = 0;
        v128_t vdot = wasm_f32x4_splat(0);
        for (; j + 4 <= L; j += 4) vdot = MADD(LOAD(p + j), LOAD(row + j), vdot);
        f32 dot = wasm_f32x4_extract_lane(vdot, 0) + wasm_f32x4_extract_lane(vdot, 1) + wasm_f32x4_extract_lane(vdot, 2) +
                  wasm_f32x4_extract_lane(vdot, 3);
        for (; j < L; j++) dot += p[j] * row[j];
        v128_t vd = wasm_f32x4_splat(dot), vscale = wasm_f32x4_splat(scale);
        for (j = 0; j + 4 <= L; j += 4) /* dS_ij */
          STORE(row + j, wasm_f32x4_mul(wasm_f32x4_mul(LOAD(p + j), wasm_f32x4_sub(LOAD(row + j), vd)), vscale));
        for (; j < L; j++) row[j] = p[j] * (row[j] - dot) * scale;
      }
      head_mm(dq + col, D, ds, Lp, 1, k + col, D, L, L, dh);    /* dS k */
      head_mm(dk + col, D, ds, 1, Lp, q + col, D, L, L, dh);    /* dS^T q */
      head_mm(dv + col, D, pbh, 1, L, dctx + col, D, L, L, dh); /* P^T dctx */
    }
  }
}

/*
 * Dropout with a counter-based hash instead of a stored generator: element j is kept when
 * u(j) = (mix(j * 0x9E3779B9 + seed) >> 8) / 2^24 >= rate, and kept values are scaled by `scale`. The same
 * (seed, rate) gives the same mask, so the gradient is the same call applied to dy. mix is the lowbias32
 * integer finaliser; lib/kernels/fused.ts has the bit-identical JavaScript reference.
 */
INLINE v128_t mix4(v128_t h) {
  h = wasm_v128_xor(h, wasm_u32x4_shr(h, 16));
  h = wasm_i32x4_mul(h, wasm_i32x4_splat(0x7feb352d));
  h = wasm_v128_xor(h, wasm_u32x4_shr(h, 15));
  h = wasm_i32x4_mul(h, wasm_i32x4_splat((i32)0x846ca68b));
  return wasm_v128_xor(h, wasm_u32x4_shr(h, 16));
}
INLINE u32 mix1(u32 h) {
  h ^= h >> 16;
  h *= 0x7feb352du;
  h ^= h >> 15;
  h *= 0x846ca68bu;
  return h ^ (h >> 16);
}

/** y = keep(j) ? x * scale : 0 (see above). */
EXPORT(bst_dropout) void bst_dropout(f32 *y, const f32 *x, i32 n, u32 seed, f32 rate, f32 scale) {
  v128_t vs = wasm_f32x4_splat(scale), vr = wasm_f32x4_splat(rate), vseed = wasm_i32x4_splat((i32)seed);
  v128_t golden = wasm_i32x4_splat((i32)0x9E3779B9u), inv = wasm_f32x4_splat(1.0f / 16777216.0f);
  i32 j = 0;
  for (; j + 4 <= n; j += 4) {
    v128_t idx = wasm_i32x4_add(wasm_i32x4_splat(j), wasm_i32x4_make(0, 1, 2, 3));
    v128_t h = mix4(wasm_i32x4_add(wasm_i32x4_mul(idx, golden), vseed));
    v128_t u = wasm_f32x4_mul(wasm_f32x4_convert_i32x4(wasm_u32x4_shr(h, 8)), inv);
    v128_t keep = wasm_f32x4_ge(u, vr);
    STORE(y + j, wasm_v128_and(wasm_f32x4_mul(LOAD(x + j), vs), keep));
  }
  for (; j < n; j++) {
    u32 h = mix1((u32)j * 0x9E3779B9u + seed);
    f32 u = (f32)(h >> 8) * (1.0f / 16777216.0f);
    y[j] = u >= rate ? x[j] * scale : 0.0f;
  }
}

/**
 * Adam (tfjs's formulation): m' = b1 m + (1 - b1) g; v' = b2 v + (1 - b2) g^2;
 * p' = p - lr * (m' / c1) / (sqrt(v' / c2) + eps) with c1 = 1 - b1^t, c2 = 1 - b2^t. p2/m2/v2 may alias
 * p/m/v (in place). The gradient is g, or, when g2 is non-null, wa * g + wb * g2 (a two-rank average, computed
 * with the same operations on every rank).
 */
EXPORT(bst_adam)
void bst_adam(f32 *p2, f32 *m2, f32 *v2, const f32 *p, const f32 *m, const f32 *v, const f32 *g, const f32 *g2,
              f32 wa, f32 wb, i32 n, f32 lr, f32 b1, f32 b2, f32 eps, f32 c1, f32 c2) {
  v128_t vb1 = wasm_f32x4_splat(b1), vb1c = wasm_f32x4_splat(1 - b1), vb2 = wasm_f32x4_splat(b2),
         vb2c = wasm_f32x4_splat(1 - b2), vic1 = wasm_f32x4_splat(1 / c1), vic2 = wasm_f32x4_splat(1 / c2),
         veps = wasm_f32x4_splat(eps), vlr = wasm_f32x4_splat(lr), vwa = wasm_f32x4_splat(wa), vwb = wasm_f32x4_splat(wb);
  i32 j = 0;
  for (; j + 4 <= n; j += 4) {
    v128_t gj = g2 ? wasm_f32x4_add(wasm_f32x4_mul(LOAD(g + j), vwa), wasm_f32x4_mul(LOAD(g2 + j), vwb)) : LOAD(g + j);
    v128_t mj = wasm_f32x4_add(wasm_f32x4_mul(LOAD(m + j), vb1), wasm_f32x4_mul(gj, vb1c));
    v128_t vj = wasm_f32x4_add(wasm_f32x4_mul(LOAD(v + j), vb2), wasm_f32x4_mul(wasm_f32x4_mul(gj, gj), vb2c));
    v128_t den = wasm_f32x4_add(wasm_f32x4_sqrt(wasm_f32x4_mul(vj, vic2)), veps);
    v128_t step = wasm_f32x4_div(wasm_f32x4_mul(mj, vic1), den);
    STORE(p2 + j, wasm_f32x4_sub(LOAD(p + j), wasm_f32x4_mul(step, vlr)));
    STORE(m2 + j, mj);
    STORE(v2 + j, vj);
  }
  for (; j < n; j++) {
    f32 gj = g2 ? g[j] * wa + g2[j] * wb : g[j];
    f32 mj = m[j] * b1 + gj * (1 - b1);
    f32 vj = v[j] * b2 + gj * gj * (1 - b2);
    p2[j] = p[j] - ((mj * (1 / c1)) / (__builtin_sqrtf(vj * (1 / c2)) + eps)) * lr;
    m2[j] = mj;
    v2[j] = vj;
  }
}
