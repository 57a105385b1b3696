//! The attribute's arguments: `wrt(a, b)`, `graph`, `vjp = rule` and `crate = path`, in any
//! order.

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
                Arg::Graph(keyword) => {
                    if args.graph.is_some() {
                        return Err(syn::Error::new_spanned(keyword, "`graph` is given twice"));
                    }
                    args.graph = Some(keyword);
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
    Graph(Ident),
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
            syn::Error::new(e.span(), "expected `wrt(..)`, `graph` or `crate = path`")
        })?;
        if keyword == "graph" {
            return Ok(Arg::Graph(keyword));
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
                    "unknown argument `{keyword}`: expected `wrt(a, b)`, `graph`, `vjp = rule` or \
                     `crate = path`"
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
