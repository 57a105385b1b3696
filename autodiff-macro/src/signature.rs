//! The function's signature: which parameters are differentiable, what the result is, and
//! everything the attribute cannot be put on (methods, `&mut`, no result, generics other than
//! one scalar type parameter).

use crate::args::Args;
use crate::errors::Errors;
use syn::spanned::Spanned;

/// One parameter of the function.
pub struct Param {
    pub ident: syn::Ident,
    /// The type as written.
    pub ty: syn::Type,
    /// The type without its reference.
    pub owned: syn::Type,
    /// The type of the gradient field: `owned`, but `Vec<M>` for a collection `&[M]`.
    pub grad_ty: syn::Type,
    /// 1 for `&T`, 0 for `T`.
    pub refs: i32,
    pub differentiable: bool,
    /// Whether the type (without its reference) is a scalar or matrix type, which could be
    /// differentiated (whether or not `wrt(..)` lists it).
    pub value_type: bool,
    /// Whether the parameter is a reference to a type of the user's own (`p: &Model`), taken
    /// to be a `#[derive(Parameters)]` struct whose fields the body reads (`fields.rs`).
    pub structured: bool,
    /// Whether the parameter is a slice or `Vec` of scalars or matrices (`ws: &[DMatrix<f64>]`,
    /// `ws: Vec<DMatrix<f64>>`), read by element (`ws[i]`); its gradient is a `Vec`. One taken
    /// by value is borrowed by both sweeps from the one the reverse sweep owns.
    pub collection: bool,
    /// Whether this is the receiver `&self` of a method, a structured parameter named `self_`
    /// in the generated code (the field of the gradient of `self`).
    pub receiver: bool,
}

impl Param {
    /// Whether the parameter may be given to the reverse sweep, which then gives it back to
    /// the pool (a borrowed differentiable parameter, which a caller may give instead of
    /// lending). A structured parameter is passed as the reference it is: its fields are read
    /// through it.
    pub fn lent(&self) -> bool {
        self.refs == 1 && self.differentiable && !self.structured && !self.collection
    }

    /// Whether the reverse sweep takes the parameter as a `Lent`: a borrowed scalar or matrix,
    /// differentiable or not (a caller cannot tell which, and may give either a value of its
    /// own; only a differentiable one goes back to the pool, through [`Param::lent`]).
    pub fn passed_as_lent(&self) -> bool {
        self.lent() || (self.refs == 1 && self.value_type && !self.structured && !self.collection)
    }
}

/// The checked signature.
pub struct Signature {
    pub params: Vec<Param>,
    /// The result type.
    pub ret: syn::Type,
    /// Whether the result is `f32`, `f64` or the scalar type parameter (so `NAME_grad` exists).
    pub scalar_result: bool,
    /// The type whose `impl` block the function is in, for a method or an associated
    /// function (`crate::method`).
    pub owner: Option<crate::method::Owner>,
    /// The function's generics when it is generic over its scalar (`<T: RealField>`, with
    /// its `where` clause): the generated items are generic the same way.
    pub generics: Option<Generics>,
}

/// The generics of a function generic over its scalar: one type parameter, the scalar.
pub struct Generics {
    /// The scalar type parameter, `T`.
    pub scalar: syn::Ident,
    /// The generics as written, bounds and `where` clause included.
    pub written: syn::Generics,
}

impl Signature {
    /// The positions of the differentiable parameters.
    pub fn differentiable(&self) -> std::collections::BTreeSet<usize> {
        let params = self.params.iter().enumerate();
        params
            .filter(|(_, p)| p.differentiable)
            .map(|(i, _)| i)
            .collect()
    }
}

pub const MATRIX_TYPES: &[&str] = &[
    "DMatrix",
    "DVector",
    "RowDVector",
    "SMatrix",
    "SVector",
    "RowSVector",
    "Matrix",
    "OMatrix",
    "Matrix1",
    "Matrix2",
    "Matrix3",
    "Matrix4",
    "Matrix5",
    "Matrix6",
    "Vector1",
    "Vector2",
    "Vector3",
    "Vector4",
    "Vector5",
    "Vector6",
    "RowVector1",
    "RowVector2",
    "RowVector3",
    "RowVector4",
    "RowVector5",
    "RowVector6",
];

