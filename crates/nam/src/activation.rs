//! Activation functions, applied in place to one channel's contiguous run of samples.
//!
//! Two tanh flavours exist because users want two different things: `Accurate` is the
//! network as trained (tanh within a few ulp), `NamCompatible` is what the official NAM
//! plugin actually computes (a rational approximation), so a user can get that plugin's
//! sound bit for bit.

use serde_json::{json, Value};

use crate::error::{Error, Result};
use crate::json::Field;
use crate::kernels::{Arith, Plain};

/// Which tanh (and LSTM sigmoid) the engine computes. Chosen once, at build time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ActivationMode {
    /// tanh within float precision: the network exactly as the trainer runs it.
    #[default]
    Accurate,
    /// The official NAM plugin's `fast_tanh`, and its derived sigmoid in the LSTM.
    NamCompatible,
}

/// An activation as named in a `.nam` file, with its parameters.
#[derive(Debug, Clone, PartialEq)]
pub enum Activation {
    Tanh,
    Hardtanh {
        min_val: f32,
        max_val: f32,
    },
    /// The file itself asks for the official plugin's rational tanh.
    FastTanh,
    ReLU,
    LeakyReLU {
        negative_slope: f32,
    },
    /// One slope per channel (or one for all).
    PReLU {
        negative_slopes: Vec<f32>,
    },
    Sigmoid,
    SiLU,
    Hardswish,
    LeakyHardtanh {
        min_val: f32,
        max_val: f32,
        min_slope: f32,
        max_slope: f32,
    },
    Softsign,
    /// `0.5 * (1 + x / (1 + |x|))`: the trainer's Softsign rescaled to 0..1.
    Softsigmoid,
}

/// Names accepted in files, for error messages.
pub const ACTIVATION_NAMES: &str = "Tanh, Hardtanh, Fasttanh, ReLU, LeakyReLU, PReLU, Sigmoid, \
                                    SiLU, Hardswish, LeakyHardtanh, Softsign, Softsigmoid";

impl Activation {
    /// Applies the activation in place to one channel's samples (the polynomials'
    /// multiply-adds computed as `A` computes them).
    #[inline(always)]
    pub(crate) fn apply<A: Arith>(&self, mode: ActivationMode, channel: usize, xs: &mut [f32]) {
        match self {
            Activation::Tanh => match mode {
                ActivationMode::Accurate => A::tanh_row(xs),
                ActivationMode::NamCompatible => {
                    for x in xs.iter_mut() {
                        *x = fast_tanh(*x);
                    }
                }
            },
            Activation::FastTanh => {
                for x in xs.iter_mut() {
                    *x = fast_tanh(*x);
                }
            }
            Activation::Hardtanh { min_val, max_val } => {
                let (lo, hi) = (*min_val, *max_val);
                for x in xs.iter_mut() {
                    *x = x.max(lo).min(hi);
                }
            }
            Activation::ReLU => {
                for x in xs.iter_mut() {
                    *x = x.max(0.0);
                }
            }
            Activation::LeakyReLU { negative_slope } => {
                let s = *negative_slope;
                for x in xs.iter_mut() {
                    *x = if *x >= 0.0 { *x } else { *x * s };
                }
            }
            Activation::PReLU { negative_slopes } => {
                let s = if negative_slopes.len() == 1 {
                    negative_slopes[0]
                } else {
                    negative_slopes.get(channel).copied().unwrap_or(0.0)
                };
                for x in xs.iter_mut() {
                    *x = if *x >= 0.0 { *x } else { *x * s };
                }
            }
            Activation::Sigmoid => {
                for x in xs.iter_mut() {
                    *x = sigmoid_with::<A>(*x);
                }
            }
            Activation::SiLU => {
                for x in xs.iter_mut() {
                    *x *= sigmoid_with::<A>(*x);
                }
            }
            Activation::Hardswish => {
                for x in xs.iter_mut() {
                    *x = *x * (*x + 3.0).clamp(0.0, 6.0) / 6.0;
                }
            }
            Activation::LeakyHardtanh {
                min_val,
                max_val,
                min_slope,
                max_slope,
            } => {
                let (lo, hi, ls, hs) = (*min_val, *max_val, *min_slope, *max_slope);
                for x in xs.iter_mut() {
                    *x = if *x < lo {
                        lo + (*x - lo) * ls
                    } else if *x > hi {
                        hi + (*x - hi) * hs
                    } else {
                        *x
                    };
                }
            }
            Activation::Softsign => {
                for x in xs.iter_mut() {
                    *x /= 1.0 + x.abs();
                }
            }
            Activation::Softsigmoid => {
                for x in xs.iter_mut() {
                    *x = 0.5 * (1.0 + *x / (1.0 + x.abs()));
                }
            }
        }
    }

