//! The macro never panics: `expand` runs on generated inputs of four kinds, each caught
//! with `catch_unwind`, and a panic is reported with the input that caused it.
//!
//! - arbitrary token streams, as attribute and as item;
//! - valid functions with random mutations (token trees deleted, duplicated, swapped,
//!   replaced, inserted, regrouped);
//! - random well-formed functions of the language (from [`super::language`]): with loops,
//!   reading and building values by parts, generic over their scalar, of a
//!   `#[derive(Parameters)]` struct (methods of it among them), with a rule of their own
//!   (`vjp = rule`, in the pool mutated and decorated), with forward mode (`jvp`, `hvp`, of
//!   plain parameters or of a struct), which must also expand without any error;
//! - random attribute arguments on a valid function.
//!
//! `fuzz_short` runs in CI; `fuzz_long` (ignored) runs at least 100,000 inputs:
//! `cargo test -p autodiff-macro --release -- --ignored fuzz_long --nocapture`
//! (`AUTODIFF_FUZZ_CASES=n` changes the number).

use super::language::{self, Rng};
use crate::expand::expand;
use proc_macro2::{Delimiter, Group, Ident, Literal, Punct, Spacing, Span, TokenStream, TokenTree};
use std::cell::Cell;
use std::panic::{self, AssertUnwindSafe};
use std::str::FromStr;
use std::sync::Once;

thread_local! {
    /// Set while this thread runs fuzz inputs: its panics are reported by the fuzzer, not by
    /// the default hook (other tests keep the default hook's messages).
    static QUIET: Cell<bool> = const { Cell::new(false) };
}

fn install_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if !QUIET.with(Cell::get) {
                default(info);
            }
        }));
    });
}

/// What one run found.
#[derive(Default)]
struct Report {
    inputs: usize,
    /// Inputs of each kind, in the order of [`Kind`].
    per_kind: [usize; 4],
    panics: Vec<String>,
    /// Well-formed functions that did not expand cleanly.
    rejected: Vec<String>,
    /// Inputs that parse as a function whose expansion does not parse as items.
    malformed: Vec<String>,
}

#[derive(Clone, Copy)]
enum Kind {
    Tokens = 0,
    Mutated = 1,
    WellFormed = 2,
    Attribute = 3,
}

fn message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "<non-string panic payload>".into()
    }
}

impl Report {
    /// Runs `expand` on one input; records a panic, an unexpected error or a malformed output.
    fn run(&mut self, kind: Kind, attr: TokenStream, item: TokenStream) {
        self.inputs += 1;
        self.per_kind[kind as usize] += 1;
        let result = QUIET.with(|q| {
            q.set(true);
            let r = panic::catch_unwind(AssertUnwindSafe(|| expand(attr.clone(), item.clone())));
            q.set(false);
            r
        });
        let describe = || format!("#[differentiate({attr})]\n{item}");
        match result {
            Err(payload) => {
                if self.panics.len() < 20 {
                    self.panics.push(format!(
                        "panic `{}` on input:\n{}",
                        message(&*payload),
                        describe()
                    ));
                }
            }
            Ok(out) => {
                let text = out.to_string();
                if matches!(kind, Kind::WellFormed)
                    && text.contains("compile_error")
                    && self.rejected.len() < 20
                {
                    self.rejected.push(format!(
                        "{}\n--- gives ---\n{}",
                        describe(),
                        errors_of(&text)
                    ));
                }
                // A function in, items out: whatever the attribute and the body, the output
                // is well-formed items (the function, plus the generated code or errors).
                if syn::parse2::<syn::ItemFn>(item.clone()).is_ok()
                    && syn::parse2::<syn::File>(out).is_err()
                    && self.malformed.len() < 20
                {
                    self.malformed
                        .push(format!("{}\n--- gives ---\n{text}", describe()));
                }
            }
        }
    }

