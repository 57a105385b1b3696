//! Structured parameters (`p: &Model`, a `#[derive(Parameters)]` struct): every field the body
//! reads (`p.w1`, `&p.w1`, `p.inner.b`) becomes a leaf, a borrowed differentiable value of its
//! own (`p__w1`, bound to `&p.w1` at the start of both sweeps), so that the rest of the pass
//! treats it like a borrowed parameter; the gradient struct is assembled from the leaves'
//! adjoints, with zeros for the fields never read. Passed whole to a method (`Self::f(self,
//! x)`, `Model::f(p, x)`), the parameter is one more leaf, `__ad_whole_p`, whose adjoint (the
//! method's gradient of it) is added to the gradient of the fields.

use crate::errors::Errors;
use crate::signature::Signature;
use quote::{format_ident, quote};
use syn::spanned::Spanned;
use syn::visit_mut::VisitMut;

/// A field read of a structured parameter: `p.inner.b`.
#[derive(Clone, Debug)]
pub struct Leaf {
    /// The position of the parameter in the signature.
    pub param: usize,
    /// The fields from the parameter down (`inner`, `b`).
    pub path: Vec<syn::Ident>,
    /// The leaf's binding: `p__inner__b`.
    pub ident: syn::Ident,
    /// Whether this is the parameter whole (`path` empty), as passed to a method or an
    /// associated function (`Self::f(self, x)`, `Model::f(p, x)`): `__ad_whole_p`, a
    /// differentiable value whose adjoint is added to the gradient of the fields read.
    pub whole: bool,
}

