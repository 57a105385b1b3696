//! Error accumulation (every problem of a function is reported in one build), and the
//! messages for the constructs outside the language: each names the construct and says
//! what to write instead.

use proc_macro2::TokenStream;
use quote::{quote, ToTokens};
use std::fmt::Display;

/// Collects spanned errors instead of stopping at the first.
#[derive(Default)]
pub struct Errors {
    errors: Vec<syn::Error>,
}

impl Errors {
    /// Records an error pointing at `node`.
    pub fn push<T: quote::ToTokens, M: Display>(&mut self, node: T, message: M) {
        self.errors.push(syn::Error::new_spanned(node, message));
    }

    /// Records an error already built.
    pub fn push_error(&mut self, error: syn::Error) {
        self.errors.push(error);
    }

    /// How many errors were recorded.
    pub fn len(&self) -> usize {
        self.errors.len()
    }

    /// Forgets the errors recorded after the first `len` (a part lowered again).
    pub fn truncate(&mut self, len: usize) {
        self.errors.truncate(len);
    }

    /// Whether no error was recorded.
    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// All errors combined into one, or `Ok` when there are none.
    pub fn finish(self) -> syn::Result<()> {
        let mut iter = self.errors.into_iter();
        match iter.next() {
            None => Ok(()),
            Some(mut first) => {
                first.extend(iter);
                Err(first)
            }
        }
    }
}

/// Constructs rejected even where they touch no differentiable value: macros (the macro
/// cannot see inside them, so they could hide a use of a variable it renames), loops inside
/// an expression (a loop is a statement of the body) and `unsafe` (outside the language
/// whatever they compute).
pub fn forbidden(e: &syn::Expr) -> Option<(TokenStream, String)> {
    let mut finder = Forbidden(None);
    syn::visit::Visit::visit_expr(&mut finder, e);
    finder.0
}

struct Forbidden(Option<(TokenStream, String)>);

impl<'ast> syn::visit::Visit<'ast> for Forbidden {
    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        if self.0.is_none() {
            self.0 = Some((m.to_token_stream(), macro_message(m)));
        }
    }
    fn visit_expr(&mut self, e: &'ast syn::Expr) {
        if self.0.is_some() {
            return;
        }
        if matches!(
            e,
            syn::Expr::While(_) | syn::Expr::Loop(_) | syn::Expr::ForLoop(_) | syn::Expr::Unsafe(_)
        ) {
            self.0 = Some((offending(e), unsupported(e)));
            return;
        }
        syn::visit::visit_expr(self, e);
    }
}

pub fn macro_message(m: &syn::Macro) -> String {
    let name = m
        .path
        .segments
        .last()
        .map(|s| s.ident.to_string())
        .unwrap_or_default();
    format!("macro calls (`{name}!`) are not supported in a differentiated function: #[differentiate] cannot see what a macro expands to; write the expression out, or compute the value outside the function and pass it in")
}

/// The tokens an error about an unsupported expression points at: the keyword and what
/// it applies to (`while cond`, `match x`), not the whole body of a loop.
pub fn offending(e: &syn::Expr) -> TokenStream {
    match e {
        syn::Expr::While(w) => {
            let (token, cond) = (&w.while_token, &w.cond);
            quote!(#token #cond)
        }
        syn::Expr::Loop(l) => l.loop_token.to_token_stream(),
        syn::Expr::ForLoop(f) => {
            let (token, pat, in_token, expr) = (&f.for_token, &f.pat, &f.in_token, &f.expr);
            quote!(#token #pat #in_token #expr)
        }
        syn::Expr::Match(m) => {
            let (token, expr) = (&m.match_token, &m.expr);
            quote!(#token #expr)
        }
        syn::Expr::Unsafe(u) => u.unsafe_token.to_token_stream(),
        syn::Expr::Async(a) => a.async_token.to_token_stream(),
        other => other.to_token_stream(),
    }
}

/// The message for an expression outside the language, naming the construct.
pub fn unsupported(e: &syn::Expr) -> String {
    const STATEMENT: &str = "is a statement, not a value, in a differentiated function: assign a variable declared before the loop (`found = v; break;`) and read it after the loop";
    match e {
        syn::Expr::While(_) => format!("a `while` loop {STATEMENT}"),
        syn::Expr::Loop(_) => format!("a `loop` {STATEMENT}"),
        syn::Expr::ForLoop(_) => format!("a `for` loop {STATEMENT}"),
        syn::Expr::Match(_) => "`match` on a value is not supported: write `if … else if … else`".into(),
        syn::Expr::Closure(_) => closure_message().into(),
        syn::Expr::Macro(m) => macro_message(&m.mac),
        syn::Expr::Unsafe(_) => "`unsafe` blocks are not supported in a differentiated function: compute the value outside the function and pass it in as a constant parameter".into(),
        syn::Expr::Cast(_) => "`as` on a differentiable value is not supported: only constants can be cast (`n as f64`); keep the value in its own float type (write the function for `f32` to compute in `f32`)".into(),
        syn::Expr::Field(_) => "field access on a differentiable value is not supported: pass the field as a parameter of its own".into(),
        syn::Expr::Tuple(_) | syn::Expr::Array(_) => "tuples and arrays of differentiable values are not supported: bind each value with its own `let`".into(),
        syn::Expr::Assign(_) => "an assignment is a statement: write `x = …;` on its own line".into(),
        syn::Expr::Return(_) => "`return` is supported only as the last statement of the function".into(),
        syn::Expr::Let(_) => "`let` in an expression (`if let`, `while let`) is not supported: compare values with `if a > b { … }`".into(),
        syn::Expr::Try(_) => "the `?` operator is not supported in a differentiated function: compute the value outside the function and pass it in".into(),
        syn::Expr::Async(_) | syn::Expr::Await(_) => "`async` and `.await` are not supported in a differentiated function: compute the value outside the function and pass it in".into(),
        syn::Expr::Struct(_) => "struct expressions holding differentiable values are not supported: return a scalar or a matrix".into(),
        syn::Expr::Range(_) => "ranges of differentiable values are not supported: ranges may hold constants only".into(),
        syn::Expr::Break(_) | syn::Expr::Continue(_) => "`break` and `continue` are statements of a loop's body (`if … { break; }`), not values".into(),
        _ => format!("this expression is not supported on differentiable values: `{}`; see the language of #[differentiate] in the `autodiff` documentation", e.to_token_stream()),
    }
}

/// The message for a closure anywhere but as the argument of `map`.
pub fn closure_message() -> &'static str {
    "closures are supported only as the argument of `map` (`m.map(|v| …)`): write the computation inline, or as a #[differentiate] function and call it"
}
