//! Error accumulation: every problem of a function is reported in one build.

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