impl Leaf {
    /// `p.inner.__ad_field_b()`: how both sweeps bind the leaf, through the read that
    /// `#[derive(Parameters)]` generates (a reference, or `Skipped` for a skipped field);
    /// `p` itself for the parameter whole.
    pub fn borrow(&self, param: &syn::Ident) -> proc_macro2::TokenStream {
        let Some((last, path)) = self.path.split_last().filter(|_| !self.whole) else {
            return quote!(#param);
        };
        let read = format_ident!("__ad_field_{}", syn::ext::IdentExt::unraw(last));
        quote!(#param #(.#path)*.#read())
    }
}

/// The body with every field read of a structured parameter replaced by `(*leaf)`, and the
/// leaves, in the order they are first read. Any other use of such a parameter is an error.
pub fn rewrite(
    block: &syn::Block,
    sig: &Signature,
    errors: &mut Errors,
) -> (syn::Block, Vec<Leaf>) {
    let structured: Vec<(usize, syn::Ident)> = sig
        .params
        .iter()
        .enumerate()
        .filter(|(_, p)| p.structured && p.differentiable)
        .map(|(i, p)| (i, p.ident.clone()))
        .collect();
    let collections: Vec<syn::Ident> = sig
        .params
        .iter()
        .filter(|p| p.collection && p.differentiable)
        .map(|p| p.ident.clone())
        .collect();
    let mut block = block.clone();
    if structured.is_empty() && collections.is_empty() {
        return (block, Vec::new());
    }
    let receiver = sig.params.iter().find(|p| p.receiver && p.differentiable);
    let mut rewriter = Rewriter {
        receiver: receiver.map(|p| p.ident.clone()),
        structured,
        collections,
        leaves: Vec::new(),
        errors,
        shadowed: Vec::new(),
        constant: false,
    };
    rewriter.visit_block_mut(&mut block);
    (block, rewriter.leaves)
}

struct Rewriter<'e> {
    structured: Vec<(usize, syn::Ident)>,
    /// The receiver of a method (`self_`), named `self` in messages.
    receiver: Option<syn::Ident>,
    /// The collection parameters (`ws: &[M]`), whose loops are rewritten too.
    collections: Vec<syn::Ident>,
    leaves: Vec<Leaf>,
    errors: &'e mut Errors,
    /// The parameters a binding of the body shadows (reported once, at the binding).
    shadowed: Vec<syn::Ident>,
    /// Whether the expression being visited can only be a constant (the operand of `as`, a
    /// range bound, an index): a field read there is left as written, a constant read of the
    /// parameter (`p.n as f64`, `0..p.n` of a `#[parameters(skip)]` field).
    constant: bool,
}

impl Rewriter<'_> {
    /// The parameter whole, as passed to a method: `__ad_whole_p`, declared the first time.
    fn whole(&mut self, (index, param): (usize, syn::Ident), span: proc_macro2::Span) -> syn::Expr {
        let name = syn::ext::IdentExt::unraw(&param).to_string();
        let ident = format_ident!("__ad_whole_{}", name, span = span);
        if !self.leaves.iter().any(|l| l.whole && l.param == index) {
            self.leaves.push(Leaf {
                param: index,
                path: Vec::new(),
                ident: ident.clone(),
                whole: true,
            });
        }
        syn::parse_quote_spanned!(span=> #ident)
    }

    /// Reports `message` at `at`; in a method, the receiver the sweeps name `self_` is
    /// called `self`, as the user wrote it.
    fn say<T: quote::ToTokens>(&mut self, at: T, message: String) {
        let message = match self.receiver.is_some() {
            true => message
                .replace("`self_", "`self")
                .replace("&self_.", "&self."),
            false => message,
        };
        self.errors.push(at, message);
    }

    /// The structured parameter `e` names, if it is one.
    fn param_of(&self, e: &syn::Expr) -> Option<(usize, syn::Ident)> {
        let ident = crate::rename::plain_ident(e)?;
        self.structured.iter().find(|(_, p)| p == ident).cloned()
    }

    /// `p.a.b` as the parameter and its field path, when `e` is a chain of named fields on a
    /// structured parameter.
    fn field_path(&self, e: &syn::Expr) -> Option<((usize, syn::Ident), Vec<syn::Ident>)> {
        match e {
            syn::Expr::Field(f) => {
                let syn::Member::Named(name) = &f.member else {
                    return None;
                };
                let (param, mut path) = match &*f.base {
                    base @ syn::Expr::Path(_) => (self.param_of(base)?, Vec::new()),
                    base => self.field_path(base)?,
                };
                path.push(name.clone());
                Some((param, path))
            }
            syn::Expr::Paren(p) => self.field_path(&p.expr),
            _ => None,
        }
    }

    /// `p.layers[i].w`, a field of an element of a field of a structured parameter, as written.
    fn field_of_element(&self, e: &syn::Expr) -> Option<String> {
        let syn::Expr::Field(f) = e else { return None };
        let syn::Expr::Index(ix) = strip_parens(&f.base) else {
            return None;
        };
        self.field_path(strip_parens(&ix.expr))?;
        Some(quote!(#e).to_string().replace(' ', ""))
    }

    /// The leaf of `path` on parameter `param`, declared the first time it is read.
    fn leaf(
        &mut self,
        (index, param): (usize, syn::Ident),
        path: Vec<syn::Ident>,
        at: &syn::Expr,
    ) -> Option<syn::Ident> {
        if let Some(leaf) = self
            .leaves
            .iter()
            .find(|l| l.param == index && l.path == path && !l.whole)
        {
            return Some(leaf.ident.clone());
        }
        let nested = self.leaves.iter().find(|l| {
            l.param == index && !l.whole && (l.path.starts_with(&path) || path.starts_with(&l.path))
        });
        if let Some(other) = nested {
            let (fields, longer) = (&other.path, other.path.len() > path.len());
            let other = quote!(#param #(.#fields)*).to_string().replace(' ', "");
            let this = quote!(#param #(.#path)*).to_string().replace(' ', "");
            let (outer, inner) = if longer {
                (&this, &other)
            } else {
                (&other, &this)
            };
            self.say(at, format!("`{outer}` is read whole and `{inner}` inside it: read a `Parameters` struct by its leaves only, the scalar and matrix fields (`{inner}`), not a field that holds a struct"));
            return None;
        }
        // Raw names (`r#type`) lose their prefix: `p__type`.
        let names: Vec<String> = path
            .iter()
            .map(|f| syn::ext::IdentExt::unraw(f).to_string())
            .collect();
        let ident = format_ident!("{}__{}", param, names.join("__"), span = at.span());
        self.leaves.push(Leaf {
            param: index,
            path,
            ident: ident.clone(),
            whole: false,
        });
        Some(ident)
    }
}

impl Rewriter<'_> {
    /// Visits an `if` or `while` with its condition read as a constant; false (nothing
    /// visited) for any other expression.
    fn visit_condition(&mut self, e: &mut syn::Expr) -> bool {
        // A condition is only read, never differentiated: a field read there is a constant
        // read, as in a cast (a `#[parameters(skip)]` flag, `if p.on`, is no value a `map`
        // closure could capture).
        let cond = match e {
            syn::Expr::If(i) => &mut *i.cond,
            syn::Expr::While(w) => &mut *w.cond,
            _ => return false,
        };
        let outer = self.constant;
        self.constant = true;
        self.visit_expr_mut(cond);
        self.constant = outer;
        match e {
            syn::Expr::If(i) => {
                self.visit_block_mut(&mut i.then_branch);
                if let Some((_, other)) = &mut i.else_branch {
                    self.visit_expr_mut(other);
                }
            }
            syn::Expr::While(w) => self.visit_block_mut(&mut w.body),
            _ => {}
        }
        true
    }

    /// Visits the parts of an expression some of whose parts are only read as constants
    /// (see `constant_parts`); false (nothing visited) for any other expression.
    fn visit_constant_parts(&mut self, e: &mut syn::Expr) -> bool {
        let Some(parts) = constant_parts(e) else {
            return false;
        };
        let outer = self.constant;
        for (part, constant) in parts {
            self.constant = constant || outer;
            self.visit_expr_mut(part);
        }
        self.constant = outer;
        true
    }

    /// Rewrites the arguments of a call to a differentiated method: a parameter passed whole
    /// (`p` or `&p`) becomes the whole parameter, any other argument is visited; false
    /// (nothing visited) for any other expression.
    fn visit_method_args(&mut self, e: &mut syn::Expr) -> bool {
        let syn::Expr::Call(call) = e else {
            return false;
        };
        if !names_method(&call.func) {
            return false;
        }
        for arg in call.args.iter_mut() {
            // `p` or `&p`: the parameter whole, by reference.
            let whole = match strip_parens(arg) {
                syn::Expr::Reference(r) if r.mutability.is_none() => self.param_of(&r.expr),
                other => self.param_of(other),
            };
            match whole {
                Some(param) if !self.shadowed.contains(&param.1) => {
                    *arg = self.whole(param, arg.span());
                }
                _ => self.visit_expr_mut(arg),
            }
        }
        true
    }

    /// Reports a `Parameters` parameter used whole other than as a differentiated method's
    /// argument; true when `e` is such a parameter (reported, or shadowed and left alone).
    fn reject_whole_param(&mut self, e: &syn::Expr) -> bool {
        let Some((_, param)) = self.param_of(e) else {
            return false;
        };
        if self.shadowed.contains(&param) {
            return true;
        }
        let message = match self.receiver.is_some() {
            // `self_` is what the sweeps call `self`.
            true => "`self` is a `Parameters` struct: read its fields (`self.w`, `&self.w`, `self.inner.b`), or pass it whole to a differentiated method (`self.f(..)`, `Self::f(self, ..)`); using it otherwise (a binding, a free function) is not supported yet: pass the fields the callee needs".to_string(),
            false => format!("`{param}` is a `Parameters` struct: read its fields (`{param}.w`, `&{param}.w`, `{param}.inner.b`), or pass it to a differentiated method by the path of its type (`Model::f({param}, ..)`); using it otherwise (passing it to a free function, calling a method on it) is not supported yet: pass the fields the callee needs"),
        };
        self.errors.push(e, message);
        true
    }
}

impl VisitMut for Rewriter<'_> {
    fn visit_expr_for_loop_mut(&mut self, f: &mut syn::ExprForLoop) {
        self.by_index(f);
        syn::visit_mut::visit_expr_for_loop_mut(self, f);
    }

    fn visit_expr_mut(&mut self, e: &mut syn::Expr) {
        if self.constant && self.field_path(e).is_some() {
            return;
        }
        if self.visit_condition(e) || self.visit_constant_parts(e) || self.visit_method_args(e) {
            return;
        }
        if let Some(element) = self.field_of_element(e) {
            let message = format!("a field of an element of a `Vec` (`{element}`) is not supported yet: keep one `Vec` per kind of weight in the struct (`ws: Vec<DMatrix<f64>>`, `bs: Vec<RowDVector<f64>>`) and read `p.ws[i]`");
            self.say(&*e, message);
            return;
        }
        if let Some((param, path)) = self.field_path(e) {
            if let Some(leaf) = self.leaf(param, path, e) {
                *e = syn::parse_quote_spanned!(e.span()=> (*#leaf));
            }
            return;
        }
        if self.reject_whole_param(e) {
            return;
        }
        syn::visit_mut::visit_expr_mut(self, e);
    }

    fn visit_pat_ident_mut(&mut self, p: &mut syn::PatIdent) {
        if let Some((_, param)) = self.structured.iter().find(|(_, s)| *s == p.ident) {
            let message = format!("`{param}` is a `Parameters` parameter: give this binding another name, so that `{param}.…` keeps reading the parameter's fields");
            self.errors.push(&p.ident, message);
            self.shadowed.push(param.clone());
        }
        syn::visit_mut::visit_pat_ident_mut(self, p);
    }
}

impl Rewriter<'_> {
    /// Whether `c` is a differentiable collection: a collection parameter, or a field of a
    /// structured one (a `Vec` field, or a vector, whose elements are then scalars).
    fn is_collection(&self, c: &syn::Expr) -> bool {
        let param = crate::rename::plain_ident(c);
        param.is_some_and(|p| self.collections.contains(p)) || self.field_path(c).is_some()
    }

    /// `for w in ws.iter()`, `for w in &ws` and `for (i, w) in ws.iter().enumerate()` over a
    /// differentiable collection, as a loop over its positions that reads each element:
    /// `for i in 0..ws.len() { let w = &ws[i]; … }`, which the loops of the language take.
    fn by_index(&mut self, f: &mut syn::ExprForLoop) {
        let (collection, index_pat) = match over_elements(&f.expr) {
            Some((c, enumerated)) if self.is_collection(c) => {
                let index = if enumerated {
                    split_pair(&mut f.pat)
                } else {
                    None
                };
                (c.clone(), index)
            }
            _ => return,
        };
        let position = format_ident!("__ad_position", span = f.expr.span());
        let index = match &index_pat {
            Some(syn::Pat::Ident(i)) if i.by_ref.is_none() && i.subpat.is_none() => i.ident.clone(),
            Some(syn::Pat::Wild(_)) | None => position,
            Some(other) => {
                // Reported here; the loop is still rewritten, so no other error follows.
                let message = "bind the position to a name: `for (i, w) in ws.iter().enumerate()`";
                self.errors.push(other, message);
                position
            }
        };
        let element = &f.pat;
        let stmt: syn::Stmt =
            syn::parse_quote_spanned!(f.pat.span()=> let #element = &#collection[#index];);
        f.body.stmts.insert(0, stmt);
        *f.pat = syn::parse_quote!(#index);
        f.expr = syn::parse_quote_spanned!(f.expr.span()=> 0..#collection.len());
    }
}

/// The collection `c` of `c.iter()`, `&c` or `c.iter().enumerate()`, and whether the loop
/// enumerates it.
fn over_elements(e: &syn::Expr) -> Option<(&syn::Expr, bool)> {
    match e {
        syn::Expr::Paren(p) => over_elements(&p.expr),
        syn::Expr::Reference(r) if r.mutability.is_none() => Some((&r.expr, false)),
        syn::Expr::MethodCall(m) if m.method == "iter" && m.args.is_empty() => {
            Some((&m.receiver, false))
        }
        syn::Expr::MethodCall(m) if m.method == "enumerate" && m.args.is_empty() => {
            match over_elements(&m.receiver)? {
                (c, false) => Some((c, true)),
                _ => None,
            }
        }
        _ => None,
    }
}

/// `(i, w)` split: the position's pattern returned, the element's left in `pat`.
fn split_pair(pat: &mut Box<syn::Pat>) -> Option<syn::Pat> {
    let syn::Pat::Tuple(t) = &**pat else {
        return None;
    };
    if t.elems.len() != 2 {
        return None;
    }
    let (index, element) = (t.elems[0].clone(), t.elems[1].clone());
    **pat = element;
    Some(index)
}

/// The subexpressions of `e` that can only be constants (`true`) and the others (`false`),
/// when `e` has such parts: a cast, a range, an index.
fn constant_parts(e: &mut syn::Expr) -> Option<Vec<(&mut syn::Expr, bool)>> {
    match e {
        syn::Expr::Cast(c) => Some(vec![(&mut *c.expr, true)]),
        syn::Expr::Range(r) => {
            let bounds = [r.start.as_deref_mut(), r.end.as_deref_mut()];
            Some(bounds.into_iter().flatten().map(|b| (b, true)).collect())
        }
        syn::Expr::Index(i) => Some(vec![(&mut *i.expr, false), (&mut *i.index, true)]),
        _ => None,
    }
}

/// Whether `func` names a method or an associated function: `Self::f`, `Model::f` (the
/// segment before the name in UpperCamelCase), as `emit::code::callee_item` reaches it.
fn names_method(func: &syn::Expr) -> bool {
    let syn::Expr::Path(p) = func else {
        return false;
    };
    let mut segments = p.path.segments.iter().rev();
    segments.next();
    let owner = segments.next().map(|s| s.ident.to_string());
    owner.is_some_and(|o| o.chars().next().is_some_and(char::is_uppercase))
}

/// `e` without the parentheses around it.
fn strip_parens(e: &syn::Expr) -> &syn::Expr {
    match e {
        syn::Expr::Paren(p) => strip_parens(&p.expr),
        other => other,
    }
}