    fn assert_clean(&self) {
        let mut problems = String::new();
        for p in &self.panics {
            problems.push_str(&format!("\n\n{p}"));
        }
        for r in &self.rejected {
            problems.push_str(&format!("\n\nrejected a well-formed function:\n{r}"));
        }
        for m in &self.malformed {
            problems.push_str(&format!("\n\nexpansion is not valid items:\n{m}"));
        }
        assert!(
            problems.is_empty(),
            "{} inputs, {} panics, {} rejections, {} malformed outputs:{problems}",
            self.inputs,
            self.panics.len(),
            self.rejected.len(),
            self.malformed.len()
        );
    }
}

fn errors_of(text: &str) -> String {
    text.match_indices("compile_error")
        .map(|(i, _)| text[i..].chars().take(240).collect::<String>())
        .collect::<Vec<_>>()
        .join("\n")
}

// ------------------------------------------------------------------------ tokens

const WORDS: &[&str] = &[
    "fn",
    "let",
    "mut",
    "if",
    "else",
    "while",
    "loop",
    "match",
    "return",
    "for",
    "in",
    "unsafe",
    "async",
    "await",
    "move",
    "ref",
    "as",
    "pub",
    "crate",
    "self",
    "Self",
    "super",
    "struct",
    "impl",
    "const",
    "static",
    "where",
    "dyn",
    "type",
    "break",
    "continue",
    "x",
    "y",
    "w",
    "m",
    "f",
    "f64",
    "f32",
    "usize",
    "i32",
    "bool",
    "DMatrix",
    "DVector",
    "RowDVector",
    "SMatrix",
    "SVector",
    "Matrix",
    "map",
    "sum",
    "exp",
    "ln",
    "sqrt",
    "powi",
    "powf",
    "transpose",
    "clone",
    "nrows",
    "relu",
    "sigmoid",
    "tanh",
    "softmax",
    "add_bias",
    "svm_loss",
    "wrt",
    "seed",
    "tape",
    "_",
    "__ad_d_x",
    "__ad_fwd",
    "T",
    "Some",
    "None",
    "Option",
    "println",
    "vec",
    "a",
    "b",
    "Box",
    "Fn",
    "abs",
    "max",
    "iter",
    "enumerate",
    "zip",
    "rev",
    "step_by",
    "into_iter",
    "len",
    "ncols",
    "i",
    "xs",
    "labels",
    "'outer",
    "row",
    "column",
    "rows",
    "view",
    "into_owned",
    "zeros",
    "from_element",
    "set_row",
    "set_column",
    "row_mut",
];
const PUNCTS: &[&str] = &[
    "+", "-", "*", "/", "=", "==", "!=", "<", ">", "<=", ">=", "->", "=>", "::", ":", ";", ",",
    ".", "..", "..=", "&", "&&", "|", "||", "!", "#", "?", "@", "+=", "-=", "*=", "/=", "%", "^",
    "'", "$", "~",
];

fn punct(text: &str) -> TokenStream {
    let chars: Vec<char> = text.chars().collect();
    chars
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            let spacing = if i + 1 < chars.len() {
                Spacing::Joint
            } else {
                Spacing::Alone
            };
            TokenTree::Punct(Punct::new(c, spacing))
        })
        .collect()
}

fn literal(rng: &mut Rng) -> TokenTree {
    let lit = match rng.below(12) {
        0 => Literal::f64_unsuffixed(rng.lit(-3.0, 3.0).abs()),
        1 => Literal::usize_unsuffixed(rng.below(5)),
        2 => Literal::f32_suffixed(0.5),
        3 => Literal::string("autodiff"),
        4 => Literal::character('x'),
        5 => Literal::i32_suffixed(-3),
        6 => Literal::from_str("1e400").unwrap_or_else(|_| Literal::u8_suffixed(1)),
        7 => Literal::from_str("0x1F").unwrap_or_else(|_| Literal::u8_suffixed(2)),
        8 => Literal::byte_string(b"ab"),
        9 => Literal::from_str("1.0e-3f64").unwrap_or_else(|_| Literal::u8_suffixed(3)),
        10 => Literal::from_str("r#\"raw\"#").unwrap_or_else(|_| Literal::u8_suffixed(4)),
        _ => Literal::f64_suffixed(2.0),
    };
    TokenTree::Literal(lit)
}

