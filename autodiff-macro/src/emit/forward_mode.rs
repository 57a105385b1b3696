//! `NAME_jvp` and `NAME_hvp`: the body with its tangents (`tangent.rs`) printed as plain
//! code for the directional derivative; and, for the Hessian-vector product, given to the
//! reverse mode as a hidden function of the parameters, their tangents `v` and a weight `s`,
//! `s·f(x) + ∇f(x)·v`, whose gradient is `H·v` with respect to `x`, `∇f(x)` with respect
//! to `v` and `f(x)` with respect to `s` (reverse over forward: one forward sweep and one
//! reverse sweep give all three).

use super::code::Code;
use super::forward::Forward;
use super::outline;
use super::Function;
use crate::args::Args;
use crate::errors::Errors;
use crate::fields::Leaf;
use crate::generics::Printed;
use crate::ir::*;
use crate::names::Names;
use crate::plan::Tape;
use crate::signature::Signature;
use crate::tangent::Tangents;
use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use std::collections::{HashMap, HashSet};

/// What `NAME_jvp` and `NAME_hvp` are generated from.
pub struct Request<'a> {
    pub func: &'a syn::ItemFn,
    pub sig: &'a Signature,
    /// The lowered body, before the analyses.
    pub body: Body,
    pub names: Names,
    pub param_vars: &'a [VarId],
    /// The fields read of structured parameters, each with its value.
    pub leaves: &'a [(Leaf, VarId)],
    pub krate: &'a TokenStream,
    pub jvp: Option<&'a syn::Ident>,
    pub hvp: Option<&'a syn::Ident>,
}

/// The body with tangents, and what it was built with.
struct Transformed {
    body: Body,
    names: Names,
    /// The tangent of the result.
    tangent: Operand,
    /// Each parameter with a tangent parameter: its index, and the tangent's value.
    tangents: Vec<(usize, VarId)>,
    /// The hidden function's parameter that says which tangents its caller gave.
    given: Option<VarId>,
    /// The tangents of the fields read of structured parameters: each field of the tangent
    /// (its `Leaf` on the tangent's parameter), its value, and the field's own value.
    leaves: Vec<TangentLeaf>,
}

/// The tangent of a field read of a structured parameter.
struct TangentLeaf {
    /// The field on the tangent's parameter.
    leaf: Leaf,
    /// Only passed to calls (the struct whole, or a field no operation reads): bound as it
    /// is, with a flag that says whether it is a tangent, since a `#[parameters(skip)]`
    /// field, whose type alone tells it is one, has none.
    flagged: bool,
    /// The tangent's value.
    var: VarId,
    /// The field's own value.
    of: VarId,
    /// The position of the structured parameter.
    param: usize,
}

/// How the body's tangents start.
#[derive(Clone, Copy, PartialEq)]
enum Seeds {
    /// `NAME_jvp`: one tangent parameter per differentiable parameter, taken as it is.
    Direct,
    /// The hidden function: a tangent parameter per parameter (its caller's argument's
    /// tangent, or the argument itself), and `given[i]` saying which are tangents.
    Given,
}