fn last_ident(ty: &syn::Type) -> Option<String> {
    match ungrouped(ty) {
        syn::Type::Path(p) if p.qself.is_none() => {
            p.path.segments.last().map(|s| s.ident.to_string())
        }
        _ => None,
    }
}

/// `ty` without the invisible group a `macro_rules!` macro puts around a `$t:ty` it passes on
/// (and without parentheses), so that `&DMatrix<f64>` is seen as a reference either way.
fn ungrouped(ty: &syn::Type) -> &syn::Type {
    match ty {
        syn::Type::Group(g) => ungrouped(&g.elem),
        syn::Type::Paren(p) => ungrouped(&p.elem),
        other => other,
    }
}

/// `f32`/`f64`, or the function's scalar type parameter `T`: differentiable scalars.
pub fn is_scalar(ty: &syn::Type, scalar: Option<&syn::Ident>) -> bool {
    if let (Some(t), syn::Type::Path(p)) = (scalar, ungrouped(ty)) {
        if p.qself.is_none() && p.path.is_ident(t) {
            return true;
        }
    }
    matches!(last_ident(ty).as_deref(), Some("f32" | "f64"))
}

/// A nalgebra matrix or vector type, recognised by its name.
pub fn is_matrix(ty: &syn::Type) -> bool {
    last_ident(ty).is_some_and(|n| MATRIX_TYPES.contains(&n.as_str()))
}

