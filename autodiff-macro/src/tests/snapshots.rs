//! Snapshots of the pretty-printed expansion of representative functions: every change to
//! generated code shows in review.

use crate::expand::expand;
use quote::quote;

/// The expansion of `item` under `#[differentiate(attr)]`, pretty-printed.
pub fn pretty(attr: proc_macro2::TokenStream, item: proc_macro2::TokenStream) -> String {
    let tokens = expand(attr, item);
    match syn::parse2::<syn::File>(tokens.clone()) {
        Ok(file) => prettyplease::unparse(&file),
        Err(_) => tokens.to_string(),
    }
}

#[test]
fn scalar_lecture_example() {
    insta::assert_snapshot!(pretty(
        quote!(),
        quote! {
            pub fn f(x: f64, y: f64, z: f64) -> f64 {
                let q = x + y;
                q * z
            }
        }
    ));
}

/// Forward mode of the lecture's circuit: `f_jvp` carries each value's tangent next to it
/// (`t_q = t_x + t_y`, then the product rule), and `f_hvp` differentiates the hidden
/// `__ad_tangent_f` (`weight·f + ∇f·t`) in reverse mode.
#[test]
fn scalar_lecture_example_forward_mode() {
    insta::assert_snapshot!(pretty(
        quote!(jvp, hvp),
        quote! {
            pub fn f(x: f64, y: f64, z: f64) -> f64 {
                let q = x + y;
                q * z
            }
        }
    ));
}

/// The lecture's circuit with its picture: `circuit_graph` runs the same sweeps as
/// `circuit_fwd`, with a node added after each value and each gradient given before its
/// pullbacks.
#[test]
fn scalar_lecture_example_with_graph() {
    insta::assert_snapshot!(pretty(
        quote!(graph),
        quote! {
            pub fn circuit(x: f64, y: f64, z: f64) -> f64 {
                let q = x + y;
                q * z
            }
        }
    ));
}

/// A rule of the user's own: the forward sweep calls the function as written, the reverse
/// sweep the rule, through a function pointer of the signature it must have.
#[test]
fn custom_rule() {
    insta::assert_snapshot!(pretty(
        quote!(vjp = softplus_rule),
        quote! {
            pub fn softplus(x: f64) -> f64 {
                x.exp().ln_1p()
            }
        }
    ));
}

/// The lecture's two-layer loss with the data as constants: the reverse sweep has one
/// product per weight gradient and one for the hidden layer's adjoint, none for `x`.
#[test]
fn matrix_two_layer_loss() {
    insta::assert_snapshot!(pretty(
        quote!(wrt(w1, w2)),
        quote! {
            fn two_layer_loss(x: &DMatrix<f64>, y: &DMatrix<f64>, w1: &DMatrix<f64>, w2: &DMatrix<f64>) -> f64 {
                let h = sigmoid(x * w1);
                let y_pred = &h * w2;
                (y_pred - y).norm_squared()
            }
        }
    ));
}

/// Calls to other differentiated functions, a branch and a `map` closure.
#[test]
fn composed_call_branch_map() {
    insta::assert_snapshot!(pretty(
        quote!(crate = ::my_autodiff),
        quote! {
            pub(crate) fn composed(x: &DMatrix<f64>, w: &DMatrix<f64>, b: &RowDVector<f64>, s: f64) -> f64 {
                let h = layers::dense(x, w, b);
                let mut scale = s;
                if s > 1.0 {
                    scale = s.ln() + 1.0;
                }
                h.map(|v| v * scale).sum()
            }
        }
    ));
}

/// A value made by one call and read last by another: the second call is given it
/// (`Lent::Given`), so that its reverse sweep gives the buffer back to the pool as soon as it
/// has read it, before the hidden layer's gradient takes one.
#[test]
fn hidden_layer_given_to_the_next_call() {
    insta::assert_snapshot!(pretty(
        quote!(),
        quote! {
            fn stacked(x: &DMatrix<f64>, w1: &DMatrix<f64>, w2: &DMatrix<f64>) -> f64 {
                let h = layer(x, w1);
                layer(&h, w2).sum()
            }
        }
    ));
}