    /// The name a file uses for it.
    pub fn name(&self) -> &'static str {
        match self {
            Activation::Tanh => "Tanh",
            Activation::Hardtanh { .. } => "Hardtanh",
            Activation::FastTanh => "Fasttanh",
            Activation::ReLU => "ReLU",
            Activation::LeakyReLU { .. } => "LeakyReLU",
            Activation::PReLU { .. } => "PReLU",
            Activation::Sigmoid => "Sigmoid",
            Activation::SiLU => "SiLU",
            Activation::Hardswish => "Hardswish",
            Activation::LeakyHardtanh { .. } => "LeakyHardtanh",
            Activation::Softsign => "Softsign",
            Activation::Softsigmoid => "Softsigmoid",
        }
    }

    /// As the 0.7.0 schema writes it: `{"type": name, parameters...}`.
    pub fn to_json(&self) -> Value {
        let mut v = json!({ "type": self.name() });
        let o = v.as_object_mut().expect("an object");
        match self {
            Activation::Hardtanh { min_val, max_val } => {
                o.insert("min_val".into(), json!(min_val));
                o.insert("max_val".into(), json!(max_val));
            }
            Activation::LeakyReLU { negative_slope } => {
                o.insert("negative_slope".into(), json!(negative_slope));
            }
            Activation::PReLU { negative_slopes } => {
                o.insert("negative_slopes".into(), json!(negative_slopes));
            }
            Activation::LeakyHardtanh {
                min_val,
                max_val,
                min_slope,
                max_slope,
            } => {
                o.insert("min_val".into(), json!(min_val));
                o.insert("max_val".into(), json!(max_val));
                o.insert("min_slope".into(), json!(min_slope));
                o.insert("max_slope".into(), json!(max_slope));
            }
            _ => {}
        }
        v
    }

    /// Parses `"Tanh"` or `{"type": "LeakyReLU", "negative_slope": 0.05}`. `width` is the
    /// number of channels it applies to (a PReLU may carry one slope per channel).
    pub(crate) fn parse(f: &Field, width: usize) -> Result<Activation> {
        let (name, params) = match f.value {
            Value::String(s) => (s.as_str(), None),
            Value::Object(_) => (f.req("type")?.str()?, Some(f)),
            _ => return Err(f.wrong_type("an activation name or object")),
        };
        let param = |key: &str, default: f32| -> Result<f32> {
            match params {
                Some(p) => match p.opt(key)? {
                    Some(v) => v.f32_in(-1e6, 1e6),
                    None => Ok(default),
                },
                None => Ok(default),
            }
        };
        Ok(match name {
            "Tanh" => Activation::Tanh,
            "Fasttanh" | "FastTanh" => Activation::FastTanh,
            "Hardtanh" => Activation::Hardtanh {
                min_val: param("min_val", -1.0)?,
                max_val: param("max_val", 1.0)?,
            },
            "ReLU" => Activation::ReLU,
            "LeakyReLU" => Activation::LeakyReLU {
                negative_slope: param("negative_slope", 0.01)?,
            },
            "PReLU" => {
                let slopes = match params
                    .map(|p| p.opt("negative_slopes"))
                    .transpose()?
                    .flatten()
                {
                    Some(s) => {
                        let items = s.items()?;
                        if items.len() != width && items.len() != 1 {
                            return Err(Error::LengthMismatch {
                                path: s.path.clone(),
                                expected: width,
                                found: items.len(),
                            });
                        }
                        items
                            .iter()
                            .map(|x| x.f32_in(-1e6, 1e6))
                            .collect::<Result<Vec<_>>>()?
                    }
                    None => vec![param("negative_slope", 0.01)?],
                };
                Activation::PReLU {
                    negative_slopes: slopes,
                }
            }
            "Sigmoid" => Activation::Sigmoid,
            "SiLU" => Activation::SiLU,
            "Hardswish" => Activation::Hardswish,
            "LeakyHardtanh" | "LeakyHardTanh" => Activation::LeakyHardtanh {
                min_val: param("min_val", -1.0)?,
                max_val: param("max_val", 1.0)?,
                min_slope: param("min_slope", 0.01)?,
                max_slope: param("max_slope", 0.01)?,
            },
            "Softsign" => Activation::Softsign,
            "Softsigmoid" => Activation::Softsigmoid,
            other => {
                return Err(Error::UnknownActivation {
                    path: f.path.clone(),
                    name: other.to_string(),
                });
            }
        })
    }

    /// A short label with the parameters that change the sound, e.g. `LeakyReLU(0.2)`.
    pub fn label(&self) -> String {
        match self {
            Activation::LeakyReLU { negative_slope } if *negative_slope != 0.01 => {
                format!("LeakyReLU({negative_slope})")
            }
            Activation::Hardtanh { min_val, max_val } if (*min_val, *max_val) != (-1.0, 1.0) => {
                format!("Hardtanh({min_val}, {max_val})")
            }
            _ => self.name().to_string(),
        }
    }
}