pub fn check(
    sig: &syn::Signature,
    args: &Args,
    owner: Option<&crate::method::Owner>,
    errors: &mut Errors,
) -> Option<Signature> {
    check_qualifiers(sig, errors);
    let generics = crate::generics::check(&sig.generics, errors);
    if let (Some(_), Some(owner)) = (&generics, owner) {
        let ty = &owner.ty;
        errors.push(
            &sig.generics,
            format!("a method generic over its scalar is not supported yet: write the method for `f64` (or `f32`), or make it a free generic function taking `&{}`", quote::quote!(#ty)),
        );
    }
    let scalar = generics.as_ref().map(|g| &g.scalar);
    let ret = result_type(sig, scalar, errors);
    let params = params(sig, args, owner, scalar, errors);
    let ret = ret?;
    let scalar_result = is_scalar(&ret, scalar);
    Some(Signature {
        params,
        ret,
        scalar_result,
        owner: owner.cloned(),
        generics,
    })
}

/// Reports the qualifiers a differentiated function cannot have: `const`, `async`,
/// `unsafe`, an ABI, variadic parameters.
fn check_qualifiers(sig: &syn::Signature, errors: &mut Errors) {
    if let Some(c) = &sig.constness {
        errors.push(c, "`const fn` cannot be differentiated: remove `const`");
    }
    if let Some(a) = &sig.asyncness {
        errors.push(a, "`async fn` cannot be differentiated: remove `async`");
    }
    if let Some(u) = &sig.unsafety {
        errors.push(u, "`unsafe fn` cannot be differentiated: remove `unsafe`");
    }
    if let Some(abi) = &sig.abi {
        errors.push(
            abi,
            "`extern` functions cannot be differentiated: remove the ABI",
        );
    }
    if let Some(v) = &sig.variadic {
        errors.push(v, "variadic functions cannot be differentiated");
    }
}

/// The result type, or None (an error reported) when the function returns nothing or
/// something other than a scalar or a matrix.
fn result_type(
    sig: &syn::Signature,
    scalar: Option<&syn::Ident>,
    errors: &mut Errors,
) -> Option<syn::Type> {
    match &sig.output {
        syn::ReturnType::Default => {
            errors.push(&sig.ident, format!("`{}` returns nothing: a differentiated function returns the value to differentiate (`-> f64`, or a nalgebra matrix)", sig.ident));
            None
        }
        syn::ReturnType::Type(_, ty) => {
            if is_scalar(ty, scalar) || is_matrix(ty) {
                Some((**ty).clone())
            } else if names_generic(ty, &sig.generics) {
                // Already reported with the generics.
                None
            } else {
                errors.push(ty, "the result must be `f64`, `f32` or a nalgebra matrix or vector (`DMatrix<f64>`, `SVector<f64, 3>`, …): return one value, and differentiate each output with a function of its own");
                None
            }
        }
    }
}

/// Whether `ty` is one of the function's own type parameters (`T`).
fn names_generic(ty: &syn::Type, generics: &syn::Generics) -> bool {
    let syn::Type::Path(p) = ty else { return false };
    let Some(ident) = p.path.get_ident() else {
        return false;
    };
    generics.type_params().any(|t| t.ident == *ident)
}

fn params(
    sig: &syn::Signature,
    args: &Args,
    owner: Option<&crate::method::Owner>,
    scalar: Option<&syn::Ident>,
    errors: &mut Errors,
) -> Vec<Param> {
    let mut out = Vec::new();
    for input in &sig.inputs {
        let typed = match input {
            syn::FnArg::Receiver(r) => {
                if let Some(p) = crate::method::receiver(r, owner, errors) {
                    out.push(p);
                }
                continue;
            }
            syn::FnArg::Typed(t) => t,
        };
        if let Some(p) = typed_param(typed, scalar, errors) {
            out.push(p);
        }
    }
    if args.wrt.is_none() {
        for p in &out {
            if let Some(message) = unsupported(p, scalar) {
                errors.push(&p.ty, message);
            }
        }
    }
    if let Some(wrt) = &args.wrt {
        apply_wrt(wrt, &mut out, errors);
    }
    let _ = sig.span();
    out
}

/// The parameter a typed input declares, or None (an error reported) for a pattern, a
/// `&mut` or an `impl Trait` parameter.
fn typed_param(
    typed: &syn::PatType,
    scalar: Option<&syn::Ident>,
    errors: &mut Errors,
) -> Option<Param> {
    let ident = match &*typed.pat {
        syn::Pat::Ident(p) if p.by_ref.is_none() && p.subpat.is_none() => p.ident.clone(),
        other => {
            errors.push(other, "name each parameter with a plain identifier (`x: f64`): patterns in parameters are not supported");
            return None;
        }
    };
    let (owned, refs) = match ungrouped(&typed.ty) {
        syn::Type::Reference(r) if r.mutability.is_some() => {
            errors.push(&typed.ty, format!("`&mut` parameters are not supported: take `{ident}` by value or by shared reference (`&`)"));
            return None;
        }
        syn::Type::Reference(r) => ((*r.elem).clone(), 1),
        other => (other.clone(), 0),
    };
    if let syn::Type::ImplTrait(_) = ungrouped(&owned) {
        errors.push(&typed.ty, format!("`impl Trait` parameters are not supported: for a scalar, write one type parameter (`fn f<T: RealField>({ident}: T, …)`); otherwise give `{ident}` a concrete type"));
        return None;
    }
    let can = is_scalar(&owned, scalar) || is_matrix(&owned);
    // A struct of the user's own, generic over the scalar or not (`p: &Model<T>`); one
    // that holds `f64` or matrices in another type parameter (`Foo<DMatrix<f64>>`) is not.
    let structured = refs == 1 && !can && own_type(&owned) && !holds_values(&owned, None);
    let element = collection_element(&owned, scalar);
    let grad_ty = match &element {
        Some(m) => syn::parse_quote!(::std::vec::Vec<#m>),
        None => owned.clone(),
    };
    Some(Param {
        ident,
        ty: (*typed.ty).clone(),
        owned,
        grad_ty,
        refs,
        differentiable: can || structured || element.is_some(),
        value_type: can,
        structured,
        collection: element.is_some(),
        receiver: false,
    })
}

/// `wrt(..)`: only the parameters it names are differentiable; each name must be a
/// parameter of a type that can be differentiated, listed once.
fn apply_wrt(wrt: &[syn::Ident], out: &mut [Param], errors: &mut Errors) {
    for p in out.iter_mut() {
        p.differentiable = false;
    }
    let mut seen: Vec<String> = Vec::new();
    for name in wrt {
        let text = name.to_string();
        if seen.contains(&text) {
            errors.push(name, format!("`{name}` is listed twice in `wrt(..)`"));
            continue;
        }
        seen.push(text);
        let named = |p: &Param| p.ident == *name || (p.receiver && name == "self");
        match out.iter_mut().find(|p| named(p)) {
            None => {
                let known: Vec<String> = out
                    .iter()
                    .map(|p| match p.receiver {
                        true => "`self`".to_string(),
                        false => format!("`{}`", p.ident),
                    })
                    .collect();
                errors.push(
                    name,
                    format!(
                        "`{name}` is not a parameter of this function; its parameters are {}",
                        known.join(", ")
                    ),
                );
            }
            // A struct of the user's own taken by value is a constant unless `wrt(..)` names it
            // (an enum such as an activation is passed that way).
            Some(p)
                if p.refs == 0
                    && !p.value_type
                    && own_type(&p.owned)
                    && !holds_values(&p.owned, None) =>
            {
                p.structured = true;
                p.differentiable = true;
            }
            Some(p) if !(p.value_type || p.structured || p.collection) => {
                let ty = &p.owned;
                errors.push(name, format!("`{name}` has type `{}`, which cannot be differentiated: `wrt(..)` takes `f64`, `f32`, nalgebra matrices and vectors, and `#[derive(Parameters)]` structs", quote::quote!(#ty)));
            }
            Some(p) => p.differentiable = true,
        }
    }
}

/// Why a parameter that is differentiable by default (no `wrt(..)`) has a type the macro
/// cannot differentiate: values inside another type (`&[DMatrix<f64>]`, `Vec<f64>`).
fn unsupported(p: &Param, scalar: Option<&syn::Ident>) -> Option<String> {
    if p.value_type || p.structured || p.collection {
        return None;
    }
    let name = &p.ident;
    if !holds_values(&p.owned, scalar) {
        return None;
    }
    Some(format!(
        "`{name}` holds scalars or matrices inside another type, which cannot be differentiated \
         yet; differentiable parameters are `f64`, `f32`, nalgebra matrices and vectors (by \
         value or by `&`), slices of those (`ws: &[DMatrix<f64>]`) and references to \
         `#[derive(Parameters)]` structs (`p: &Model`): put the values in such a struct or \
         pass each one as a parameter of its own, or keep `{name}` a constant by listing the \
         parameters to differentiate in `wrt(..)`"
    ))
}

/// `M` of a slice `[M]` or a `Vec<M>` whose elements are scalars or matrices.
fn collection_element(ty: &syn::Type, scalar: Option<&syn::Ident>) -> Option<syn::Type> {
    let element = match ungrouped(ty) {
        syn::Type::Slice(s) => (*s.elem).clone(),
        syn::Type::Path(p) if p.qself.is_none() => {
            let last = p.path.segments.last()?;
            let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
                return None;
            };
            match (last.ident == "Vec", args.args.first(), args.args.len()) {
                (true, Some(syn::GenericArgument::Type(m)), 1) => m.clone(),
                _ => return None,
            }
        }
        _ => return None,
    };
    (is_scalar(&element, scalar) || is_matrix(&element)).then_some(element)
}

/// Whether `ty` mentions `f32`, `f64` or a nalgebra matrix type anywhere inside it.
fn holds_values(ty: &syn::Type, scalar: Option<&syn::Ident>) -> bool {
    struct Finder<'s>(bool, Option<&'s syn::Ident>);
    impl<'a> syn::visit::Visit<'a> for Finder<'_> {
        fn visit_type_path(&mut self, t: &'a syn::TypePath) {
            let ty = syn::Type::Path(t.clone());
            self.0 |= is_scalar(&ty, self.1) || is_matrix(&ty);
            syn::visit::visit_type_path(self, t);
        }
    }
    let mut finder = Finder(false, scalar);
    syn::visit::Visit::visit_type(&mut finder, ty);
    finder.0
}

/// Whether `ty` names a type that is neither a primitive nor one of the standard library's
/// containers: a struct or enum of the user's own.
fn own_type(ty: &syn::Type) -> bool {
    const STD: &[&str] = &[
        "bool", "char", "str", "String", "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16",
        "i32", "i64", "i128", "isize", "Vec", "VecDeque", "Box", "Option", "HashMap", "BTreeMap",
        "HashSet", "BTreeSet",
    ];
    match ungrouped(ty) {
        syn::Type::Path(p) => p
            .path
            .segments
            .last()
            .is_some_and(|s| !STD.contains(&s.ident.to_string().as_str())),
        syn::Type::Reference(r) => own_type(&r.elem),
        _ => false,
    }
}