fn word(rng: &mut Rng) -> TokenStream {
    let w = *rng.pick(WORDS);
    if w == "'" {
        return punct("'");
    }
    if let Some(label) = w.strip_prefix('\'') {
        let mut ts = TokenStream::new();
        ts.extend([
            TokenTree::Punct(Punct::new('\'', Spacing::Joint)),
            TokenTree::Ident(Ident::new(label, Span::call_site())),
        ]);
        return ts;
    }
    let tt = match rng.below(20) {
        0 if !matches!(w, "self" | "Self" | "super" | "crate" | "_") => {
            TokenTree::Ident(Ident::new_raw(w, Span::call_site()))
        }
        1 => return lifetime(rng),
        _ => TokenTree::Ident(Ident::new(w, Span::call_site())),
    };
    std::iter::once(tt).collect()
}

fn lifetime(rng: &mut Rng) -> TokenStream {
    let mut ts = TokenStream::new();
    ts.extend([TokenTree::Punct(Punct::new('\'', Spacing::Joint))]);
    let name = if rng.chance(0.5) { "a" } else { "static" };
    ts.extend([TokenTree::Ident(Ident::new(name, Span::call_site()))]);
    ts
}

fn delimiter(rng: &mut Rng) -> Delimiter {
    *rng.pick(&[
        Delimiter::Parenthesis,
        Delimiter::Brace,
        Delimiter::Bracket,
        Delimiter::None,
    ])
}

/// A random token stream: words, punctuation, literals and nested groups.
fn random_tokens(rng: &mut Rng, len: usize, depth: u32) -> TokenStream {
    let mut ts = TokenStream::new();
    for _ in 0..len {
        match rng.below(10) {
            0..=3 => ts.extend(word(rng)),
            4..=6 => {
                let p: &str = rng.pick::<&str>(PUNCTS);
                ts.extend(punct(p));
            }
            7 => ts.extend([literal(rng)]),
            _ if depth > 0 => {
                let n = rng.below(6);
                let inner = random_tokens(rng, n, depth - 1);
                ts.extend([TokenTree::Group(Group::new(delimiter(rng), inner))]);
            }
            _ => ts.extend(word(rng)),
        }
    }
    ts
}

/// A random stream that often has the shape of a function: `fn name(…) -> … { … }`.
fn function_shaped(rng: &mut Rng) -> TokenStream {
    let mut ts = TokenStream::new();
    if rng.chance(0.3) {
        ts.extend(punct("#"));
        ts.extend([TokenTree::Group(Group::new(
            Delimiter::Bracket,
            random_tokens(rng, 2, 1),
        ))]);
    }
    if rng.chance(0.3) {
        ts.extend(word(rng));
    }
    ts.extend([TokenTree::Ident(Ident::new("fn", Span::call_site()))]);
    ts.extend(word(rng));
    if rng.chance(0.2) {
        ts.extend(punct("<"));
        ts.extend(random_tokens(rng, 2, 0));
        ts.extend(punct(">"));
    }
    let n = rng.below(5);
    ts.extend([TokenTree::Group(Group::new(
        Delimiter::Parenthesis,
        random_tokens(rng, n, 2),
    ))]);
    if rng.chance(0.8) {
        ts.extend(punct("->"));
        let n = rng.range(1, 3);
        ts.extend(random_tokens(rng, n, 1));
    }
    let n = rng.below(14);
    ts.extend([TokenTree::Group(Group::new(
        Delimiter::Brace,
        random_tokens(rng, n, 3),
    ))]);
    ts
}

// --------------------------------------------------------------------- mutations