/// A rejected body: the error, and every generated item with its real signature around stub
/// sweeps (a placeholder value, a reverse sweep never reached).
#[test]
fn rejected_body_stubs() {
    insta::assert_snapshot!(pretty(
        quote!(),
        quote! {
            pub fn scaled(x: f64, w: &DMatrix<f64>) -> f64 {
                let mut y = x;
                while let Some(k) = w.get(0) {
                    y = y * w.sum();
                }
                y
            }
        }
    ));
}

/// A loop over a constant collection carrying a scalar: the forward sweep pushes what each
/// iteration's reverse reads, and the reverse runs the iterations backwards.
#[test]
fn loop_horner() {
    insta::assert_snapshot!(pretty(
        quote!(wrt(x)),
        quote! {
            fn horner(x: f64, coefficients: &[f64]) -> f64 {
                let mut acc = 0.0;
                for c in coefficients.iter() {
                    acc = acc * x + c;
                }
                acc
            }
        }
    ));
}

/// An RNN over the columns of a data matrix: a loop-carried matrix, `break` and `continue`.
#[test]
fn loop_rnn_with_exits() {
    insta::assert_snapshot!(pretty(
        quote!(wrt(wx, wh)),
        quote! {
            fn rnn(xs: &DMatrix<f64>, wx: &DMatrix<f64>, wh: &DMatrix<f64>, h0: &DMatrix<f64>) -> f64 {
                let mut h = h0.clone();
                for t in 0..xs.ncols() {
                    if t == 3 {
                        continue;
                    }
                    let x = xs.column(t).into_owned();
                    h = tanh(wx * x + wh * &h);
                    if h.sum() > 100.0 {
                        break;
                    }
                }
                h.norm_squared()
            }
        }
    ));
}

/// Parts of a differentiable vector in a loop (Rosenbrock) and a row as a receiver: each read
/// keeps its handle (where the part is), the reverse sweep reads nothing else of `x` or `m`,
/// and adds into one adjoint of each.
#[test]
fn parts_in_a_loop() {
    insta::assert_snapshot!(pretty(
        quote!(),
        quote! {
            fn rosenbrock(x: &DVector<f64>, m: &DMatrix<f64>) -> f64 {
                let mut s = m.row(0).sum();
                for i in 0..x.len() - 1 {
                    let a = x[i + 1] - x[i] * x[i];
                    let b = 1.0 - x[i];
                    s += 100.0 * a * a + b * b;
                }
                s
            }
        }
    ));
}

/// A vector built in a loop, one element written and one compound-written per iteration: the
/// forward sweep moves the carried vector into each write (no copy), the record keeps only
/// the writes' handles (where the element is), and the reverse sweep hands the one adjoint
/// of the vector from write to write.
#[test]
fn writes_in_a_loop() {
    insta::assert_snapshot!(pretty(
        quote!(),
        quote! {
            fn build(x: &DVector<f64>) -> f64 {
                let mut y = DVector::zeros(x.len());
                for i in 0..x.len() {
                    y[i] = x[i] * 2.0;
                    y[i] += x[i];
                }
                y.sum()
            }
        }
    ));
}

/// Rows and columns written, an element compound-written, and `from_element` of a
/// differentiable element: each write's handle is all the reverse sweep keeps of it.
#[test]
fn writes_of_rows_columns_and_fill() {
    insta::assert_snapshot!(pretty(
        quote!(),
        quote! {
            fn assemble(r: &RowDVector<f64>, c: &DVector<f64>, s: f64) -> DMatrix<f64> {
                let mut m = DMatrix::from_element(2, 2, s);
                m.set_row(0, r);
                m.set_column(1, &(c * 2.0));
                m[(1, 0)] *= s;
                m
            }
        }
    ));
}

/// A `Parameters` struct by reference: each field read is bound to a leaf at the start of
/// both sweeps (`let p__w = &p.w;`), and the gradient of `p` is assembled from the leaves'
/// adjoints; the field read only in the condition keeps what `zeros_except` gives it.
#[test]
fn structured_parameter() {
    insta::assert_snapshot!(pretty(
        quote!(),
        quote! {
            pub fn dense(p: &Dense, x: &DMatrix<f64>) -> DMatrix<f64> {
                let z = add_bias(x * &p.w, &p.inner.b);
                if p.activation { tanh(z) } else { z }
            }
        }
    ));
}