/// The name a file uses for `a`.
pub fn activation_name(a: &Activation) -> &'static str {
    a.name()
}

/// tanh within 1.3 ulp (measured max 1.26, rms 0.30; glibc's `tanhf` measures 2.1 and
/// 0.48), branch-free so that the loops above vectorise: Cephes' `tanhf` for f32. Below
/// |x| = 0.625, `x + x^3 P(x^2)` (the correction is small next to `x`, so its rounding
/// hardly shows); above, `1 - 2 / (e^2|x| + 1)` with the sign put back. Both are
/// computed and one is picked. The accuracy shows: with Eigen's rational approximation
/// (4.7 ulp max, 1.25 rms) the WaveNets' error against the exact network was 1.14x
/// NeuralAmpModelerCore's (median of 22 captures), with this one 1.02x.
#[inline(always)]
pub fn tanh(x: f32) -> f32 {
    tanh_with::<Plain>(x)
}

/// [`tanh`] with its multiply-adds computed as `A` computes them (fused in the AVX
/// builds: fewer instructions, one rounding each).
#[inline(always)]
#[allow(clippy::excessive_precision)]
pub(crate) fn tanh_with<A: Arith>(x: f32) -> f32 {
    let a = x.abs();
    let z = x * x;
    // Horner: `m(p, c)` is `c + p * z`.
    let m = |p: f32, c: f32| A::madd(c, p, z);
    let p = m(m(-5.704_988_7e-3, 2.063_908_9e-2), -5.373_971_6e-2);
    let p = m(m(p, 1.333_144_2e-1), -3.333_328_2e-1);
    let small = A::madd(x, x * z, p);
    // e^20 is finite, and tanh is 1 in f32 from |x| = 9.1 on.
    let e = exp_in_range::<A>(2.0 * a.min(10.0));
    let big = (1.0 - 2.0 / (e + 1.0)).copysign(x);
    if a < 0.625 {
        small
    } else {
        big
    }
}

