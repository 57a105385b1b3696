//! `tanh` of many elements at once, written without branches or calls so that the compiler
//! vectorises it: the scalar `tanh` of the standard library is a call per element, which
//! dominates a recurrent network's time.
//!
//! For `a = |x|`, `tanh a = −t / (t + 2)` with `t = eᵘ − 1`, `u = −2a ∈ [−40, 0]` (beyond
//! `a = 20` the result rounds to `1` in both precisions). `eᵘ − 1` is fdlibm's `expm1`
//! without its branches: `u = k·ln 2 + r` with `k = round(u / ln 2)` and `|r| ≤ ln 2 / 2`,
//! `eʳ − 1` by fdlibm's rational approximation (its coefficients, with the rounding error of
//! the reduction carried along), then `eᵘ − 1 = 2ᵏ·(eʳ − 1) + (2ᵏ − 1)`. The sign of `x` is
//! copied back at the end, so `−0` stays `−0`; NaN stays NaN and `±∞` gives `±1`.

/// `tanh` of a slice and of one element for one scalar type, around its `expm1`: the same
/// code for `f64` and `f32`, only the types and the `expm1` differ.
macro_rules! tanh_of {
    ($t:ident, $slice:ident, $one:ident, $expm1:ident) => {
        #[doc = concat!("Replaces every element by its hyperbolic tangent, within 3 ulp of [`", stringify!($t), "::tanh`].")]
        #[inline(always)]
        pub(crate) fn $slice(elems: &mut [$t]) {
            super::dispatch(
                #[inline(always)]
                || elems.iter_mut().for_each(|v| *v = $one(*v)),
            );
        }

        #[inline(always)]
        fn $one(x: $t) -> $t {
            let a = x.abs();
            // Not `min`: a NaN must stay NaN.
            let a = if a > 20.0 { 20.0 } else { a };
            // musl's three forms, each free of cancellation in its range: one `expm1`, no
            // branch.
            let (small, large) = (0.2554, 0.5493); // log(5/3) / 2 and log(3) / 2
            let u = if a > small { 2.0 * a } else { -2.0 * a };
            let t = $expm1(u);
            let y = if a > large {
                1.0 - 2.0 / (t + 2.0)
            } else if a > small {
                t / (t + 2.0)
            } else {
                -t / (t + 2.0)
            };
            y.copysign(x)
        }
    };
}

tanh_of!(f64, tanh_f64, tanh_one_f64, expm1_f64);
tanh_of!(f32, tanh_f32, tanh_one_f32, expm1_f32);

/// `eᵘ − 1` for `u ∈ [−40, 40]` (fdlibm's `s_expm1.c`, constants and all).
#[inline(always)]
fn expm1_f64(u: f64) -> f64 {
    // fdlibm's constants, by their bits (as its source gives them).
    const LN2_HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000); // 32 trailing zero bits
    const LN2_LO: f64 = f64::from_bits(0x3dea_39ef_3579_3c76);
    const INV_LN2: f64 = core::f64::consts::LOG2_E;
    const Q: [f64; 5] = [
        f64::from_bits(0xbfa1_1111_1111_10f4),
        f64::from_bits(0x3f5a_01a0_19fe_5585),
        f64::from_bits(0xbf14_ce19_9eaa_dbb7),
        f64::from_bits(0x3ed0_cfca_86e6_5239),
        f64::from_bits(0xbe8a_fdb7_6e09_c32d),
    ];
    // Adding 1.5·2⁵² rounds to an integer (ties to even), which lands in the low bits.
    const ROUND: f64 = 6_755_399_441_055_744.0;
    let shifted = u * INV_LN2 + ROUND;
    let k = shifted - ROUND;
    // 2ᵏ: k + 1023 in the exponent field (k ≥ −58, so no wrap-around).
    let two_k = f64::from_bits(shifted.to_bits().wrapping_add(1023) << 52);
    let hi = u - k * LN2_HI; // exact: k·LN2_HI has at most 53 significant bits
    let lo = k * LN2_LO;
    let r = hi - lo;
    let c = (hi - r) - lo;
    let half_r = 0.5 * r;
    let r2_half = r * half_r;
    let r1 = 1.0
        + r2_half
            * (Q[0] + r2_half * (Q[1] + r2_half * (Q[2] + r2_half * (Q[3] + r2_half * Q[4]))));
    let t = 3.0 - r1 * half_r;
    let e = r2_half * ((r1 - t) / (6.0 - r * t));
    let e = r * (e - c) - c - r2_half;
    // eʳ − 1 = r − e
    two_k * (r - e) + (two_k - 1.0)
}