/// `NAME_jvp` and `NAME_hvp` as asked for, and the hidden function both differentiated
/// callers and `NAME_hvp` call. For a method, the hidden function is an associated function
/// of the same `impl` (`Model::__ad_tangent_NAME`, whose receiver is a parameter `self_`):
/// `inner` holds the items for the `impl`, `outer` the types next to it.
pub fn items(r: Request) -> syn::Result<outline::Generated> {
    check_supported(&r)?;
    let jvp = match r.jvp {
        Some(_) => Some(jvp(&r, &transform(&r, Seeds::Direct)?)),
        None => None,
    };
    let (hidden, hvp) = hidden(&r, transform(&r, Seeds::Given)?)?;
    let outline::Generated { inner, outer } = hidden;
    let name = &r.func.sig.ident;
    let krate = r.krate;
    let rules = quote!(#krate::__private::rules);
    Ok(match &r.sig.owner {
        None => outline::Generated {
            inner: quote! {
                #jvp
                #inner
                #hvp
                impl #rules::ForwardMode for #name {}
                // Reached as a method's is when its module's name is capitalised (`Nets::f`).
                impl #rules::MethodForwardMode for #name {}
            },
            outer,
        },
        Some(owner) => {
            let adapter = outline::adapter_ty_of(Some(owner), name);
            outline::Generated {
                inner: quote!(#jvp #hvp #inner),
                outer: quote!(#outer impl #rules::MethodForwardMode for #adapter {}),
            }
        }
    })
}

/// `hvp` needs a scalar result.
fn check_supported(r: &Request) -> syn::Result<()> {
    if let (Some(hvp), false) = (r.hvp, r.sig.scalar_result) {
        return Err(syn::Error::new_spanned(
            hvp,
            "`hvp` is the Hessian-vector product of a function whose result is a scalar (`f32` or `f64`): take `hvp` of a scalar loss of this result",
        ));
    }
    Ok(())
}

/// The values whose tangents the body reads: by operations, and by calls only.
#[derive(Default)]
struct Reads {
    ops: HashSet<VarId>,
    calls: HashSet<VarId>,
}

/// The body with its tangents. Run twice: the first run finds which fields' tangents are
/// read, and only those are bound (a `#[parameters(skip)]` field has none, and is read as a
/// constant).
fn transform(r: &Request, seeds: Seeds) -> syn::Result<Transformed> {
    let (_, read) = transform_with(r, seeds, None)?;
    Ok(transform_with(r, seeds, Some(&read))?.0)
}

fn transform_with(
    r: &Request,
    seeds: Seeds,
    read: Option<&Reads>,
) -> syn::Result<(Transformed, Reads)> {
    let mut body = r.body.clone();
    let mut names = r.names.clone();
    let mut errors = Errors::default();
    let (tangents, leaves) = tangent_params(r, seeds, read, &mut body, &mut names);
    let given = (seeds == Seeds::Given).then(|| {
        let name = names.named("given", r.func.sig.ident.span());
        new_param(&mut body, name, 0, 2 * r.sig.params.len(), false)
    });
    let block = std::mem::take(&mut body.block);
    let span = r.func.sig.ident.span();
    let collections = collections_read(&block);
    let mut pass = Tangents::new(&mut body.vars, &mut names, &mut errors, &[]);
    let mut start = Block::default();
    let differentiable = tangents.iter().filter(|(i, _)| {
        let p = &r.sig.params[*i];
        p.differentiable && !p.structured
    });
    let fields = leaves.iter().map(|l| (l.param, l.var, l.of, Some(l)));
    let params = differentiable.map(|&(i, t)| (i, t, r.param_vars[i], None));
    for (i, t, param, leaf) in params.chain(fields).collect::<Vec<_>>() {
        let collection = r.sig.params[i].collection || collections.contains(&param);
        if let Some(leaf) = leaf.filter(|l| l.flagged) {
            let field = !leaf.leaf.whole;
            pass.seed_flagged(param, t, given.map(|g| (g, i)), field);
            continue;
        }
        match given {
            Some(given) if collection => pass.seed_flagged(param, t, Some((given, i)), false),
            Some(given) => {
                let seed = pass.given(&mut start, t, given, i, span);
                pass.seed(param, seed);
            }
            None => pass.seed(param, Operand::Var(t)),
        }
    }
    let (mut block, tangent) = pass.body(block, &body.result, span);
    let read = Reads {
        ops: pass.read(),
        calls: pass.called(),
    };
    start.stmts.append(&mut block.stmts);
    body.block = start;
    errors.finish()?;
    let transformed = Transformed {
        body,
        names,
        tangent,
        tangents,
        given,
        leaves,
    };
    Ok((transformed, read))
}

/// The tangent parameters (of the differentiable ones for `NAME_jvp`, of every one for the
/// hidden function), after the function's own, and the tangents of the fields read of
/// structured ones (only those in `read`, when given).
fn tangent_params(
    r: &Request,
    seeds: Seeds,
    read: Option<&Reads>,
    body: &mut Body,
    names: &mut Names,
) -> (Vec<(usize, VarId)>, Vec<TangentLeaf>) {
    let count = r.sig.params.len();
    let (mut tangents, mut leaves) = (Vec::new(), Vec::new());
    let params = r.sig.params.iter().enumerate();
    for (i, p) in params.filter(|(_, p)| seeds == Seeds::Given || p.differentiable) {
        let base = syn::ext::IdentExt::unraw(&p.ident).to_string();
        let name = names.named(&format!("tan_{base}"), p.ident.span());
        let index = count + tangents.len();
        // A collection is read through a reference, as its parameter is; a structured
        // parameter through its fields, each a value of its own.
        let refs = if p.collection { 1 } else { p.refs };
        let value = p.differentiable && !p.structured;
        tangents.push((i, new_param(body, name, refs, index, value)));
        if !(p.structured && p.differentiable) {
            continue;
        }
        // The fields read, and the struct whole where it is passed to methods.
        let fields = (r.leaves.iter()).filter(|(l, v)| {
            l.param == i && read.is_none_or(|read| read.ops.contains(v) || read.calls.contains(v))
        });
        for (leaf, v) in fields {
            let by_ops = read.is_none_or(|read| read.ops.contains(v));
            let base = syn::ext::IdentExt::unraw(&leaf.ident).to_string();
            let ident = names.named(&format!("tan_{base}"), leaf.ident.span());
            let var = new_param(body, ident.clone(), 1, index, true);
            let leaf = Leaf {
                param: index,
                path: leaf.path.clone(),
                ident,
                whole: leaf.whole,
            };
            leaves.push(TangentLeaf {
                flagged: leaf.whole || !by_ops,
                leaf,
                var,
                of: *v,
                param: i,
            });
        }
    }
    (tangents, leaves)
}

/// The values read by element (`ws[i]`) in `block`: collections.
fn collections_read(block: &Block) -> HashSet<VarId> {
    let mut out = HashSet::new();
    crate::walk::for_each_let(block, &mut |_, expr, _| {
        if let Expr::Op(op) = expr {
            if op.op.rule == "item" {
                out.extend(op.operands[0].var());
            }
        }
    });
    out
}

/// A parameter of the function forward mode builds.
fn new_param(
    body: &mut Body,
    name: syn::Ident,
    refs: i32,
    index: usize,
    differentiable: bool,
) -> VarId {
    body.vars.push(Var {
        name,
        binding_refs: refs,
        varied: differentiable,
        useful: false,
        kind: VarKind::Param {
            index,
            differentiable,
        },
        ty: None,
        reread: None,
        introduced: true,
    });
    body.vars.len() - 1
}

/// The statements of `body` as plain code (no tape, nothing differentiated), and each of
/// `results` as an owned value.
fn plain(
    body: &Body,
    krate: &TokenStream,
    params: &[VarId],
    results: &[&Operand],
) -> (TokenStream, Vec<TokenStream>) {
    let mut quiet = body.clone();
    for v in &mut quiet.vars {
        v.useful = false;
    }
    let tape = Tape::default();
    let closures = HashMap::new();
    let moves = crate::recycle::forward(&quiet, &tape, &closures, params);
    let code = Code::new(&quiet, krate);
    let forward = Forward {
        code: &code,
        tape: &tape,
        closures: &closures,
        moves: &moves,
        graph: None,
    };
    let alias = code.rules_alias();
    let stmts = forward.block(&quiet.block);
    let values = results.iter().map(|o| code.operand_at(o, 0)).collect();
    (quote!(#alias #stmts), values)
}

/// `let ws = &ws;` for each collection parameter taken by value: the body reads it through a
/// reference.
fn owned_collections(sig: &Signature) -> Vec<TokenStream> {
    let owned = sig.params.iter().filter(|p| p.collection && p.refs == 0);
    owned
        .map(|p| {
            let name = &p.ident;
            quote!(let #name = &#name;)
        })
        .collect()
}

/// A name for a generated parameter that no parameter of the function has.
fn free_name(sig: &Signature, wanted: &str) -> syn::Ident {
    if sig.params.iter().any(|p| p.ident == wanted) {
        format_ident!("__ad_{}", wanted)
    } else {
        format_ident!("{}", wanted)
    }
}

/// The pieces both items are written with.
struct Outline {
    typed: Vec<TokenStream>,
    /// `let self_ = self;` for a method.
    receiver: Option<TokenStream>,
    generics: Printed,
    grad: TokenStream,
}

impl Outline {
    fn of(func: &syn::ItemFn, sig: &Signature, krate: &TokenStream) -> Self {
        let typed = sig
            .params
            .iter()
            .map(|p| {
                let (i, t) = (&p.ident, &p.ty);
                match p.receiver {
                    true => quote!(&self),
                    false => quote!(#i: #t),
                }
            })
            .collect();
        let receiver = sig.params.iter().find(|p| p.receiver).map(|p| {
            let ident = &p.ident;
            quote!(let #ident = self;)
        });
        let generics = Printed::of(sig.generics.as_ref(), krate);
        let grad_name = outline::grad_ty_of(sig.owner.as_ref(), &func.sig.ident);
        let args = &generics.args;
        Outline {
            typed,
            receiver,
            grad: quote!(#grad_name #args),
            generics,
        }
    }
}

/// `let p__w = p.__ad_field_w();` for each field read of a structured parameter, the
/// parameter's name given by `param`.
fn bind_fields<'l>(
    leaves: impl Iterator<Item = &'l Leaf>,
    param: impl Fn(&Leaf) -> TokenStream,
) -> Vec<TokenStream> {
    leaves
        .map(|leaf| {
            let ident = &leaf.ident;
            let read = field_read(leaf, param(leaf));
            quote!(let #ident = #read;)
        })
        .collect()
}

/// `p.inner.__ad_field_w()`: how a field is read through the accessor `#[derive(Parameters)]`
/// generates; `&p` for the parameter whole.
fn field_read(leaf: &Leaf, param: TokenStream) -> TokenStream {
    match leaf.path.split_last() {
        Some((last, path)) if !leaf.whole => {
            let read = format_ident!("__ad_field_{}", syn::ext::IdentExt::unraw(last));
            quote!(#param #(.#path)*.#read())
        }
        _ => quote!(&#param),
    }
}

/// `NAME_jvp(PARAMS, tangent) -> (value, directional derivative)`.
fn jvp(r: &Request, t: &Transformed) -> TokenStream {
    let tangent = free_name(r.sig, "tangent");
    let krate = r.krate;
    let bind = t.tangents.iter().filter_map(|&(i, var)| {
        let p = &r.sig.params[i];
        let (field, local) = (&p.ident, &t.body.vars[var].name);
        Some(if p.structured {
            return None;
        } else if p.refs == 1 || p.collection {
            quote!(let #local = &#tangent.#field;)
        } else {
            quote!(let #local = #tangent.#field;)
        })
    });
    let fields = bind_fields(r.leaves.iter().map(|(l, _)| l), |l| {
        let p = &r.sig.params[l.param].ident;
        quote!(#p)
    });
    // A tangent field through a check: a `#[parameters(skip)]` field has no tangent. One
    // only passed to calls goes as it is, with its flag.
    let tangent_fields = t.leaves.iter().map(|l| {
        let (ident, field) = (&l.leaf.ident, &r.sig.params[l.param].ident);
        let read = field_read(&l.leaf, quote!(#tangent.#field));
        match l.flagged {
            true => quote!(let #ident = #read;),
            false => quote!(let #ident = #krate::__private::rules::field_tangent(#read);),
        }
    });
    let params: Vec<VarId> = (r.param_vars.iter().copied())
        .chain(r.leaves.iter().map(|(_, v)| *v))
        .chain(t.leaves.iter().map(|l| l.var))
        .chain(t.tangents.iter().map(|t| t.1))
        .collect();
    let (stmts, values) = plain(&t.body, r.krate, &params, &[&t.body.result, &t.tangent]);
    let (value, derivative) = (&values[0], &values[1]);
    let reborrow = owned_collections(r.sig);
    jvp_item(
        r.func,
        r.sig,
        r.krate,
        quote! {
            #(#reborrow)*
            #(#bind)*
            #(#fields)*
            #(#tangent_fields)*
            #stmts
            (#value, #derivative)
        },
    )
}

/// `NAME_jvp` with `body`.
fn jvp_item(
    func: &syn::ItemFn,
    sig: &Signature,
    krate: &TokenStream,
    body: TokenStream,
) -> TokenStream {
    let (name, ret) = (&func.sig.ident, &sig.ret);
    let tangent = free_name(sig, "tangent");
    let link = doc_link(sig, name);
    let doc = format!(
        "The value of {link} and its directional derivative along `{tangent}` (one field per differentiable parameter): the Jacobian-vector product, in forward mode."
    );
    let item = Item {
        name: format_ident!("{}_jvp", name),
        direction: tangent,
        doc,
    };
    item.print(func, sig, krate, |_| quote!((#ret, #ret)), body)
}

/// `NAME_hvp` with `body`.
fn hvp_item(
    func: &syn::ItemFn,
    sig: &Signature,
    krate: &TokenStream,
    body: TokenStream,
) -> TokenStream {
    let (name, ret) = (&func.sig.ident, &sig.ret);
    let v = free_name(sig, "v");
    let link = doc_link(sig, name);
    let doc = format!(
        "The value of {link}, its gradient and the Hessian-vector product `H·{v}`, `{v}` having one field per differentiable parameter (reverse mode over forward mode)."
    );
    let item = Item {
        name: format_ident!("{}_hvp", name),
        direction: v,
        doc,
    };
    item.print(func, sig, krate, |grad| quote!((#ret, #grad, #grad)), body)
}

/// `NAME_jvp` or `NAME_hvp`: the function's parameters, then a direction of the gradient's
/// struct.
struct Item {
    name: syn::Ident,
    /// The direction's parameter: `tangent`, `v`.
    direction: syn::Ident,
    doc: String,
}

impl Item {
    fn print(
        &self,
        func: &syn::ItemFn,
        sig: &Signature,
        krate: &TokenStream,
        ret: impl Fn(&TokenStream) -> TokenStream,
        body: TokenStream,
    ) -> TokenStream {
        let o = Outline::of(func, sig, krate);
        let Printed {
            decl, where_clause, ..
        } = &o.generics;
        let (typed, grad, receiver) = (&o.typed, &o.grad, &o.receiver);
        let (name, vis, direction, doc) = (&self.name, &func.vis, &self.direction, &self.doc);
        let ret = ret(grad);
        let span = crate::rename::at(func.sig.ident.span());
        quote_spanned! {span=>
            #[doc = #doc]
            #[allow(unused, non_snake_case, clippy::all)]
            #vis fn #name #decl (#(#typed,)* #direction: #grad) -> #ret #where_clause {
                #receiver
                #body
            }
        }
    }
}

/// A link to the function in a doc comment: `[`f`](f())`, or `[`f`](Self::f)` for a method.
fn doc_link(sig: &Signature, name: &syn::Ident) -> String {
    match sig.owner {
        Some(_) => format!("[`{name}`](Self::{name})"),
        None => format!("[`{name}`]({name}())"),
    }
}

/// The items asked for, with bodies that are never run: what a caller sees when the
/// function's body is rejected, so that the body's error is the only one.
pub fn stubs(func: &syn::ItemFn, sig: &Signature, krate: &TokenStream, args: &Args) -> TokenStream {
    let unreachable = quote!(::core::unreachable!(
        "#[differentiate] rejected the body of this function"
    ));
    let jvp = args
        .jvp
        .as_ref()
        .map(|_| jvp_item(func, sig, krate, unreachable.clone()));
    let hvp = (args.hvp.as_ref().filter(|_| sig.scalar_result))
        .map(|_| hvp_item(func, sig, krate, unreachable.clone()));
    quote!(#jvp #hvp)
}

/// The hidden function `__ad_tangent_NAME(PARAMS, tangents…, given, weight) -> RET`, the
/// weighted `weight·NAME(PARAMS) + ∇NAME·tangents` (its tangents those `given` says), with
/// the items of the reverse mode; and `NAME_hvp`, which takes its gradient.
fn hidden(r: &Request, t: Transformed) -> syn::Result<(outline::Generated, TokenStream)> {
    let Transformed {
        mut body,
        mut names,
        tangent,
        tangents,
        given,
        leaves: tangent_leaves,
    } = t;
    let span = r.func.sig.ident.span();
    let weight = names.named("weight", span);
    let weight_var = new_param(
        &mut body,
        weight.clone(),
        0,
        2 * r.sig.params.len() + 1,
        true,
    );
    let mut errors = Errors::default();
    let mut block = std::mem::take(&mut body.block);
    let result = body.result.clone();
    let mut pass = Tangents::new(&mut body.vars, &mut names, &mut errors, &[]);
    body.result = pass.weighted(&mut block, Operand::Var(weight_var), result, tangent, span);
    body.block = block;
    let param_vars: Vec<VarId> = (r.param_vars.iter().copied())
        .chain(tangents.iter().map(|t| t.1))
        .chain(given)
        .chain([weight_var])
        .collect();
    let mut leaves: Vec<(Leaf, VarId)> = r.leaves.to_vec();
    leaves.extend(tangent_leaves.iter().map(|l| (l.leaf.clone(), l.var)));
    let item = hidden_item(r, &body, &tangents, given, &weight, &param_vars, &leaves)?;
    let mut wrt: Vec<syn::Ident> = (r.sig.params.iter().filter(|p| p.differentiable))
        .map(|p| p.ident.clone())
        .collect();
    let differentiable = (tangents.iter()).filter(|(i, _)| r.sig.params[*i].differentiable);
    wrt.extend(differentiable.map(|&(_, v)| body.vars[v].name.clone()));
    wrt.push(weight.clone());
    let generated = reverse_items(r, &item, wrt, body.clone(), &param_vars, &leaves)?;
    let hidden = outline::Generated {
        inner: hide(generated.inner, r.sig.owner.is_some())?,
        outer: hide(generated.outer, false)?,
    };
    let hvp = r
        .hvp
        .map(|_| hvp(r, &item.sig.ident, &body, &tangents, &weight));
    Ok((hidden, hvp.unwrap_or_default()))
}

/// The items of the reverse mode of the hidden function `item`, whose body is `body`,
/// differentiated with respect to `wrt`.
fn reverse_items(
    r: &Request,
    item: &syn::ItemFn,
    wrt: Vec<syn::Ident>,
    mut body: Body,
    param_vars: &[VarId],
    leaves: &[(Leaf, VarId)],
) -> syn::Result<outline::Generated> {
    let args = Args {
        wrt: Some(wrt),
        ..Args::default()
    };
    let mut errors = Errors::default();
    let sig = crate::signature::check(&item.sig, &args, r.sig.owner.as_ref(), &mut errors);
    errors.finish()?;
    let Some(sig) = sig else {
        let message = "forward mode: the hidden function's signature was rejected";
        return Err(syn::Error::new(r.func.sig.ident.span(), message));
    };
    crate::analyse::mark_useful(&mut body);
    let mask = crate::differentiate::Mask {
        sources: crate::analyse::sources(&body),
        all: sig.differentiable(),
    };
    let lent = super::lent(&sig, param_vars);
    // The fields' values are inputs as the parameters are.
    let inputs: Vec<VarId> = (param_vars.iter().copied())
        .chain(leaves.iter().map(|(_, v)| *v))
        .collect();
    let plan = crate::differentiate::function(&body, &inputs, mask, &lent);
    super::items(&Function {
        item,
        sig: &sig,
        body: &body,
        plan: &plan,
        param_vars,
        leaves,
        krate: r.krate.clone(),
        graph: false,
    })
}

/// Every item `#[doc(hidden)]`: the hidden function's are not the user's API. `in_impl`:
/// the items of an `impl` block (a method's), not of a module.
fn hide(tokens: TokenStream, in_impl: bool) -> syn::Result<TokenStream> {
    let hidden: syn::Attribute = syn::parse_quote!(#[doc(hidden)]);
    let hide = |attrs: &mut Vec<syn::Attribute>| {
        if !attrs.contains(&hidden) {
            attrs.push(hidden.clone());
        }
    };
    if in_impl {
        let mut block: syn::ItemImpl = syn::parse2(quote!(impl __AdHidden { #tokens }))?;
        for item in &mut block.items {
            match item {
                syn::ImplItem::Fn(i) => hide(&mut i.attrs),
                syn::ImplItem::Const(i) => hide(&mut i.attrs),
                syn::ImplItem::Type(i) => hide(&mut i.attrs),
                _ => {}
            }
        }
        let items = &block.items;
        return Ok(quote!(#(#items)*));
    }
    let mut file: syn::File = syn::parse2(tokens)?;
    for item in &mut file.items {
        let attrs = match item {
            syn::Item::Fn(i) => &mut i.attrs,
            syn::Item::Struct(i) => &mut i.attrs,
            syn::Item::Type(i) => &mut i.attrs,
            syn::Item::Trait(i) => &mut i.attrs,
            syn::Item::Impl(i) => &mut i.attrs,
            syn::Item::Const(i) => &mut i.attrs,
            _ => continue,
        };
        hide(attrs);
    }
    Ok(quote!(#file))
}

/// `NAME_hvp(PARAMS, v)`: the gradient of the hidden function with every tangent given and
/// weight 0 (its value with respect to the weight, the gradient with respect to the
/// tangents, `H·v` with respect to the parameters).
fn hvp(
    r: &Request,
    hidden: &syn::Ident,
    body: &Body,
    tangents: &[(usize, VarId)],
    weight: &syn::Ident,
) -> TokenStream {
    let grad_fn = format_ident!("{}_grad", hidden);
    let grad_fn = match r.sig.owner {
        Some(_) => quote!(Self::#grad_fn),
        None => quote!(#grad_fn),
    };
    let v = free_name(r.sig, "v");
    let names_in: Vec<&syn::Ident> = r.sig.params.iter().map(|p| &p.ident).collect();
    let tangent_args = tangents.iter().map(|&(i, _)| {
        let p = &r.sig.params[i];
        let field = &p.ident;
        match (p.differentiable, p.refs) {
            (true, 1) => quote!(&#v.#field),
            (true, _) => quote!(#v.#field),
            // Not a tangent (`given` says so): the argument again.
            (false, 1) => quote!(#field),
            (false, _) => quote!(::core::clone::Clone::clone(&#field)),
        }
    });
    let differentiable: Vec<(usize, VarId)> = (tangents.iter().copied())
        .filter(|(i, _)| r.sig.params[*i].differentiable)
        .collect();
    let fields: Vec<&syn::Ident> = differentiable
        .iter()
        .map(|&(i, _)| &r.sig.params[i].ident)
        .collect();
    let tangent_fields = differentiable.iter().map(|&(_, var)| &body.vars[var].name);
    let grad_name = outline::grad_ty_of(r.sig.owner.as_ref(), &r.func.sig.ident);
    let krate = r.krate;
    let count = r.sig.params.len();
    hvp_item(
        r.func,
        r.sig,
        krate,
        quote! {
            let (_, __ad_h) = #grad_fn(
                #(#names_in,)*
                #(#tangent_args,)*
                [true; #count],
                #krate::__private::rules::zero(),
            );
            (
                __ad_h.#weight,
                #grad_name { #(#fields: __ad_h.#tangent_fields,)* },
                #grad_name { #(#fields: __ad_h.#fields,)* },
            )
        },
    )
}

/// The hidden function's item: its signature, and its body printed as plain code.
fn hidden_item(
    r: &Request,
    body: &Body,
    tangents: &[(usize, VarId)],
    given: Option<VarId>,
    weight: &syn::Ident,
    params: &[VarId],
    leaves: &[(Leaf, VarId)],
) -> syn::Result<syn::ItemFn> {
    let mut item = r.func.clone();
    // A method's receiver is a parameter `self_: &Model` of the hidden free function.
    item.sig = crate::method::signature(&r.func.sig, r.sig.owner.as_ref());
    for (input, p) in item.sig.inputs.iter_mut().zip(&r.sig.params) {
        if p.receiver {
            let (name, ty) = (&p.ident, &p.ty);
            *input = syn::parse_quote!(#name: #ty);
        }
    }
    item.sig.ident = crate::names::tangent_fn(&r.func.sig.ident);
    item.vis = r.func.vis.clone();
    item.attrs = vec![
        syn::parse_quote!(#[doc(hidden)]),
        syn::parse_quote!(#[allow(unused, non_snake_case, clippy::all)]),
    ];
    for &(i, var) in tangents {
        let (name, ty) = (&body.vars[var].name, &r.sig.params[i].ty);
        item.sig.inputs.push(syn::parse_quote!(#name: #ty));
    }
    if let Some(given) = given {
        let (name, count) = (&body.vars[given].name, r.sig.params.len());
        item.sig
            .inputs
            .push(syn::parse_quote!(#name: [bool; #count]));
    }
    let scalar = scalar_of(r.sig)?;
    item.sig.inputs.push(syn::parse_quote!(#weight: #scalar));
    let all: Vec<VarId> = (params.iter().copied())
        .chain(leaves.iter().map(|(_, v)| *v))
        .collect();
    let (stmts, values) = plain(body, r.krate, &all, &[&body.result]);
    let value = &values[0];
    let count = r.sig.params.len();
    let fields = bind_fields(leaves.iter().map(|(l, _)| l), |l| {
        if l.param < count {
            let p = &r.sig.params[l.param].ident;
            quote!(#p)
        } else {
            let tangent = tangents.iter().find(|(i, _)| *i == l.param - count);
            let name = tangent.map(|&(_, v)| &body.vars[v].name);
            quote!(#name)
        }
    });
    // A collection taken by value is read through a reference, its tangent too.
    let mut reborrow = owned_collections(r.sig);
    for &(i, var) in tangents {
        let p = &r.sig.params[i];
        if p.collection && p.refs == 0 {
            let name = &body.vars[var].name;
            reborrow.push(quote!(let #name = &#name;));
        }
    }
    item.block = Box::new(syn::parse2(
        quote!({ #(#reborrow)* #(#fields)* #stmts #value }),
    )?);
    Ok(item)
}

/// The scalar type of the result: the result itself, or a matrix's element type (the first
/// type argument of nalgebra's matrix types).
fn scalar_of(sig: &Signature) -> syn::Result<syn::Type> {
    if sig.scalar_result {
        return Ok(sig.ret.clone());
    }
    if let syn::Type::Path(p) = &sig.ret {
        if let Some(syn::PathArguments::AngleBracketed(a)) =
            p.path.segments.last().map(|s| &s.arguments)
        {
            if let Some(syn::GenericArgument::Type(t)) = a.args.first() {
                return Ok(t.clone());
            }
        }
    }
    Err(syn::Error::new_spanned(&sig.ret, "forward mode: the element type of this result is not known; write it as `DMatrix<f64>` or another nalgebra type with its scalar first"))
}