/// A slice of weights: the loop over its elements runs over its positions and reads each
/// element with `item`, whose pullback adds into that element of the `Vec` gradient.
#[test]
fn collection_parameter() {
    insta::assert_snapshot!(pretty(
        quote!(wrt(ws)),
        quote! {
            pub fn stack(x: &DMatrix<f64>, ws: &[DMatrix<f64>]) -> f64 {
                let mut h = x.clone();
                for w in ws.iter() {
                    h = tanh(&h * w);
                }
                h.sum()
            }
        }
    ));
}

/// A method and the method it calls through `self.f(..)`: the generated functions are
/// associated to the `impl`, take `&self`, and name the receiver `self_`, the field of the
/// gradient of `self`; the types go next to the `impl`. The call reaches the callee's sweeps
/// through `Self::__ad_sweeps_score`, and its gradient of `self` is added to the fields read.
#[test]
fn method_calling_a_method() {
    insta::assert_snapshot!(pretty(
        quote!(),
        quote! {
            impl Model {
                #[differentiate]
                pub fn score(&self, x: f64) -> f64 {
                    self.w * x
                }

                #[differentiate(wrt(self))]
                pub fn loss(&self, x: f64) -> f64 {
                    let s = self.score(x);
                    s * s + self.b
                }

                pub fn untouched(&self) -> f64 {
                    self.w
                }
            }
        }
    ));
}

/// A function generic over its scalar: every generated item carries `T` with the function's
/// bounds and `T: RealScalar`, the tape holds a marker of `T`, the reverse closure is
/// `impl __AdReverse_f<T> + use<T>`, the call of a generic function passes its scalar to the
/// callee's forward sweep, and `NAME_grad` seeds with the rules' `one()`.
#[test]
fn generic_scalar() {
    insta::assert_snapshot!(pretty(
        quote!(wrt(w, s)),
        quote! {
            pub fn generic_layer<T>(x: &DMatrix<T>, w: &DMatrix<T>, s: T) -> T
            where
                T: RealField + Copy,
            {
                let h = dense::<T>(x, w);
                let half: T = nalgebra::convert(0.5);
                half * h.map(|v| v * s).sum()
            }
        }
    ));
}

/// Generated names are short (`d_h`, `op_mul1`) unless the user's code uses a name of that
/// form (`d_x` here): then all of them carry the prefix `__ad_`.
#[test]
fn generated_names_step_aside_for_the_users_own() {
    let short = pretty(
        quote!(),
        quote!(
            fn f(x: f64, y: f64) -> f64 {
                x * y
            }
        ),
    );
    assert!(short.contains("let (mul1, op_mul1)"), "{short}");
    let long = pretty(
        quote!(),
        quote!(
            fn f(x: f64, d_x: f64) -> f64 {
                x * d_x
            }
        ),
    );
    assert!(long.contains("let (__ad_mul1, __ad_op_mul1)"), "{long}");
    assert!(long.contains("let mut __ad_d_x ="), "{long}");
    assert!(!long.contains("let mut d_"), "{long}");
}

/// A Gaussian process's likelihood with its factorization named once: one `cholesky_l` in
/// the forward sweep, `c.solve(y)` reading its factor, and the factorization's pullback
/// reached only from `c.l()`.
#[test]
fn named_cholesky_factorization() {
    insta::assert_snapshot!(pretty(
        quote!(wrt(k)),
        quote! {
            fn nll(k: DMatrix<f64>, y: &DVector<f64>) -> f64 {
                let c = k.cholesky().unwrap();
                let alpha = c.solve(y);
                let l = c.l();
                let mut half_log_det = 0.0;
                for i in 0..y.len() {
                    half_log_det += l[(i, i)].ln();
                }
                0.5 * y.dot(&alpha) + half_log_det
            }
        }
    ));
}