/// Functions covering the whole language and its misuses: mutation seeds.
const SEEDS: &[&str] = &[
    "fn f(x: f64, y: f64, z: f64) -> f64 { let q = x + y; q * z }",
    "pub fn loss(x: &DMatrix<f64>, y: &DMatrix<f64>, w1: &DMatrix<f64>, w2: &DMatrix<f64>) -> f64 { let h = sigmoid(x * w1); let y_pred = &h * w2; (y_pred - y).norm_squared() }",
    "fn g(m: &DMatrix<f64>, w: f64, k: f64) -> f64 { let scaled = m.map(|v| { let mut t = v * w; if t > 0.0 { t = t.sqrt() + k; } else { t = -t * 0.5; } t * v }); scaled.sum() }",
    "fn h(x: f64, y: f64, n: usize) -> f64 { let mut out = x * y; if x > 0.0 && !(y < -1.0) { out = out * x; } else if y > 0.5 || n > 10 { out -= y; } else { out = out + x * 3.0; } if n == 3 { out *= 2.0; } let bonus = if out > 0.0 { out.sqrt() } else { -out }; out + bonus * y }",
    "fn c(x: &DMatrix<f64>, w1: &DMatrix<f64>, b1: &RowDVector<f64>, s: f64) -> f64 { let h = layers::affine(x, w1, b1); let a = squash(h); energy(&a, s) + energy(&a, 0.5) }",
    "fn s(a: &SMatrix<f64, 2, 3>, x: SVector<f64, 3>) -> f64 { let y = a * x; sigmoid(&y).dot(&y) + a.transpose().sum() }",
    "fn t(x: f64, y: f64) -> f64 { let mut acc = x * 2.0; acc += y; acc *= x; acc -= 1.5; acc /= y * y + 1.0; let x = x * x; let inner = { let t = acc * 3.0; t - x }; return -inner + 2.0 / (1.0 + x); }",
    "fn sm(m: &DMatrix<f64>, bias: &RowDVector<f64>, labels: &[usize]) -> f64 { let z = add_bias(m, bias); let p = softmax(&z); softmax_cross_entropy(&z, labels) + svm_loss(&z, labels) + p.component_mul(&log_softmax(&z)).sum() }",
    "fn bad(x: f64) -> f64 { let mut y = x; while y < 10.0 { y = y * 2.0; } loop { break; } match y { _ => y } }",
    "fn bad2(x: &mut DMatrix<f64>, n: usize) -> f64 { let c = |v: f64| v * 2.0; println!(\"{}\", n); unsafe { x[(0, 0)] as f32 } }",
    "fn bad3<T: Copy>(&self, x: T) { if let Some(v) = x { return v; } x.floor() }",
    "impl Model { #[differentiate] pub fn score(&self, x: &DMatrix<f64>) -> f64 { (x * &self.w).sum() * self.s } #[differentiate(wrt(self))] fn loss(&self, x: &DMatrix<f64>) -> f64 { let a = self.score(x); Self::sq(a) + Model::score(self, x) } #[differentiate] fn sq(v: f64) -> f64 { v * v } fn plain(&mut self) {} }",
    "impl<T> Trait for Model<T> where T: Copy { #[differentiate] fn f(&mut self, x: f64) -> f64 { let s = self; x } #[differentiate(graph, vjp = r)] fn g(self, self_: f64) -> f64 { self.f(self_) } }",
    "fn m(a: DMatrix<f64>, b: DVector<f64>) -> DMatrix<f64> { let r: DMatrix<f64> = add_bias(&a, &b).map(|v| v * v); -r.scale(2.0).add_scalar(1.0) / 3.0 }",
    "fn r(x: &f64, y: f64) -> f64 { let a = *x * y; let b = a.powi(2).max(y.min(a)).recip(); (b.abs() + 0.5).ln().powf(y).tan() }",
    // Loops (SPEC §6), valid:
    "fn l1(x: f64, xs: &[f64], n: usize) -> f64 { let mut acc = 0.0; for c in xs.iter() { acc = acc * x + c; } for (i, c) in xs.iter().enumerate() { if i % 2 == 1 { continue; } acc += c * x; } for i in (0..n).rev() { acc = (acc * 0.5 + i as f64).tanh(); } for i in (1..=n).step_by(2) { acc -= x * i as f64; } acc }",
    "fn l2(m: &DMatrix<f64>, w: &DMatrix<f64>, s: f64) -> f64 { let mut h = m.clone(); let mut k = 0; while h.sum() < 3.0 { h = tanh(w * &h) + m; k += 1; if k > 5 { break; } } let mut t = 0.0; loop { t = t * 0.5 + s; if t > 1.0 { break; } } for _ in 0..m.ncols() { for j in 0..=2 { h = h.map(|v| (v * s).sin()) * (j as f64); } } h.sum() + t }",
    "fn l3(x: f64, ys: &[f64], zs: &[f64], labels: &[usize]) -> f64 { let mut e = 0.0; for (y, z) in ys.iter().zip(zs.iter()) { let d = x * y - z; e += d * d; } for &l in labels.iter() { if l == 0 { e *= 0.5; } } for _ in 0..0 { e = cell(e, x); } e }",
    // Loops, rejected: labels, `while let`, `break` with a value, a loop as a value, `return`
    // in a loop, a loop over a differentiable value, a loop that never ends, code after
    // `break`, a carried reference, a pattern other than names and tuples.
    "fn e1(x: f64) -> f64 { let mut y = x; 'rows: for i in 0..3 { for j in 0..3 { y = y * x; if i + j > 3 { break 'rows; } if j == 1 { continue 'rows; } } } y }",
    "fn e2(x: f64, steps: &[f64]) -> f64 { let mut y = x; let mut rest = steps; while let Some((first, tail)) = rest.split_first() { y = y * first; rest = tail; } y }",
    "fn e3(x: f64) -> f64 { let mut y = x; let z = loop { y = y * 2.0; if y > 10.0 { break y; } }; let w = for i in 0..2 { y += 1.0; }; z + y }",
    "fn e4(x: f64, w: &DVector<f64>) -> f64 { let mut y = x; for v in w.iter() { y = y * v; if y > 4.0 { return y; } } for v in w { y += v; } loop { y = y * 0.5; } y }",
    "fn e5(x: f64, a: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 { let mut larger = a; let mut y = x; for [p, q] in [[1.0, 2.0]].iter() { if b.sum() > larger.sum() { larger = b; } if y > 4.0 { break; y = y * 0.5; } } 'l: loop { break 'l; } larger.sum() + y }",
    // Parts of values (SPEC §7), valid: reads, views, writes in and out of loops, compound
    // writes, rows and columns set, `from_element` of a differentiable element.
    "fn p1(x: &DVector<f64>, m: &DMatrix<f64>, s: f64) -> f64 { let mut y = DVector::zeros(x.len()); y[0] = x[0]; for i in 1..x.len() { y[i] = y[i - 1] * x[i] + m[(0, i % m.ncols())]; } y[1] += s; y[0] *= s; let r = m.row(0).into_owned(); let v = m.view((0, 0), (1, 1)).clone_owned(); y.sum() + r.sum() + v[(0, 0)] + x.rows(1, 1)[0] }",
    "fn p2(m: &DMatrix<f64>, r: &RowDVector<f64>, s: f64) -> DMatrix<f64> { let mut z = DMatrix::from_element(2, m.ncols(), s); z.set_row(0, r); z.set_column(1, &m.column(0)); for j in 0..z.ncols() { z[(1, j)] -= s * m[(0, j)]; } z }",
    "fn p3(mut v: SVector<f64, 3>, s: f64) -> f64 { let mut b = SMatrix::<f64, 2, 3>::zeros(); b.set_row(1, &v.transpose()); v[2] = s; if s > 0.0 { b[(0, 0)] = v[1]; } else { b[(0, 1)] /= s; } b.sum() + v.sum() }",
    // Parts, rejected: writes through views, into a borrowed parameter, at a
    // differentiable index, of a range.
    "fn q1(x: &DVector<f64>, s: f64) -> f64 { let mut y = DMatrix::zeros(2, 2); y.row_mut(0).fill(s); y.column_mut(1)[0] = s; *y.get_mut(0).unwrap() = s; x[0] = s; y[if s > 0.0 { 0 } else { 1 }] = s; y[0..2] = s; y.sum() }",
    // Generic scalars (SPEC §9), valid: bounds inline or in a `where` clause, constants of
    // `T`, calls with the scalar named or inferred; rejected: more type parameters, const and
    // lifetime parameters, literals as operands.
    "fn g1<T: RealField + Copy>(x: T, m: &DMatrix<T>, n: usize) -> T { let half: T = nalgebra::convert(0.5); let mut acc = T::zero(); for _ in 0..n { acc += dense::<T>(m, x).sum() * half; } if acc > T::one() { acc = acc.sqrt(); } acc + m.map(|v| v * x).sum() * T::from_f64(0.5).unwrap() }",
    "fn g2<T>(w: &[DMatrix<T>], b: &RowDVector<T>) -> DMatrix<T> where T: RealScalar { add_bias(layer(&w[0]), b) }",
    "fn g3<'a, T: RealField, U, const N: usize>(x: &'a SMatrix<T, N, N>, u: U) -> T where 'a: 'a, T: Copy { x.sum() * 2.0 + g::<T, U>(x) }",
];

