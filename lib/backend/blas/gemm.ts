/**
 * The GEMM layer the `blas` backend's matmul kernels call: one interface, two implementations
 * (OpenBLAS through FFI, one call per matrix; or the native helper library, which runs a whole batch
 * in one call across threads).
 *
 * @module
 */

import { CBLAS_NO_TRANS, CBLAS_ROW_MAJOR, CBLAS_TRANS, type OpenBlas } from "./openblas.ts";

/**
 * A strided batch of row-major products `C[i] = A[i]ᵀ? · B[i]ᵀ?` (i < batch), with element offsets
 * `i·strideA`, `i·strideB`, `i·strideC` (a stride of 0 broadcasts that operand).
 */
export interface GemmBatch {
  transA: boolean;
  transB: boolean;
  batch: number;
  /** Rows of op(A) and C. */
  m: number;
  /** Columns of op(B) and C. */
  n: number;
  /** Shared dimension. */
  k: number;
  a: Float32Array;
  strideA: number;
  b: Float32Array;
  strideB: number;
  c: Float32Array;
  strideC: number;
  /** `C = op(A)·op(B) + beta·C`; 0 (the default) overwrites C. */
  beta?: number;
}

/** Something that multiplies strided batches of float32 matrices. */
export interface Gemm {
  /** A short name for reports ("openblas-ffi"). */
  name: string;
  /** Computes every product of the batch into `c` (overwriting it unless `beta` is set). */
  batch(job: GemmBatch): void;
  /**
   * One BLAS call on sub-matrices: `C = alpha·op(A)·op(B) + beta·C`, row-major, with element
   * offsets and leading dimensions (so a head's columns of a `(T, 3C)` matrix are used in place).
   */
  sgemm(call: SgemmCall): void;
}

/** Arguments of {@linkcode Gemm.sgemm}. */
export interface SgemmCall {
  transA: boolean;
  transB: boolean;
  m: number;
  n: number;
  k: number;
  alpha: number;
  a: Float32Array;
  aOffset: number;
  lda: number;
  b: Float32Array;
  bOffset: number;
  ldb: number;
  beta: number;
  c: Float32Array;
  cOffset: number;
  ldc: number;
}

/**
 * GEMM by one `cblas_sgemm` FFI call per matrix of the batch.
 *
 * @param blas A loaded OpenBLAS.
 * @returns The {@linkcode Gemm}.
 */
export function openBlasGemm(blas: OpenBlas): Gemm {
  const sgemm = blas.symbols.cblas_sgemm;
  return {
    name: "openblas-ffi",
    sgemm(q: SgemmCall): void {
      sgemm(
        CBLAS_ROW_MAJOR,
        q.transA ? CBLAS_TRANS : CBLAS_NO_TRANS,
        q.transB ? CBLAS_TRANS : CBLAS_NO_TRANS,
        q.m,
        q.n,
        q.k,
        q.alpha,
        q.aOffset === 0 ? q.a : q.a.subarray(q.aOffset),
        q.lda,
        q.bOffset === 0 ? q.b : q.b.subarray(q.bOffset),
        q.ldb,
        q.beta,
        q.cOffset === 0 ? q.c : q.c.subarray(q.cOffset),
        q.ldc,
      );
    },
    batch(job: GemmBatch): void {
      const { m, n, k, transA, transB } = job;
      const lda = transA ? m : k;
      const ldb = transB ? k : n;
      const ta = transA ? CBLAS_TRANS : CBLAS_NO_TRANS;
      const tb = transB ? CBLAS_TRANS : CBLAS_NO_TRANS;
      const wholeA = job.strideA === 0 || job.batch === 1;
      const wholeB = job.strideB === 0 || job.batch === 1;
      for (let i = 0; i < job.batch; i++) {
        const a = wholeA ? job.a : job.a.subarray(i * job.strideA);
        const b = wholeB ? job.b : job.b.subarray(i * job.strideB);
        const c = job.batch === 1 ? job.c : job.c.subarray(i * job.strideC);
        sgemm(CBLAS_ROW_MAJOR, ta, tb, m, n, k, 1, a, lda, b, ldb, job.beta ?? 0, c, n);
      }
    },
  };
}