/// Eigen's rational approximation of tanh (13/6), clamped where tanh is 1 in f32: 4.7
/// ulp max, 1.25 rms with fused multiply-adds, half the cost of [`tanh_with`]. For the
/// LSTM, whose recurrence waits on it every sample and whose error budget is the parity
/// bound, not the exact network, and for the AVX2 build's WaveNets (see
/// `Fused::tanh_row`).
#[inline(always)]
#[allow(clippy::excessive_precision)]
pub(crate) fn tanh_rational<A: Arith>(x: f32) -> f32 {
    const CLAMP: f32 = 7.905_311;
    const A1: f32 = 4.893_524_6e-3;
    const A3: f32 = 6.372_619_3e-4;
    const A5: f32 = 1.485_722_4e-5;
    const A7: f32 = 5.122_297e-8;
    const A9: f32 = -8.604_671_5e-11;
    const A11: f32 = 2.000_187_9e-13;
    const A13: f32 = -2.760_768_5e-16;
    const B0: f32 = 4.893_525_2e-3;
    const B2: f32 = 2.268_434_6e-3;
    const B4: f32 = 1.185_347_1e-4;
    const B6: f32 = 1.198_258_4e-6;
    // Below this the approximation's relative error exceeds x's own rounding; tanh(x) == x
    // in f32 there.
    const TINY: f32 = 4e-4;
    let xc = x.clamp(-CLAMP, CLAMP);
    let x2 = xc * xc;
    // Estrin's scheme, not Horner's: the LSTM's recurrence waits on this polynomial's
    // depth (4 dependent multiply-adds instead of 7).
    let x4 = x2 * x2;
    let x8 = x4 * x4;
    let m = |a: f32, b: f32, y: f32| A::madd(a, b, y);
    let p = m(
        m(m(A1, A3, x2), m(A5, A7, x2), x4),
        m(m(A9, A11, x2), A13, x4),
        x8,
    ) * xc;
    let q = m(m(B0, B2, x2), m(B4, B6, x2), x4);
    if x.abs() < TINY {
        x
    } else {
        p / q
    }
}

/// The official NAM plugin's tanh, evaluated in f32 exactly as its C++ does.
#[inline(always)]
pub fn fast_tanh(x: f32) -> f32 {
    let ax = x.abs();
    let x2 = x * x;
    (x * (2.455_507_5_f32 + 2.455_507_5_f32 * ax + (0.893_229_85_f32 + 0.821_226_7_f32 * ax) * x2))
        / (2.445_066_3_f32 + (2.445_066_3_f32 + x2) * (x + 0.814_642_7_f32 * x * ax).abs())
}

/// The logistic function to a few ulp, through our own `exp` (`exp_with`) so that it
/// vectorises.
#[inline(always)]
pub fn sigmoid(x: f32) -> f32 {
    sigmoid_with::<Plain>(x)
}

#[inline(always)]
pub(crate) fn sigmoid_with<A: Arith>(x: f32) -> f32 {
    1.0 / (1.0 + exp_with::<A>(-x))
}

/// e^x within 1 ulp (measured: 8.1e-8 relative) for x in -87 ..= 88 (clamped outside: 0 below underflow hardly
/// matters, and nothing here feeds it more), branch-free so that loops over it vectorise:
/// Cephes' range reduction and polynomial, with rounding and the power of two done on the
/// float's bits instead of calls to `floor` (which baseline x86-64 cannot inline).
#[inline(always)]
#[allow(clippy::excessive_precision)]
pub(crate) fn exp_with<A: Arith>(x: f32) -> f32 {
    exp_in_range::<A>(x.clamp(-87.0, 88.0))
}

/// [`exp_with`] for `x` already in -87 ..= 88.
#[inline(always)]
#[allow(clippy::excessive_precision)]
fn exp_in_range<A: Arith>(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    // ln 2 split in two so that n * LN2_HI is exact.
    const LN2_HI: f32 = 0.693_359_375;
    const LN2_LO: f32 = -2.121_944_4e-4;
    // Adding 1.5 * 2^23 rounds to the nearest integer and leaves it in the low bits.
    const ROUND: f32 = 12_582_912.0;
    let m = x * LOG2E + ROUND;
    let n = m - ROUND;
    let r = x - n * LN2_HI - n * LN2_LO;
    let mr = |p: f32, c: f32| A::madd(c, p, r);
    let p = mr(
        mr(
            mr(
                mr(mr(1.987_569_1e-4_f32, 1.398_199_9e-3), 8.333_452e-3),
                4.166_579_6e-2,
            ),
            1.666_666_5e-1,
        ),
        5.000_000_1e-1,
    );
    let y = A::madd(r, p * r, r) + 1.0;
    let k = (m.to_bits() as i32).wrapping_sub(ROUND.to_bits() as i32);
    y * f32::from_bits((k.wrapping_add(127) << 23) as u32)
}

