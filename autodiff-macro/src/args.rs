//! The attribute's arguments: `wrt(a, b)`, `graph`, `jvp`, `hvp`, `vjp = rule` and
//! `crate = path`, in any order.

use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Ident, Path, Token};

/// Parsed `#[differentiate(...)]` arguments.
#[derive(Default)]
pub struct Args {
    /// The only differentiable parameters, when given.
    pub wrt: Option<Vec<Ident>>,
    /// The path under which the `autodiff` crate is reachable.
    pub krate: Option<Path>,
    /// `graph`: also generate `NAME_graph`, the picture of the computation.
    pub graph: Option<Ident>,
    /// `vjp = rule`: the reverse sweep calls the user's rule; the body is not read.
    pub vjp: Option<(Ident, Path)>,
    /// `jvp`: also generate `NAME_jvp`, forward mode.
    pub jvp: Option<Ident>,
    /// `hvp`: also generate `NAME_hvp`, the Hessian-vector product.
    pub hvp: Option<Ident>,
}

impl Parse for Args {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let mut args = Args::default();
        let items = Punctuated::<Arg, Token![,]>::parse_terminated(input)?;
        for item in items {
            match item {
                Arg::Wrt(keyword, names) => {
                    if args.wrt.is_some() {
                        return Err(syn::Error::new_spanned(
                            keyword,
                            "`wrt` is given twice: list every parameter in one `wrt(..)`",
                        ));
                    }
                    args.wrt = Some(names);
                }
                Arg::Vjp(keyword, rule) => {
                    if args.vjp.is_some() {
                        return Err(syn::Error::new_spanned(
                            keyword,
                            "`vjp` is given twice: name one rule",
                        ));
                    }
                    args.vjp = Some((keyword, rule));
                }
                Arg::Word(keyword) => {
                    let slot = match keyword.to_string().as_str() {
                        "jvp" => &mut args.jvp,
                        "hvp" => &mut args.hvp,
                        _ => &mut args.graph,
                    };
                    if slot.is_some() {
                        let message = format!("`{keyword}` is given twice");
                        return Err(syn::Error::new_spanned(keyword, message));
                    }
                    *slot = Some(keyword);
                }
                Arg::Crate(keyword, path) => {
                    if args.krate.is_some() {
                        return Err(syn::Error::new_spanned(
                            keyword,
                            "`crate` is given twice: name the path of the `autodiff` crate once",
                        ));
                    }
                    args.krate = Some(path);
                }
            }
        }
        Ok(args)
    }
}

enum Arg {
    Wrt(Ident, Vec<Ident>),
    /// A word on its own: `graph`, `jvp` or `hvp`.
    Word(Ident),
    Vjp(Ident, Path),
    Crate(Token![crate], Path),
}

impl Parse for Arg {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        if input.peek(Token![crate]) {
            let keyword: Token![crate] = input.parse()?;
            input.parse::<Token![=]>().map_err(|e| {
                syn::Error::new(
                    e.span(),
                    "expected `crate = path`, for example `crate = ::autodiff`",
                )
            })?;
            if input.peek(syn::LitStr) {
                let lit: syn::LitStr = input.parse()?;
                return Err(syn::Error::new_spanned(
                    lit,
                    "`crate` takes a path, not a string: write `crate = my_autodiff`",
                ));
            }
            let path = Path::parse_mod_style(input)?;
            return Ok(Arg::Crate(keyword, path));
        }
        let keyword: Ident = input.parse().map_err(|e| {
            syn::Error::new(
                e.span(),
                "expected `wrt(..)`, `graph`, `jvp`, `hvp`, `vjp = rule` or `crate = path`",
            )
        })?;
        if keyword == "graph" || keyword == "jvp" || keyword == "hvp" {
            return Ok(Arg::Word(keyword));
        }
        if keyword == "vjp" {
            input.parse::<Token![=]>().map_err(|e| {
                syn::Error::new(
                    e.span(),
                    "expected `vjp = rule`, the function that gives the gradient",
                )
            })?;
            return Ok(Arg::Vjp(keyword, Path::parse_mod_style(input)?));
        }
        if keyword != "wrt" {
            return Err(syn::Error::new_spanned(
                &keyword,
                format!(
                    "unknown argument `{keyword}`: expected `wrt(a, b)`, `graph`, `jvp`, `hvp`, \
                     `vjp = rule` or `crate = path`"
                ),
            ));
        }
        let content;
        syn::parenthesized!(content in input);
        // `self` too: the receiver of a method.
        let names = Punctuated::<Ident, Token![,]>::parse_terminated_with(
            &content,
            syn::ext::IdentExt::parse_any,
        )?;
        if names.is_empty() {
            return Err(syn::Error::new_spanned(
                &keyword,
                "`wrt()` is empty: name at least one parameter to differentiate",
            ));
        }
        Ok(Arg::Wrt(keyword, names.into_iter().collect()))
    }
}