fn trees(ts: TokenStream) -> Vec<TokenTree> {
    ts.into_iter().collect()
}

/// One random change somewhere in the tree.
fn mutate(rng: &mut Rng, tokens: &mut Vec<TokenTree>, depth: u32) {
    // Descend into a group now and then.
    let groups: Vec<usize> = tokens
        .iter()
        .enumerate()
        .filter(|(_, t)| matches!(t, TokenTree::Group(_)))
        .map(|(i, _)| i)
        .collect();
    if !groups.is_empty() && depth < 6 && rng.chance(0.6) {
        let i = *rng.pick(&groups);
        if let TokenTree::Group(g) = &tokens[i] {
            let mut inner = trees(g.stream());
            mutate(rng, &mut inner, depth + 1);
            let delim = if rng.chance(0.05) {
                delimiter(rng)
            } else {
                g.delimiter()
            };
            tokens[i] = TokenTree::Group(Group::new(delim, inner.into_iter().collect()));
        }
        return;
    }
    let n = tokens.len();
    match rng.below(6) {
        0 if n > 0 => {
            tokens.remove(rng.below(n));
        }
        1 if n > 0 => {
            let i = rng.below(n);
            let t = tokens[i].clone();
            tokens.insert(i, t);
        }
        2 if n > 1 => {
            let i = rng.below(n - 1);
            tokens.swap(i, i + 1);
        }
        3 if n > 0 => {
            let i = rng.below(n);
            let replacement = trees(random_tokens(rng, 1, 1));
            tokens.splice(i..=i, replacement);
        }
        4 if n > 1 => {
            // Move a token far away.
            let (i, j) = (rng.below(n), rng.below(n));
            let t = tokens.remove(i);
            tokens.insert(j.min(tokens.len()), t);
        }
        _ => {
            let i = rng.below(n + 1);
            let insert = trees(random_tokens(rng, 1, 1));
            for (k, t) in insert.into_iter().enumerate() {
                tokens.insert(i + k, t);
            }
        }
    }
}

