//! Names of generated bindings: readable (`h`, `h__1`, `__ad_d_h`), unique in the function,
//! and never equal to a name the user's code mentions.

use proc_macro2::Span;
use std::collections::{HashMap, HashSet};
use syn::Ident;

/// Hands out fresh binding names.
#[derive(Clone)]
pub struct Names {
    taken: HashSet<String>,
    /// The last version number given to each base name.
    versions: HashMap<String, usize>,
    counter: usize,
}

impl Names {
    /// `mentioned` are every identifier in the user's function: never reused.
    pub fn new(mentioned: HashSet<String>) -> Self {
        Names {
            taken: mentioned,
            versions: HashMap::new(),
            counter: 0,
        }
    }

    /// A binding for the user's variable `base`: `base` itself the first time (the user's own
    /// binding), then `base__1`, `base__2`, … for later versions.
    pub fn version(&mut self, base: &Ident, first: bool) -> Ident {
        let text = base.to_string();
        let text = text.strip_prefix("r#").unwrap_or(&text).to_string();
        if first && self.taken.insert(format!("\0{text}")) {
            // A keyword used as a name (`r#type`) stays raw.
            if syn::parse_str::<Ident>(&text).is_err() {
                return Ident::new_raw(&text, base.span());
            }
            return Ident::new(&text, base.span());
        }
        let version = self.versions.entry(text.clone()).or_default();
        loop {
            *version += 1;
            let candidate = format!("{text}__{version}");
            if self.taken.insert(candidate.clone()) {
                return Ident::new(&candidate, base.span());
            }
        }
    }

    /// A temporary named after what it holds: `__ad_mul3`.
    pub fn temp(&mut self, what: &str, span: Span) -> Ident {
        loop {
            self.counter += 1;
            let candidate = format!("__ad_{what}{}", self.counter);
            if self.taken.insert(candidate.clone()) {
                return Ident::new(&candidate, span);
            }
        }
    }
}

/// The adjoint slot of a binding: `__ad_d_h` for `h`, `__ad_d_mul3` for `__ad_mul3`.
pub fn adjoint(binding: &Ident) -> Ident {
    let text = syn::ext::IdentExt::unraw(binding).to_string();
    let base = text.strip_prefix("__ad_").unwrap_or(&text);
    Ident::new(&format!("__ad_d_{base}"), binding.span())
}

/// The pullback handle of an operation producing `binding`: `__ad_op_h`.
pub fn handle(binding: &Ident, what: &str) -> Ident {
    let text = syn::ext::IdentExt::unraw(binding).to_string();
    let base = text.strip_prefix("__ad_").unwrap_or(&text);
    Ident::new(&format!("__ad_{what}_{base}"), binding.span())
}