/// The official plugin's LSTM sigmoid: derived from its fast tanh.
#[inline(always)]
pub fn fast_sigmoid(x: f32) -> f32 {
    0.5 * (fast_tanh(0.5 * x) + 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tanh_is_within_float_precision() {
        let mut worst_abs = 0.0f64;
        let mut worst_rel = 0.0f64;
        let mut x = -12.0f32;
        while x < 12.0 {
            let exact = (x as f64).tanh();
            let got = tanh(x) as f64;
            worst_abs = worst_abs.max((got - exact).abs());
            if exact.abs() > 1e-30 {
                worst_rel = worst_rel.max(((got - exact) / exact).abs());
            }
            x += 1.0e-4;
        }
        // Within 4 ulp of f32 (2^-23 = 1.19e-7) everywhere.
        eprintln!("tanh: worst abs {worst_abs:e}, worst rel {worst_rel:e}");
        assert!(worst_abs < 5.0e-7, "worst absolute error {worst_abs}");
        assert!(worst_rel < 1.0e-6, "worst relative error {worst_rel}");
        assert_eq!(tanh(f32::INFINITY), 1.0);
        assert_eq!(tanh(f32::NEG_INFINITY), -1.0);
    }

    #[test]
    fn exp_and_sigmoid_are_within_float_precision() {
        let mut worst_exp = 0.0f64;
        let mut worst_sig = 0.0f64;
        let mut x = -87.0f32;
        while x < 88.0 {
            let e = (x as f64).exp();
            worst_exp = worst_exp.max(((exp_with::<Plain>(x) as f64 - e) / e).abs());
            let s = 1.0 / (1.0 + (-(x as f64)).exp());
            worst_sig = worst_sig.max(((sigmoid(x) as f64 - s) / s).abs());
            x += 1.0e-3;
        }
        eprintln!("exp: worst rel {worst_exp:e}; sigmoid: worst rel {worst_sig:e}");
        assert!(worst_exp < 3.0e-7, "exp: {worst_exp}");
        assert!(worst_sig < 4.0e-7, "sigmoid: {worst_sig}");
        assert!((0.0..1e-37).contains(&sigmoid(-1000.0)));
        assert_eq!(sigmoid(1000.0), 1.0);
    }

    #[test]
    fn fast_tanh_matches_the_published_formula() {
        for &x in &[-5.0f64, -1.0, -0.3, 0.0, 0.2, 0.9, 3.0] {
            let ax = x.abs();
            let x2 = x * x;
            let expected = x
                * (2.45550750702956
                    + 2.45550750702956 * ax
                    + (0.893229853513558 + 0.821226666969744 * ax) * x2)
                / (2.44506634652299
                    + (2.44506634652299 + x2) * (x + 0.814642734961073 * x * ax).abs());
            assert!(
                (fast_tanh(x as f32) as f64 - expected).abs() < 1e-6,
                "x = {x}"
            );
        }
    }

    #[test]
    fn parametric_activations() {
        let mut v = [-2.0f32, -0.5, 0.5, 2.0];
        Activation::LeakyHardtanh {
            min_val: -1.0,
            max_val: 1.0,
            min_slope: 0.1,
            max_slope: 0.2,
        }
        .apply::<Plain>(ActivationMode::Accurate, 0, &mut v);
        assert_eq!(v, [-1.1, -0.5, 0.5, 1.2]);
        let mut v = [-3.0f32, -1.0, 1.0, 4.0];
        Activation::Hardswish.apply::<Plain>(ActivationMode::Accurate, 0, &mut v);
        assert_eq!(v, [0.0, -2.0 / 6.0, 4.0 / 6.0, 4.0]);
        let mut v = [-1.0f32, 1.0];
        Activation::PReLU {
            negative_slopes: vec![0.1, 0.2],
        }
        .apply::<Plain>(ActivationMode::Accurate, 1, &mut v);
        assert_eq!(v, [-0.2, 1.0]);
    }
}