fn mutated(rng: &mut Rng, source: &str) -> TokenStream {
    let Ok(ts) = TokenStream::from_str(source) else {
        return TokenStream::new();
    };
    let mut tokens = trees(ts);
    for _ in 0..rng.range(1, 4) {
        mutate(rng, &mut tokens, 0);
    }
    tokens.into_iter().collect()
}

// -------------------------------------------------------------------- attributes

fn random_attr(rng: &mut Rng, params: &[&str]) -> TokenStream {
    let mut parts: Vec<String> = Vec::new();
    for _ in 0..rng.below(4) {
        let part = match rng.below(12) {
            0..=3 => {
                let names: Vec<String> = (0..rng.below(4))
                    .map(|_| match rng.below(6) {
                        0 => "unknown".to_string(),
                        1 => "self".to_string(),
                        2 => "1".to_string(),
                        3 => "x::y".to_string(),
                        _ if !params.is_empty() => rng.pick(params).to_string(),
                        _ => "x".to_string(),
                    })
                    .collect();
                let sep = if rng.chance(0.9) { ", " } else { " " };
                let trailing = if rng.chance(0.1) { "," } else { "" };
                let open_close = *rng.pick(&[("(", ")"), ("(", ")"), ("[", "]"), ("{", "}")]);
                format!(
                    "wrt{}{}{trailing}{}",
                    open_close.0,
                    names.join(sep),
                    open_close.1
                )
            }
            4 | 5 => {
                let path = *rng.pick(&[
                    "::autodiff",
                    "autodiff",
                    "my::re::export",
                    "\"autodiff\"",
                    "",
                    "crate",
                    "self",
                    "1",
                    "::",
                    "a::<b>",
                    "a::b::",
                    "(x)",
                ]);
                let eq = if rng.chance(0.9) { " = " } else { " " };
                format!("crate{eq}{path}")
            }
            6 => "wrt".into(),
            7 => "wrt = x".into(),
            8 => format!("{} = 1", rng.pick(&["with", "grad", "name", "r#crate"])),
            // `graph` and `vjp = rule` (SPEC §11, §12), well formed or not; a rule named like
            // a generated item, or like the function.
            9 | 10 => rng
                .pick(&[
                    "graph",
                    "graph(x)",
                    "graph = 1",
                    "vjp = rule",
                    "vjp = m::rule",
                    "vjp",
                    "vjp = ",
                    "vjp = 1",
                    "vjp(rule)",
                    "vjp = f_vjp",
                    "vjp = f",
                    "jvp",
                    "hvp",
                    "jvp, hvp",
                    "jvp = rule",
                    "hvp(x)",
                    "jvp, vjp = rule",
                ])
                .to_string(),
            _ => {
                let n = rng.range(1, 3);
                random_tokens(rng, n, 1).to_string()
            }
        };
        parts.push(part);
    }
    let sep = if rng.chance(0.9) { ", " } else { " " };
    TokenStream::from_str(&parts.join(sep)).unwrap_or_default()
}

