//! Names of generated bindings: readable (`h`, `h__1`, `mul3`, `d_h`, `op_mul3`), unique in
//! the function, and never equal to a name the user's code mentions. Where the user's code
//! mentions a name that a short generated name could take (`d_x`, `op_y`, …), every generated
//! name of the function carries the prefix `__ad_` instead (`__ad_mul3`, `__ad_d_h`).

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
    /// Whether generated names go without the prefix `__ad_`.
    short: bool,
    /// The temporaries handed out: values the macro introduced, not the user's bindings.
    temps: HashSet<String>,
}

/// The beginnings of the names derived from a binding's or a parameter's (its adjoint `d_h`,
/// its pullback handle `op_h`, the tape of a call `tape_h`, the flag `want_x`, …): a user's
/// name that begins so could be one.
const DERIVED: [&str; 7] = ["d_", "op_", "tape_", "iter_", "owned_", "end_", "want_"];

impl Names {
    /// `mentioned` are every identifier in the user's function: never reused.
    pub fn new(mentioned: HashSet<String>) -> Self {
        let short = !mentioned
            .iter()
            .any(|m| DERIVED.iter().any(|d| m.starts_with(d)));
        Names {
            taken: mentioned,
            versions: HashMap::new(),
            counter: 0,
            short,
            temps: HashSet::new(),
        }
    }

    /// Whether `name` is a temporary's: a value the macro introduced.
    pub fn is_temp(&self, name: &Ident) -> bool {
        self.temps.contains(&name.to_string())
    }

    /// Whether generated names go without the prefix `__ad_` (see the module's docs).
    pub fn short(&self) -> bool {
        self.short
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

    /// A temporary named after the value it belongs to: `tan_q` for the tangent of `q`, or,
    /// when that name is taken, numbered as [`Names::temp`] does (`tan_q7`).
    pub fn named(&mut self, what: &str, span: Span) -> Ident {
        let candidate = format!("{}{what}", prefix(self.short));
        if self.taken.insert(candidate.clone()) {
            self.temps.insert(candidate.clone());
            return Ident::new(&candidate, span);
        }
        self.temp(what, span)
    }

    /// A temporary named after what it holds: `mul3`.
    pub fn temp(&mut self, what: &str, span: Span) -> Ident {
        let prefix = prefix(self.short);
        loop {
            self.counter += 1;
            let candidate = format!("{prefix}{what}{}", self.counter);
            if self.taken.insert(candidate.clone()) {
                self.temps.insert(candidate.clone());
                return Ident::new(&candidate, span);
            }
        }
    }
}

fn prefix(short: bool) -> &'static str {
    if short {
        ""
    } else {
        "__ad_"
    }
}

/// The adjoint slot of a binding: `d_h` for `h`, `d_mul3` for `mul3`.
pub fn adjoint(binding: &Ident, short: bool) -> Ident {
    derived(binding, "d", short)
}

/// The pullback handle of an operation producing `binding`: `op_h` (`what` is `op`), or
/// another name derived from it the same way (`tape_h`, `iter_h`).
pub fn handle(binding: &Ident, what: &str, short: bool) -> Ident {
    derived(binding, what, short)
}

fn derived(binding: &Ident, what: &str, short: bool) -> Ident {
    let text = syn::ext::IdentExt::unraw(binding).to_string();
    let base = text.strip_prefix("__ad_").unwrap_or(&text);
    let prefix = prefix(short);
    Ident::new(&format!("{prefix}{what}_{base}"), binding.span())
}

/// The name of a function's adapter for its callers: `__ad_sweeps_f`.
pub fn adapter(function: &syn::Ident) -> syn::Ident {
    let name = function.to_string();
    let name = name.strip_prefix("r#").unwrap_or(&name);
    syn::Ident::new(&format!("__ad_sweeps_{name}"), function.span())
}

/// The name of a function's hidden tangent function (forward mode): `__ad_tangent_f`.
pub fn tangent_fn(function: &syn::Ident) -> syn::Ident {
    let name = syn::ext::IdentExt::unraw(function).to_string();
    syn::Ident::new(&format!("__ad_tangent_{name}"), function.span())
}
