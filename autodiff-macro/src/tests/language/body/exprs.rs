//! Expressions of a given type: scalars, matrices (with their shapes), reductions, `map`
//! closures, calls of earlier functions and branch conditions.

use super::{paren, scale_factor, scale_for, Ex, Gen, Local, LIMIT};
use crate::tests::language::{lit, GenFn, Kind, Param, Ty};

impl Gen<'_> {
    // --------------------------------------------------------------------- scalars

    pub(super) fn scalar_atom(&mut self, allow_lit: bool) -> Ex {
        let scalars = self.of_type(Ty::Scalar);
        if allow_lit && self.rng.chance(0.12) {
            let x = self.rng.lit(0.2, 1.8);
            return Ex {
                code: lit(x),
                bound: x,
                place: None,
                typed: false,
                ty: Ty::Scalar,
            };
        }
        if !self.loop_scalars.is_empty() && self.rng.chance(0.08) {
            // What the enclosing loops' variables give (only in loops: other functions'
            // draws are unchanged).
            let scalars = self.loop_scalars.clone();
            return self.rng.pick(&scalars).clone();
        }
        if !self.closure && self.rng.chance(0.06) {
            if let Some(c) = self.constant_scalar() {
                return c;
            }
        }
        if !self.closure && !scalars.iter().any(|l| l.varied) && self.rng.chance(0.7) {
            if let Some(v) = self.varied_scalar() {
                return v;
            }
        }
        if scalars.is_empty() {
            if let Some(c) = self.constant_scalar() {
                return c;
            }
            let x = self.rng.lit(0.2, 1.8);
            return Ex {
                code: format!("{}_f64", lit(x)),
                bound: x,
                place: None,
                typed: true,
                ty: Ty::Scalar,
            };
        }
        // Prefer values that depend on a differentiable parameter.
        let varied: Vec<&Local> = scalars.iter().filter(|l| l.varied).collect();
        let l = if !varied.is_empty() && self.rng.chance(0.8) {
            (*self.rng.pick(&varied)).clone()
        } else {
            self.rng.pick(&scalars).clone()
        };
        self.place(&l)
    }

    /// A constant computed from constants: casts, shape queries, lengths.
    pub(super) fn constant_scalar(&mut self) -> Option<Ex> {
        let mut options: Vec<Ex> = Vec::new();
        if let Some(n) = &self.count {
            let code = self.cast(format!("({n} as f64 * 0.25)"));
            options.push(Self::temp(code, 1.0, Ty::Scalar));
        }
        if let Some((l, rows, _)) = &self.labels {
            options.push(Self::temp(
                self.cast(format!("({l}.len() as f64 * 0.2)")),
                *rows as f64 * 0.2,
                Ty::Scalar,
            ));
        }
        if !self.closure {
            for l in self.visible() {
                if let Ty::Mat(_, r, _) = l.ty {
                    options.push(Self::temp(
                        self.cast(format!("({}.nrows() as f64 * 0.3)", l.name)),
                        r as f64 * 0.3,
                        Ty::Scalar,
                    ));
                    break;
                }
            }
        }
        options.extend(self.loop_scalars.iter().cloned());
        if let Some(f) = &self.flag {
            options.push(Self::temp(
                format!("(if {f} {{ 0.5_f64 }} else {{ 1.5 }})"),
                1.5,
                Ty::Scalar,
            ));
        }
        if options.is_empty() {
            return None;
        }
        let i = self.rng.below(options.len());
        Some(options.swap_remove(i))
    }

    /// A scalar whose type rustc knows (a method receiver).
    pub(super) fn typed_scalar(&mut self, depth: u32) -> Ex {
        for _ in 0..4 {
            let e = self.scalar(depth);
            if e.typed {
                return e;
            }
        }
        self.scalar_atom(false)
    }

    pub(super) fn bounded_scalar(&mut self, depth: u32, bound: f64) -> Ex {
        let e = self.typed_scalar(depth);
        if e.bound <= bound {
            e
        } else {
            self.squash_scalar(e)
        }
    }

    /// Brings a large value back to about ±1 without saturating: scaled by the inverse of
    /// its bound, then through `tanh`, `sigmoid` or `sin` (so derivatives stay well above
    /// the resolution of finite differences).
    pub(super) fn squash_scalar(&mut self, e: Ex) -> Ex {
        let scaled = format!("{} * {}", Self::operand(&e), scale_for(e.bound));
        let code = match self.rng.below(4) {
            0 => format!("tanh({scaled})"),
            1 => format!("sigmoid({scaled})"),
            2 => format!("({scaled}).sin()"),
            _ => format!("({scaled}).tanh()"),
        };
        Self::temp(code, 1.0, Ty::Scalar)
    }

    /// An operand of `+ - * /`: sometimes a bare literal (`2.0`), whose type rustc infers
    /// from the other operand.
    pub(super) fn operand_or_literal(&mut self, depth: u32) -> Ex {
        if self.rng.chance(0.2) {
            let x = self.rng.lit(0.2, 1.8);
            return Ex {
                code: lit(x),
                bound: x,
                place: None,
                typed: false,
                ty: Ty::Scalar,
            };
        }
        self.scalar(depth)
    }

    pub(super) fn scalar(&mut self, depth: u32) -> Ex {
        if self.parts && self.rng.chance(0.15) {
            if let Some(e) = self.element_read() {
                return e;
            }
        }
        if depth == 0 || self.rng.chance(0.15) {
            return self.scalar_atom(false);
        }
        let d = depth - 1;
        let e = match self.rng.below(22) {
            0 | 1 => {
                let (a, b) = self.operands(d);
                let op = if self.rng.chance(0.5) { "+" } else { "-" };
                Ex {
                    code: format!("{} {op} {}", Self::operand(&a), Self::operand(&b)),
                    bound: a.bound + b.bound,
                    place: None,
                    typed: a.typed || b.typed,
                    ty: Ty::Scalar,
                }
            }
            2 | 3 => {
                let (a, b) = self.operands(d);
                Ex {
                    code: format!("{} * {}", Self::operand(&a), Self::operand(&b)),
                    bound: a.bound * b.bound,
                    place: None,
                    typed: a.typed || b.typed,
                    ty: Ty::Scalar,
                }
            }
            4 => {
                let (a, b) = (self.operand_or_literal(d), self.scalar(d));
                let den = if b.typed && self.rng.chance(0.5) {
                    format!("({}.abs() + 0.5)", paren(&b.code))
                } else {
                    format!("(square({}) + 0.5)", b.code)
                };
                Ex {
                    code: format!("{} / {den}", Self::operand(&a)),
                    bound: a.bound * 2.0,
                    place: None,
                    typed: a.typed || b.typed,
                    ty: Ty::Scalar,
                }
            }
            5 => {
                let a = self.scalar(d);
                Ex {
                    code: format!("-{}", Self::operand(&a)),
                    bound: a.bound,
                    place: None,
                    typed: a.typed,
                    ty: Ty::Scalar,
                }
            }
            6 => {
                let a = self.bounded_scalar(d, 2.0);
                Self::temp(
                    format!("{}.exp()", Self::receiver(&a)),
                    a.bound.exp(),
                    Ty::Scalar,
                )
            }
            7 => {
                let a = self.typed_scalar(d);
                let method = *self.rng.pick(&["ln", "sqrt", "recip"]);
                let bound = match method {
                    "ln" => (a.bound + 0.5).ln().abs().max(0.7),
                    "sqrt" => (a.bound + 0.5).sqrt(),
                    _ => 2.0,
                };
                Self::temp(
                    format!("({}.abs() + 0.5).{method}()", Self::receiver(&a)),
                    bound,
                    Ty::Scalar,
                )
            }
            8 => {
                let a = self.bounded_scalar(d, 2.0);
                if self.rng.chance(0.7) {
                    let k = self.rng.range(2, 3) as i32;
                    Self::temp(
                        format!("{}.powi({k})", Self::receiver(&a)),
                        a.bound.powi(k),
                        Ty::Scalar,
                    )
                } else {
                    Self::temp(
                        format!("({}.abs() + 0.5).powi(-2)", Self::receiver(&a)),
                        4.0,
                        Ty::Scalar,
                    )
                }
            }
            9 => {
                let a = self.bounded_scalar(d, 3.0);
                let b = self.bounded_scalar(d, 1.5);
                Self::temp(
                    format!("({}.abs() + 0.5).powf({})", Self::receiver(&a), b.code),
                    (a.bound + 0.5).powf(1.5).max(2.0f64.powf(1.5)),
                    Ty::Scalar,
                )
            }
            10 => {
                let a = self.typed_scalar(d);
                let method = *self.rng.pick(&["sin", "cos", "tanh"]);
                Self::temp(
                    format!("{}.{method}()", Self::receiver(&a)),
                    1.0,
                    Ty::Scalar,
                )
            }
            11 => {
                let a = self.typed_scalar(d);
                Self::temp(
                    format!("{}.tanh().tan()", Self::receiver(&a)),
                    1.6,
                    Ty::Scalar,
                )
            }
            12 => {
                let a = self.typed_scalar(d);
                Self::temp(format!("{}.abs()", Self::receiver(&a)), a.bound, Ty::Scalar)
            }
            13 => {
                let a = self.typed_scalar(d);
                let b = self.scalar(d);
                let method = if self.rng.chance(0.5) { "max" } else { "min" };
                Self::temp(
                    format!("{}.{method}({})", Self::receiver(&a), b.code),
                    a.bound.max(b.bound),
                    Ty::Scalar,
                )
            }
            14 | 15 => {
                let a = self.scalar(d);
                match self.rng.below(7) {
                    0 => Self::temp(format!("sigmoid({})", a.code), 1.0, Ty::Scalar),
                    1 => Self::temp(format!("relu({})", a.code), a.bound, Ty::Scalar),
                    2 => Self::temp(format!("leaky_relu({}, 0.1)", a.code), a.bound, Ty::Scalar),
                    3 => Self::temp(
                        format!("elu({}, 0.7)", a.code),
                        a.bound.max(0.7),
                        Ty::Scalar,
                    ),
                    4 => Self::temp(format!("square({})", a.code), a.bound * a.bound, Ty::Scalar),
                    5 => {
                        let b = self.scalar(d);
                        Self::temp(
                            format!("maxout({}, {})", a.code, b.code),
                            a.bound.max(b.bound),
                            Ty::Scalar,
                        )
                    }
                    _ => Self::temp(format!("tanh({})", a.code), 1.0, Ty::Scalar),
                }
            }
            16 | 17 if !self.closure => self.reduction(d),
            18 if !self.closure => match self.call(Ty::Scalar) {
                Some(e) => e,
                None => self.scalar(d),
            },
            19 => {
                let cond = self.condition();
                let (a, b) = (self.scalar(d), self.scalar(d));
                Ex {
                    code: format!("(if {cond} {{ {} }} else {{ {} }})", a.code, b.code),
                    bound: a.bound.max(b.bound),
                    place: None,
                    typed: a.typed && b.typed,
                    ty: Ty::Scalar,
                }
            }
            20 => {
                let a = self.scalar(d);
                match self.constant_scalar() {
                    Some(c) => Ex {
                        code: format!("{} * {}", Self::operand(&a), c.code),
                        bound: a.bound * c.bound,
                        place: None,
                        typed: true,
                        ty: Ty::Scalar,
                    },
                    None => a,
                }
            }
            _ => self.scalar_atom(false),
        };
        if e.bound > LIMIT {
            self.squash_scalar(e)
        } else {
            e
        }
    }

    /// Two operands of a binary operator, at most one of them a bare literal.
    pub(super) fn operands(&mut self, d: u32) -> (Ex, Ex) {
        let a = self.operand_or_literal(d);
        let b = if a.typed {
            self.operand_or_literal(d)
        } else {
            self.scalar(d)
        };
        (a, b)
    }

    /// A scalar from a matrix: a reduction, a dot product or a loss.
    pub(super) fn reduction(&mut self, depth: u32) -> Ex {
        let tys = self.matrix_types();
        let ty = match self.labels {
            // Scores for the labels, for a loss.
            Some((_, rows, cols)) if self.rng.chance(0.4) => Ty::Mat(Kind::Dense, rows, cols),
            _ if tys.is_empty() || self.rng.chance(0.15) => self.random_matrix_type(),
            _ => *self.rng.pick(&tys),
        };
        let m = self.matrix(ty, depth);
        let n = {
            let (r, c) = ty.dims();
            (r * c) as f64
        };
        if let Some((labels, rows, cols)) = self.labels.clone() {
            if ty == Ty::Mat(Kind::Dense, rows, cols) && self.rng.chance(0.5) {
                let f = if self.rng.chance(0.5) {
                    "svm_loss"
                } else {
                    "softmax_cross_entropy"
                };
                let arg = self.any_arg(&m);
                return Self::temp(
                    format!("{f}({arg}, {labels})"),
                    2.0 * m.bound + 2.0,
                    Ty::Scalar,
                );
            }
        }
        let e = match self.rng.below(5) {
            0 => Self::temp(
                format!("{}.sum()", Self::receiver(&m)),
                m.bound * n,
                Ty::Scalar,
            ),
            1 => Self::temp(
                format!("{}.mean()", Self::receiver(&m)),
                m.bound,
                Ty::Scalar,
            ),
            2 => Self::temp(
                format!("{}.norm_squared()", Self::receiver(&m)),
                m.bound * m.bound * n,
                Ty::Scalar,
            ),
            3 => Self::temp(
                format!("{}.norm()", Self::receiver(&m)),
                m.bound * n.sqrt(),
                Ty::Scalar,
            ),
            _ => {
                let other = self.matrix(ty, depth);
                Self::temp(
                    format!("{}.dot({})", Self::receiver(&m), Self::ref_arg(&other)),
                    m.bound * other.bound * n,
                    Ty::Scalar,
                )
            }
        };
        if e.bound > LIMIT {
            self.squash_scalar(e)
        } else {
            e
        }
    }

    // -------------------------------------------------------------------- matrices

    pub(super) fn random_matrix_type(&mut self) -> Ty {
        let (r, c) = (self.rng.range(1, 3), self.rng.range(2, 3));
        match self.rng.below(6) {
            0 => Ty::Mat(Kind::Col, r + 1, 1),
            1 => Ty::Mat(Kind::Row, 1, c),
            2 => Ty::Mat(Kind::Static, r, c),
            _ => Ty::Mat(Kind::Dense, r, c),
        }
    }

    pub(super) fn matrix_atom(&mut self, ty: Ty) -> Ex {
        let locals = self.of_type(ty);
        if !locals.is_empty() && self.rng.chance(0.9) {
            let varied: Vec<&Local> = locals.iter().filter(|l| l.varied).collect();
            let l = if !varied.is_empty() && self.rng.chance(0.85) {
                (*self.rng.pick(&varied)).clone()
            } else {
                self.rng.pick(&locals).clone()
            };
            return self.place(&l);
        }
        let transposed = self.of_type(ty.transposed());
        if !transposed.is_empty() && self.rng.chance(0.7) {
            let l = self.rng.pick(&transposed).clone();
            return Self::temp(format!("{}.transpose()", l.name), l.bound, ty);
        }
        if self.rng.chance(0.8) {
            if let Some(s) = self.varied_scalar() {
                // A constant matrix made to depend on a differentiable value.
                let (c, x) = self.const_matrix(ty);
                let c = paren(&c);
                return match self.rng.below(3) {
                    0 => Self::temp(format!("{c}.scale({})", s.code), x * s.bound, ty),
                    1 => Self::temp(format!("{c}.add_scalar({})", s.code), x + s.bound, ty),
                    _ => Self::temp(format!("{c} * {}", Self::operand(&s)), x * s.bound, ty),
                };
            }
        }
        let (r, c) = ty.dims();
        if self.rng.chance(0.3) && matches!(ty, Ty::Mat(Kind::Dense, ..)) {
            // A constant built by a closure: constants may use any Rust.
            let element = if self.generic {
                self.cast("((i as f64 - j as f64) * 0.25 + 0.1)".into())
            } else {
                "(i as f64 - j as f64) * 0.25 + 0.1".into()
            };
            return Self::temp(
                format!("DMatrix::<f64>::from_fn({r}, {c}, |i, j| {element})"),
                (r + c) as f64 * 0.25 + 0.1,
                ty,
            );
        }
        let (c, x) = self.const_matrix(ty);
        Self::temp(c, x, ty)
    }

    /// A scalar that depends on a differentiable value, if there is one in scope.
    pub(super) fn varied_scalar(&mut self) -> Option<Ex> {
        let varied: Vec<Local> = self.visible().into_iter().filter(|l| l.varied).collect();
        let scalars: Vec<&Local> = varied.iter().filter(|l| l.ty == Ty::Scalar).collect();
        if !scalars.is_empty() {
            let l = (*self.rng.pick(&scalars)).clone();
            return Some(self.place(&l));
        }
        if varied.is_empty() {
            return None;
        }
        let l = self.rng.pick(&varied).clone();
        let e = self.place(&l);
        Some(Self::temp(
            format!("{}.mean()", Self::receiver(&e)),
            e.bound,
            Ty::Scalar,
        ))
    }

    /// Whether `code` names `name`.
    pub(super) fn reads(&self, code: &str, name: &str) -> bool {
        code.split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .any(|word| word == name)
    }

    /// Whether `code` names a visible variable that depends on a differentiable value (a
    /// field of a structured parameter, `p.a`, by its text).
    pub(super) fn mentions_varied(&self, code: &str) -> bool {
        let visible = self.visible();
        let field = visible
            .iter()
            .any(|l| l.varied && super::is_field(&l.name) && code.contains(&l.name));
        field
            || code
                .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                .any(|word| visible.iter().any(|l| l.varied && l.name == word))
    }

    /// A constant matrix: usually of distinct elements (so that no row is constant, which
    /// would make `softmax` invariant), sometimes all equal.
    pub(super) fn const_matrix(&mut self, ty: Ty) -> (String, f64) {
        if self.rng.chance(0.25) {
            let x = self.rng.lit(0.1, 0.9);
            return (ty.constant(x), x);
        }
        let (r, c) = ty.dims();
        let values: Vec<f64> = (0..r * c).map(|_| self.rng.lit(-0.9, 0.9)).collect();
        (ty.literal_rows(&values), 0.9)
    }

    pub(super) fn squash_matrix(&mut self, e: Ex) -> Ex {
        let ty = e.ty;
        let scaled = format!("{} * {}", Self::operand(&e), scale_for(e.bound));
        let code = match self.rng.below(4) {
            0 => format!("tanh({scaled})"),
            1 => format!("sigmoid({scaled})"),
            2 => {
                let p = self.fresh("e");
                format!("({scaled}).map(|{p}| {p}.sin())")
            }
            _ => format!("tanh({scaled})"),
        };
        Self::temp(code, 1.0, ty)
    }

    pub(super) fn matrix(&mut self, ty: Ty, depth: u32) -> Ex {
        if self.parts && self.rng.chance(0.15) {
            if let Some(e) = self.view_of(ty) {
                return e;
            }
        }
        if depth == 0 || self.rng.chance(0.2) {
            return self.matrix_atom(ty);
        }
        let d = depth - 1;
        let Ty::Mat(kind, r, c) = ty else {
            return self.scalar(depth);
        };
        let e = match self.rng.below(22) {
            0 | 1 => {
                let (a, b) = (self.matrix(ty, d), self.matrix(ty, d));
                let op = if self.rng.chance(0.5) { "+" } else { "-" };
                Self::temp(
                    format!("{} {op} {}", Self::operand(&a), Self::operand(&b)),
                    a.bound + b.bound,
                    ty,
                )
            }
            2 => {
                let a = self.matrix(ty, d);
                Self::temp(format!("-{}", Self::operand(&a)), a.bound, ty)
            }
            3 => {
                let a = self.matrix(ty, d);
                let s = self.scalar(d);
                match self.rng.below(3) {
                    // `T * matrix` is not defined for a generic `T`: `matrix * T` is.
                    0 if s.typed && !self.generic => Self::temp(
                        format!("{} * {}", Self::operand(&s), Self::operand(&a)),
                        a.bound * s.bound,
                        ty,
                    ),
                    1 => Self::temp(
                        format!("{} / (square({}) + 1.0)", Self::operand(&a), s.code),
                        a.bound,
                        ty,
                    ),
                    _ => Self::temp(
                        format!("{} * {}", Self::operand(&a), Self::operand(&s)),
                        a.bound * s.bound,
                        ty,
                    ),
                }
            }
            4 => {
                let a = self.matrix(ty, d);
                let s = self.scalar(d);
                if self.rng.chance(0.5) {
                    Self::temp(
                        format!("{}.scale({})", Self::receiver(&a), s.code),
                        a.bound * s.bound,
                        ty,
                    )
                } else {
                    Self::temp(
                        format!("{}.add_scalar({})", Self::receiver(&a), s.code),
                        a.bound + s.bound,
                        ty,
                    )
                }
            }
            5 => {
                let (a, b) = (self.matrix(ty, d), self.matrix(ty, d));
                Self::temp(
                    format!(
                        "{}.component_mul({})",
                        Self::receiver(&a),
                        Self::ref_arg(&b)
                    ),
                    a.bound * b.bound,
                    ty,
                )
            }
            6 => {
                let (a, b) = (self.matrix(ty, d), self.matrix(ty, d));
                let den = match self.rng.below(3) {
                    0 => {
                        let p = self.fresh("e");
                        format!("&{}.map(|{p}| {p} * {p} + 0.5)", Self::receiver(&b))
                    }
                    1 => format!("&{}.abs().add_scalar(0.5)", Self::receiver(&b)),
                    _ => format!("&square({}).add_scalar(0.5)", self.any_arg(&b)),
                };
                Self::temp(
                    format!("{}.component_div({den})", Self::receiver(&a)),
                    a.bound * 2.0,
                    ty,
                )
            }
            7 | 8 => self.product(kind, r, c, d),
            9 => {
                let a = self.matrix(ty.transposed(), d);
                Self::temp(format!("{}.transpose()", Self::receiver(&a)), a.bound, ty)
            }
            10 | 11 => self.map(ty, d),
            12 => {
                let a = self.matrix(ty, d);
                let arg = self.any_arg(&a);
                match self.rng.below(7) {
                    0 => Self::temp(format!("relu({arg})"), a.bound, ty),
                    1 => Self::temp(format!("sigmoid({arg})"), 1.0, ty),
                    2 => Self::temp(format!("tanh({arg})"), 1.0, ty),
                    3 => Self::temp(format!("square({arg})"), a.bound * a.bound, ty),
                    4 => Self::temp(format!("leaky_relu({arg}, 0.05)"), a.bound, ty),
                    5 => Self::temp(format!("elu({arg}, 0.8)"), a.bound.max(0.8), ty),
                    _ => {
                        let b = self.matrix(ty, d);
                        let brg = self.any_arg(&b);
                        Self::temp(format!("maxout({arg}, {brg})"), a.bound.max(b.bound), ty)
                    }
                }
            }
            13 if kind != Kind::Col => {
                let a = self.matrix(ty, d);
                let f = if self.rng.chance(0.5) {
                    "softmax"
                } else {
                    "log_softmax"
                };
                let arg = self.any_arg(&a);
                let bound = if f == "softmax" {
                    1.0
                } else {
                    2.0 * a.bound + (c as f64).ln()
                };
                Self::temp(format!("{f}({arg})"), bound, ty)
            }
            14 if kind == Kind::Dense => {
                let a = self.matrix(ty, d);
                let bias_ty = if self.rng.chance(0.5) {
                    Ty::Mat(Kind::Row, 1, c)
                } else {
                    Ty::Mat(Kind::Col, r, 1)
                };
                let b = self.matrix(bias_ty, d);
                let (arg, brg) = (self.any_arg(&a), self.any_arg(&b));
                Self::temp(format!("add_bias({arg}, {brg})"), a.bound + b.bound, ty)
            }
            15 if !self.closure => match self.call(ty) {
                Some(e) => e,
                None => self.matrix_atom(ty),
            },
            16 => {
                let a = self.matrix_atom(ty);
                match &a.place {
                    Some((name, _)) => Self::temp(format!("{name}.clone()"), a.bound, ty),
                    None => a,
                }
            }
            17 | 18 if ty.is_square() => self.matrix_exp(ty, d),
            19 => {
                let a = self.matrix(ty, d);
                Self::temp(format!("{}.abs()", Self::receiver(&a)), a.bound, ty)
            }
            20 => self.owned_copy(ty),
            _ => self.matrix_atom(ty),
        };
        if e.bound > LIMIT {
            self.squash_matrix(e)
        } else {
            e
        }
    }

    /// `a.exp()` on a square `n × n` matrix: nalgebra's matrix exponential, whose elements are
    /// at most `e^(n·b)` when those of `a` are at most `b`. An operand with `n·b` above 2 is
    /// scaled to about 1 first, so that the result, and finite differences of it, stay tame.
    pub(super) fn matrix_exp(&mut self, ty: Ty, d: u32) -> Ex {
        let a = self.matrix(ty, d);
        let n = ty.dims().0 as f64;
        if a.bound * n <= 2.0 {
            return Self::temp(
                format!("{}.exp()", Self::receiver(&a)),
                (a.bound * n).exp(),
                ty,
            );
        }
        let k = scale_factor(a.bound * n);
        Self::temp(
            format!("({} * {k:.2}).exp()", Self::operand(&a)),
            (k * a.bound * n).exp(),
            ty,
        )
    }

    /// `x.clone_owned()` or `x.into_owned()` of a named matrix: like `clone`, the macro
    /// differentiates them as the identity, on a local only. `into_owned` takes its receiver
    /// by value: a static matrix is copied, any other is cloned first (else it would be moved,
    /// or, behind a reference, could not be).
    pub(super) fn owned_copy(&mut self, ty: Ty) -> Ex {
        let a = self.matrix_atom(ty);
        let Some((name, _)) = &a.place else {
            return a;
        };
        let code = match ty {
            _ if self.rng.chance(0.5) => format!("{name}.clone_owned()"),
            Ty::Mat(Kind::Static, ..) => format!("{name}.into_owned()"),
            _ => format!("{name}.clone().into_owned()"),
        };
        Self::temp(code, a.bound, ty)
    }

    /// A matrix product whose result has the type `kind, r × c`.
    pub(super) fn product(&mut self, kind: Kind, r: usize, c: usize, d: u32) -> Ex {
        let k = self.rng.range(1, 3);
        let (lt, rt) = match kind {
            Kind::Dense if self.rng.chance(0.2) => {
                (Ty::Mat(Kind::Col, r, 1), Ty::Mat(Kind::Row, 1, c))
            }
            Kind::Dense => (Ty::Mat(Kind::Dense, r, k), Ty::Mat(Kind::Dense, k, c)),
            Kind::Col => (Ty::Mat(Kind::Dense, r, k), Ty::Mat(Kind::Col, k, 1)),
            Kind::Row => (Ty::Mat(Kind::Row, 1, k), Ty::Mat(Kind::Dense, k, c)),
            Kind::Static => (Ty::Mat(Kind::Static, r, k), Ty::Mat(Kind::Static, k, c)),
        };
        let k = lt.dims().1;
        let (a, b) = (self.matrix(lt, d), self.matrix(rt, d));
        Self::temp(
            format!("{} * {}", Self::operand(&a), Self::operand(&b)),
            a.bound * b.bound * k as f64,
            Ty::Mat(kind, r, c),
        )
    }

    /// `m.map(|e| …)`: the closure is written in the language on one scalar, and may capture
    /// the function's scalars.
    pub(super) fn map(&mut self, ty: Ty, d: u32) -> Ex {
        let recv = self.matrix(ty, d);
        let p = self.fresh("e");
        let was = self.closure;
        self.closure = true;
        let mark = self.locals.len();
        self.locals.push(Local {
            name: p.clone(),
            ty: Ty::Scalar,
            is_ref: false,
            mutable: false,
            bound: recv.bound,
            varied: true,
            level: self.loop_depth,
        });
        let (body, bound) = if self.rng.chance(0.35) {
            // A block body: a `let`, a `let mut` assigned in a branch, a tail.
            let t = self.fresh("t");
            let first = self.scalar(1);
            self.locals.push(Local {
                name: t.clone(),
                ty: Ty::Scalar,
                is_ref: false,
                mutable: true,
                bound: first.bound,
                varied: true,
                level: self.loop_depth,
            });
            let cond = self.condition();
            let then = self.bounded_scalar(1, 3.0);
            let other = self.scalar(1);
            let tail = self.scalar(1);
            let bound = tail.bound;
            let code = format!(
                "{{ let mut {t} = {}; if {cond} {{ {t} = {}; }} else {{ {t} += {}; }} {t} * 0.5 + {} }}",
                first.code, then.code, other.code, tail.code
            );
            (
                code,
                (first.bound + other.bound).max(then.bound) * 0.5 + bound,
            )
        } else {
            let e = self.scalar(2);
            (e.code, e.bound)
        };
        self.locals.truncate(mark);
        self.closure = was;
        let e = Self::temp(
            format!("{}.map(|{p}| {body})", Self::receiver(&recv)),
            bound,
            ty,
        );
        if e.bound > LIMIT {
            self.squash_matrix(e)
        } else {
            e
        }
    }

    // ----------------------------------------------------------------------- calls

    /// A call of the method `name` of the struct `receiver` (of type `ty`), its arguments
    /// `args` the struct first: `self.f(..)`, `Self::f(self, ..)`, `Ty::f(p, ..)`.
    fn method_call(&mut self, name: &str, receiver: &str, ty: &str, args: &[String]) -> String {
        let rest = args[1..].join(", ");
        let all = args.join(", ");
        match (receiver, self.rng.below(3)) {
            ("self", 0) => format!("self.{name}({rest})"),
            ("self", 1) => format!("Self::{name}({all})"),
            _ => format!("{ty}::{name}({all})"),
        }
    }

    /// A call to an earlier generated function with this result type.
    pub(super) fn call(&mut self, ret: Ty) -> Option<Ex> {
        if self.calls >= 2 {
            return None;
        }
        // A function of a struct only if it is a method of this function's struct, which is
        // passed to it whole.
        let own = self.structured.as_ref().map(|(_, ty)| ty.as_str());
        let candidates: Vec<&GenFn> = (self.callees.iter())
            .filter(|f| {
                f.ret == ret
                    && f.struct_param()
                        .is_none_or(|(_, ty, _)| f.method && Some(ty) == own)
            })
            .collect();
        if candidates.is_empty() {
            return None;
        }
        let f = (*self.rng.pick(&candidates)).clone();
        self.calls += 1;
        let mut args = Vec::new();
        for p in &f.params {
            let arg = match p {
                Param::Diff { ty, by_ref, .. } => {
                    let e = if *ty == Ty::Scalar {
                        self.scalar(1)
                    } else {
                        self.matrix(*ty, 1)
                    };
                    if *by_ref && *ty == Ty::Scalar {
                        format!("&{}", paren(&e.code))
                    } else if *by_ref {
                        Self::ref_arg(&e)
                    } else {
                        Self::value_arg(&e)
                    }
                }
                Param::Const { ty: Ty::Scalar, .. } => lit(self.rng.lit(0.2, 1.5)),
                Param::Const { ty, .. } => format!("&{}", self.const_matrix(*ty).0),
                Param::Count { .. } => match &self.count {
                    Some(n) => n.clone(),
                    None => self.rng.range(1, 4).to_string(),
                },
                Param::Labels { rows, cols, .. } => match &self.labels {
                    Some((l, lr, lc)) if lr == rows && lc == cols => l.clone(),
                    _ => {
                        let values: Vec<String> = (0..*rows)
                            .map(|i| ((i * 2 + 1) % cols).to_string())
                            .collect();
                        format!("&[{}]", values.join(", "))
                    }
                },
                Param::Flag { .. } => match &self.flag {
                    Some(f) => f.clone(),
                    None => "true".into(),
                },
                Param::Struct { .. } => match &self.structured {
                    Some((name, _)) => name.clone(),
                    None => continue,
                },
                Param::Data { values, .. } => {
                    match self.data.iter().find(|(_, n)| *n == values.len()) {
                        Some((name, _)) if self.rng.chance(0.5) => name.clone(),
                        _ => {
                            let values: Vec<String> = values.iter().map(|v| lit(-*v)).collect();
                            format!("&[{}]", values.join(", "))
                        }
                    }
                }
            };
            args.push(arg);
        }
        let call = match (self.structured.clone(), f.struct_param()) {
            (Some((receiver, ty)), Some(_)) => self.method_call(&f.name, &receiver, &ty, &args),
            _ => format!("{}({})", f.name, args.join(", ")),
        };
        let e = Self::temp(call, LIMIT, ret);
        Some(if ret == Ty::Scalar {
            self.squash_scalar(e)
        } else {
            self.squash_matrix(e)
        })
    }

    // ------------------------------------------------------------------ conditions

    pub(super) fn condition(&mut self) -> String {
        let base = |g: &mut Self| -> String {
            if !g.loop_conds.is_empty() && g.rng.chance(0.3) {
                let conds = g.loop_conds.clone();
                return g.rng.pick(&conds).clone();
            }
            match g.rng.below(6) {
                0 if g.count.is_some() && !g.closure => format!(
                    "{} > {}",
                    g.count.clone().unwrap_or_default(),
                    g.rng.range(1, 3)
                ),
                1 if g.flag.is_some() => g.flag.clone().unwrap_or_default(),
                2 if !g.closure && !g.matrix_types().is_empty() => {
                    let tys = g.matrix_types();
                    let ty = *g.rng.pick(&tys);
                    let m = g.matrix_atom(ty);
                    let x = g.rng.lit(-0.5, 0.5);
                    format!("{}.sum() > {}", Self::receiver(&m), lit(x))
                }
                _ => {
                    let a = g.typed_scalar(1);
                    let x = g.rng.lit(-0.6, 0.6);
                    let op = if g.rng.chance(0.5) { ">" } else { "<" };
                    format!("{} {op} {}", Self::operand(&a), lit(x))
                }
            }
        };
        let first = base(self);
        match self.rng.below(6) {
            0 => format!("{first} && {}", base(self)),
            1 => format!("{first} || {}", base(self)),
            2 => format!("!({first})"),
            _ => first,
        }
    }
}