// ------------------------------------------------------------------------ driver

/// Runs `cases` inputs from `seed`, a quarter of each kind.
fn fuzz(seed: u64, cases: usize) -> Report {
    install_hook();
    let mut rng = Rng::new(seed);
    let mut report = Report::default();
    // A pool of well-formed functions to mutate and to decorate with random attributes.
    let mut pool: Vec<language::GenFn> = language::program(seed ^ 0x5eed, 24);
    let loops = language::loop_program(seed ^ 0x100b, 12, &pool);
    pool.extend(loops);
    let parts = language::parts_program(seed ^ 0x9a27, 8, &pool);
    pool.extend(parts);
    let generic = language::generic_program(seed ^ 0x6e1c, 8, &pool);
    pool.extend(generic);
    let structs = language::struct_program(seed ^ 0x57c7, 9, &pool);
    pool.extend(structs);
    let rules = language::rule_program(seed ^ 0x7b1e, 3, &pool);
    pool.extend(rules);
    let forward = language::forward_program(seed ^ 0xf0a7, 8);
    let forward_structs = language::forward_struct_program(seed ^ 0xf057, 4, &forward);
    pool.extend(forward);
    pool.extend(forward_structs);
    let mut made = 0;
    while report.inputs < cases {
        match made % 4 {
            0 => {
                let attr = if rng.chance(0.5) {
                    TokenStream::new()
                } else {
                    let n = rng.below(6);
                    random_tokens(&mut rng, n, 2)
                };
                let item = if rng.chance(0.5) {
                    function_shaped(&mut rng)
                } else {
                    let n = rng.below(20);
                    random_tokens(&mut rng, n, 3)
                };
                report.run(Kind::Tokens, attr, item);
            }
            1 => {
                let source = if rng.chance(0.4) {
                    rng.pick(SEEDS).to_string()
                } else {
                    rng.pick(&pool).item()
                };
                let attr = match rng.below(10) {
                    0..=6 => TokenStream::new(),
                    7 => mutated(&mut rng, "wrt(x, y), jvp, hvp"),
                    _ => mutated(&mut rng, "wrt(x, y), crate = ::autodiff"),
                };
                let item = mutated(&mut rng, &source);
                report.run(Kind::Mutated, attr, item);
            }
            2 => {
                // Not `g…`: the bodies name locals `g1`, `g2`, ….
                let name = format!("fz{made}");
                // Of ten: three with loops (SPEC §6), one reading and building parts of values
                // (SPEC §7), one generic over its scalar (SPEC §11), one of a
                // `#[derive(Parameters)]` struct, a method of it or not (SPEC §8), one with
                // forward mode (SPEC §10), of plain parameters or of a struct.
                let f = match rng.below(10) {
                    0..=2 => language::loop_function(&mut rng, name, &pool),
                    3 => language::parts_function(&mut rng, name, &pool),
                    4 => language::generic_function(&mut rng, name, &pool),
                    5 => {
                        let method = rng.chance(0.4);
                        language::struct_function(&mut rng, name, &pool, method)
                    }
                    6 if rng.chance(0.5) => language::forward_function(&mut rng, name, &pool),
                    6 => {
                        let method = rng.chance(0.5);
                        language::forward_struct_function(&mut rng, name, &pool, method)
                    }
                    _ => language::function(&mut rng, name, &pool),
                };
                let attr = TokenStream::from_str(f.outer_args()).unwrap_or_default();
                let item = TokenStream::from_str(&f.item()).unwrap_or_default();
                report.run(Kind::WellFormed, attr, item);
                // Keep the pool fresh, so that calls and mutations see new functions.
                if pool.len() < 48 {
                    pool.push(f);
                } else {
                    let i = rng.below(pool.len());
                    pool[i] = f;
                }
            }
            _ => {
                let f = rng.pick(&pool).clone();
                let names: Vec<&str> = f.params.iter().map(|p| p.name()).collect();
                let attr = random_attr(&mut rng, &names);
                let item = if rng.chance(0.8) {
                    TokenStream::from_str(&f.item()).unwrap_or_default()
                } else {
                    let s: &str = rng.pick::<&str>(SEEDS);
                    TokenStream::from_str(s).unwrap_or_default()
                };
                report.run(Kind::Attribute, attr, item);
            }
        }
        made += 1;
    }
    report
}

