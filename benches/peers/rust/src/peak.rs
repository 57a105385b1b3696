//! The machine's matrix-product peak: GFLOP/s of one n×n by n×n product (n = `PEERS_PEAK_N`,
//! default 2048; 2·n³ floating-point operations) in f64 and f32, through nalgebra's `gemm`
//! (matrixmultiply; with `--features mm-threading` on `MATMUL_NUM_THREADS` threads) and
//! through the `gemm` crate (AVX-512 kernels where the CPU has them; one thread, and rayon's
//! pool with `PEERS_THREADS` threads). One step is one product into a buffer allocated once,
//! timed with the protocol of `timing.rs`; the result is checked on one entry.

macro_rules! peak {
    ($m:ident, $r:ident) => {
        pub mod $m {
            use crate::data::Stream;
            use crate::timing::{emit_peak, measure};
            use autodiff::prelude::*;

            const DTYPE: &str = stringify!($r);

            /// The operands, uniform on [−1, 1) from stream 7 (row-major, as every generated
            /// matrix), and the product's buffer.
            fn operands(n: usize) -> [DMatrix<$r>; 3] {
                let mut s = Stream::new(7);
                let a = s.matrix(n, n, 1.0).map(|v| v as $r);
                let b = s.matrix(n, n, 1.0).map(|v| v as $r);
                [a, b, DMatrix::zeros(n, n)]
            }

            /// The relative error of one entry of `c` against its dot product in f64.
            fn check(a: &DMatrix<$r>, b: &DMatrix<$r>, c: &DMatrix<$r>) -> f64 {
                let (i, j) = (a.nrows() / 3, b.ncols() / 2);
                let want: f64 = (0..a.ncols())
                    .map(|k| a[(i, k)] as f64 * b[(k, j)] as f64)
                    .sum();
                (c[(i, j)] as f64 - want).abs() / want.abs().max(1.0)
            }

            /// nalgebra's `gemm` (matrixmultiply), on `threads` threads (its own setting).
            pub fn nalgebra(n: usize, budget: f64, name: &str, threads: usize) {
                let [a, b, mut c] = operands(n);
                let t = measure(
                    || {
                        c.gemm(1.0, &a, &b, 0.0);
                        c[(0, 0)] as f64
                    },
                    budget,
                );
                emit_peak(name, DTYPE, threads, n, check(&a, &b, &c), &t);
            }

            /// The `gemm` crate: `Parallelism::None` for one thread, else rayon's pool.
            pub fn gemm_crate(n: usize, budget: f64, threads: usize) {
                let [a, b, mut c] = operands(n);
                let parallelism = match threads {
                    1 => gemm::Parallelism::None,
                    _ => gemm::Parallelism::Rayon(threads),
                };
                let t = measure(
                    || {
                        // SAFETY: a, b and c are n×n column-major matrices (column stride n,
                        // row stride 1) in distinct buffers; c is written, not read.
                        unsafe {
                            gemm::gemm(
                                n,
                                n,
                                n,
                                c.as_mut_ptr(),
                                n as isize,
                                1,
                                false,
                                a.as_ptr(),
                                n as isize,
                                1,
                                b.as_ptr(),
                                n as isize,
                                1,
                                0.0,
                                1.0,
                                false,
                                false,
                                false,
                                parallelism,
                            )
                        };
                        c[(0, 0)] as f64
                    },
                    budget,
                );
                emit_peak("gemm", DTYPE, threads, n, check(&a, &b, &c), &t);
            }
        }
    };
}

peak!(double, f64);
peak!(single, f32);