/// `eᵘ − 1` for `u ∈ [−40, 40]` (fdlibm's `s_expm1f.c`).
#[inline(always)]
fn expm1_f32(u: f32) -> f32 {
    const LN2_HI: f32 = f32::from_bits(0x3f31_7180); // 7 trailing zero bits, |k| ≤ 58
    const LN2_LO: f32 = f32::from_bits(0x3717_f7d1);
    const INV_LN2: f32 = core::f32::consts::LOG2_E;
    const Q: [f32; 2] = [f32::from_bits(0xbd08_8868), f32::from_bits(0x3acf_3010)];
    const ROUND: f32 = 12_582_912.0; // 1.5·2²³
    let shifted = u * INV_LN2 + ROUND;
    let k = shifted - ROUND;
    let two_k = f32::from_bits(shifted.to_bits().wrapping_add(127) << 23);
    let hi = u - k * LN2_HI;
    let lo = k * LN2_LO;
    let r = hi - lo;
    let c = (hi - r) - lo;
    let half_r = 0.5 * r;
    let r2_half = r * half_r;
    let r1 = 1.0 + r2_half * (Q[0] + r2_half * Q[1]);
    let t = 3.0 - r1 * half_r;
    let e = r2_half * ((r1 - t) / (6.0 - r * t));
    let e = r * (e - c) - c - r2_half;
    two_k * (r - e) + (two_k - 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The distance in units in the last place between two finite values of one sign.
    fn ulps_f64(a: f64, b: f64) -> u64 {
        (a.to_bits() as i64).abs_diff(b.to_bits() as i64)
    }

    fn ulps_f32(a: f32, b: f32) -> u32 {
        (a.to_bits() as i32).abs_diff(b.to_bits() as i32)
    }

    /// Points spread over every scale from subnormal to saturated, both signs.
    fn points() -> Vec<f64> {
        let mut xs = vec![
            0.0, 5e-324, 1e-300, 1e-20, 1e-8, 19.0, 20.0, 20.5, 40.0, 1e300,
        ];
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..200_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            // log-uniform over 2⁻³⁰ … 2⁵ and uniform over [0, 25]
            let unit = (state >> 11) as f64 / (1u64 << 53) as f64;
            xs.push((unit * 35.0 - 30.0).exp2());
            xs.push(unit * 25.0);
        }
        let negatives: Vec<f64> = xs.iter().map(|x| -x).collect();
        xs.extend(negatives);
        xs
    }

    #[test]
    fn f64_is_within_three_ulp_of_the_standard_library() {
        let xs = points();
        let mut ys = xs.clone();
        tanh_f64(&mut ys);
        let worst = xs
            .iter()
            .zip(&ys)
            .map(|(x, y)| (ulps_f64(*y, x.tanh()), *x))
            .max_by_key(|(ulps, _)| *ulps);
        let (ulps, at) = worst.unwrap();
        assert!(ulps <= 3, "{ulps} ulp at x = {at:e}");
    }

    #[test]
    fn f32_is_within_three_ulp_of_the_standard_library() {
        let xs: Vec<f32> = points().iter().map(|x| *x as f32).collect();
        let mut ys = xs.clone();
        tanh_f32(&mut ys);
        let worst = xs
            .iter()
            .zip(&ys)
            .map(|(x, y)| (ulps_f32(*y, x.tanh()), *x))
            .max_by_key(|(ulps, _)| *ulps);
        let (ulps, at) = worst.unwrap();
        assert!(ulps <= 3, "{ulps} ulp at x = {at:e}");
    }

    #[test]
    fn signed_zero_infinities_and_nan() {
        let mut v = [0.0, -0.0, f64::INFINITY, f64::NEG_INFINITY, f64::NAN];
        tanh_f64(&mut v);
        assert_eq!(v[0].to_bits(), 0.0f64.to_bits());
        assert_eq!(v[1].to_bits(), (-0.0f64).to_bits());
        assert_eq!((v[2], v[3]), (1.0, -1.0));
        assert!(v[4].is_nan());
        let mut w = [0.0, -0.0, f32::INFINITY, f32::NEG_INFINITY, f32::NAN];
        tanh_f32(&mut w);
        assert_eq!(w[1].to_bits(), (-0.0f32).to_bits());
        assert_eq!((w[2], w[3]), (1.0, -1.0));
        assert!(w[4].is_nan());
    }
}