fn cases_from_env(default: usize) -> usize {
    std::env::var("AUTODIFF_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The CI version: a few thousand inputs, under half a minute in debug.
#[test]
fn fuzz_short() {
    let report = fuzz(1, 4_000);
    report.assert_clean();
}

/// The long version: `cargo test -p autodiff-macro --release -- --ignored fuzz_long --nocapture`.
#[test]
#[ignore = "long-running: at least 100,000 inputs (see README, Long-running checks)"]
fn fuzz_long() {
    let cases = cases_from_env(120_000);
    let start = std::time::Instant::now();
    let report = fuzz(0xF022, cases);
    println!(
        "fuzz_long: {} inputs (tokens {}, mutated {}, well-formed {}, attributes {}) in {:.1?}, {} panics",
        report.inputs, report.per_kind[0], report.per_kind[1], report.per_kind[2], report.per_kind[3], start.elapsed(), report.panics.len()
    );
    report.assert_clean();
}

/// Every seed function of the mutation corpus that is valid expands; the invalid ones give
/// errors, not panics.
#[test]
fn seeds_expand() {
    let mut report = Report::default();
    for s in SEEDS {
        report.run(
            Kind::Mutated,
            TokenStream::new(),
            TokenStream::from_str(s).unwrap_or_default(),
        );
    }
    report.assert_clean();
}
