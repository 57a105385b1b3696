//! `#[derive(Parameters)]`: the runtime's `Parameters` trait for a struct with named fields,
//! each field a tree of parameters in its own right, visited in declaration order; fields
//! marked `#[parameters(skip)]` are constants, cloned into zeros and gradients unchanged. A
//! struct generic over its scalar (`struct Layer<T: RealField> { w: DMatrix<T> }`) gets the
//! trait wherever its fields have it.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

/// The field of the derived struct and whether it is a constant (`#[parameters(skip)]`).
struct Field<'a> {
    ident: &'a syn::Ident,
    ty: &'a syn::Type,
    vis: &'a syn::Visibility,
    skip: bool,
}

/// What the attributes of the struct say: the path of the `autodiff` crate.
struct Options {
    krate: TokenStream,
}

pub fn derive(input: TokenStream) -> TokenStream {
    let input: syn::DeriveInput = match syn::parse2(input) {
        Ok(input) => input,
        Err(e) => return e.to_compile_error(),
    };
    match expand(&input) {
        Ok(tokens) => tokens,
        Err(e) => e.to_compile_error(),
    }
}

fn expand(input: &syn::DeriveInput) -> syn::Result<TokenStream> {
    let options = options(&input.attrs)?;
    check_generics(&input.generics)?;
    let fields = fields(input)?;
    let Some(first) = fields.iter().find(|f| !f.skip) else {
        return Err(syn::Error::new_spanned(
            &input.ident,
            "a `Parameters` struct needs at least one field that is not `#[parameters(skip)]`: \
             a scalar, a nalgebra matrix, a `Vec` of those or another `Parameters` struct",
        ));
    };
    let generics = impl_generics(&input.generics, &fields, first.ty, &options.krate);
    let mut tokens = emit(
        &input.ident,
        &fields,
        first.ty,
        &options.krate,
        generics.clone(),
    );
    tokens.extend(field_reads(&input.ident, &fields, &options.krate, generics));
    Ok(tokens)
}

/// How a differentiated function reads each field (`p.w` becomes `p.__ad_field_w()`): a
/// parameter field by reference, a `#[parameters(skip)]` field wrapped as `Skipped`, so
/// that rustc's trait resolution treats it as the constant it is wherever it goes.
fn field_reads(
    name: &syn::Ident,
    fields: &[Field],
    krate: &TokenStream,
    (impl_generics, ty_generics, where_clause): (TokenStream, TokenStream, TokenStream),
) -> TokenStream {
    let reads = fields.iter().map(|f| {
        let (ident, ty, vis) = (f.ident, f.ty, f.vis);
        let method = quote::format_ident!("__ad_field_{}", syn::ext::IdentExt::unraw(ident));
        if f.skip {
            quote! {
                #[doc(hidden)]
                #[inline(always)]
                #vis fn #method(&self) -> #krate::__private::Skipped<'_, #ty> {
                    #krate::__private::Skipped(&self.#ident)
                }
            }
        } else {
            quote! {
                #[doc(hidden)]
                #[inline(always)]
                #vis fn #method(&self) -> &#ty {
                    &self.#ident
                }
            }
        }
    });
    quote! {
        #[automatically_derived]
        #[allow(non_snake_case)]
        impl #impl_generics #name #ty_generics #where_clause {
            #(#reads)*
        }
    }
}

fn options(attrs: &[syn::Attribute]) -> syn::Result<Options> {
    let mut krate = quote!(::autodiff);
    for attr in attrs.iter().filter(|a| a.path().is_ident("parameters")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("crate") {
                let path: syn::Path = meta.value()?.parse()?;
                krate = quote!(#path);
                Ok(())
            } else {
                Err(meta.error(
                    "unknown argument: on the struct, `#[parameters(crate = path)]` names the path \
                     of the `autodiff` crate; `#[parameters(skip)]` goes on a field",
                ))
            }
        })?;
    }
    Ok(Options { krate })
}

/// One type parameter, the scalar (`struct Layer<T: RealField>`), is supported; lifetimes,
/// const parameters and more type parameters are not.
fn check_generics(generics: &syn::Generics) -> syn::Result<()> {
    let mut types = 0;
    for param in &generics.params {
        let message = match param {
            syn::GenericParam::Type(_) if types == 0 => {
                types += 1;
                continue;
            }
            syn::GenericParam::Type(_) => "`#[derive(Parameters)]` takes one type parameter, the scalar (`struct Layer<T: RealField>`): write a concrete type for this one",
            syn::GenericParam::Lifetime(_) => "`#[derive(Parameters)]` on a struct with a lifetime is not supported: parameters own their values",
            syn::GenericParam::Const(_) => "`#[derive(Parameters)]` on a struct with a const parameter is not supported: write the dimensions as literals (`SMatrix<T, 2, 3>`) or use `DMatrix<T>`",
        };
        return Err(syn::Error::new_spanned(param, message));
    }
    Ok(())
}

/// The generics of the implementation for a struct generic over its scalar: the struct's
/// own, and its `where` clause extended by what the fields need (each a `Parameters` of the
/// first field's scalar, each skipped field `Clone`). Empty for a struct without generics.
fn impl_generics(
    generics: &syn::Generics,
    fields: &[Field],
    first: &syn::Type,
    krate: &TokenStream,
) -> (TokenStream, TokenStream, TokenStream) {
    if generics.params.is_empty() {
        return (quote!(), quote!(), quote!());
    }
    let trait_ = quote!(#krate::__private::Parameters);
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    let predicates = where_clause.map(|w| &w.predicates).into_iter().flatten();
    let scalar = quote!(<#first as #trait_>::Scalar);
    let others = fields.iter().filter(|f| !std::ptr::eq(f.ty, first));
    let needs = others.map(|f| {
        let ty = f.ty;
        if f.skip {
            quote!(#ty: ::core::clone::Clone)
        } else {
            quote!(#ty: #trait_<Scalar = #scalar>)
        }
    });
    (
        quote!(#impl_generics),
        quote!(#ty_generics),
        quote!(where #(#predicates,)* #first: #trait_, #(#needs,)*),
    )
}

fn fields(input: &syn::DeriveInput) -> syn::Result<Vec<Field<'_>>> {
    let named = match &input.data {
        syn::Data::Struct(s) => match &s.fields {
            syn::Fields::Named(named) => named,
            syn::Fields::Unnamed(u) => return Err(syn::Error::new_spanned(u, "`#[derive(Parameters)]` needs named fields: write `struct Name { w: DMatrix<f64>, … }`, each field named as the gradient's field will be")),
            syn::Fields::Unit => return Err(syn::Error::new_spanned(&input.ident, "`#[derive(Parameters)]` on a struct without fields: give it named fields that are scalars, matrices, `Vec`s of those or other `Parameters` structs")),
        },
        syn::Data::Enum(e) => return Err(syn::Error::new_spanned(e.enum_token, "`#[derive(Parameters)]` on an enum is not supported: parameters have one structure; use a struct with named fields (and keep a choice such as an activation in a `#[parameters(skip)]` field)")),
        syn::Data::Union(u) => return Err(syn::Error::new_spanned(u.union_token, "`#[derive(Parameters)]` on a union is not supported: use a struct with named fields")),
    };
    let mut errors: Option<syn::Error> = None;
    let mut out = Vec::new();
    for field in &named.named {
        let Some(ident) = field.ident.as_ref() else {
            continue;
        };
        match skipped(&field.attrs) {
            Ok(skip) => out.push(Field {
                ident,
                ty: &field.ty,
                vis: &field.vis,
                skip,
            }),
            Err(e) => match &mut errors {
                Some(all) => all.combine(e),
                None => errors = Some(e),
            },
        }
    }
    match errors {
        Some(e) => Err(e),
        None => Ok(out),
    }
}

/// Whether the field has `#[parameters(skip)]`.
fn skipped(attrs: &[syn::Attribute]) -> syn::Result<bool> {
    let mut skip = false;
    for attr in attrs.iter().filter(|a| a.path().is_ident("parameters")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("skip") {
                skip = true;
                Ok(())
            } else {
                Err(meta.error(
                    "unknown argument: a field takes `#[parameters(skip)]`, which makes it a \
                     constant copied into zeros and gradients",
                ))
            }
        })?;
    }
    Ok(skip)
}

/// The `impl Parameters for NAME`, each field's call spanned at its type, so that a field
/// that is not a parameter is reported there, followed by the implementations that let the
/// whole struct be a gradient.
fn emit(
    name: &syn::Ident,
    fields: &[Field],
    first: &syn::Type,
    krate: &TokenStream,
    (impl_generics, ty_generics, where_clause): (TokenStream, TokenStream, TokenStream),
) -> TokenStream {
    let trait_ = quote!(#krate::__private::Parameters);
    let (params, skips): (Vec<&Field>, Vec<&Field>) = fields.iter().partition(|f| !f.skip);
    let constructors = constructor_fns(name, &params, &skips, &trait_);
    let leaf_fns = leaf_fns(&params, &trait_, krate);
    let whole = whole_gradient_impls(name, krate, (&impl_generics, &ty_generics, &where_clause));
    quote! {
        #[automatically_derived]
        impl #impl_generics #trait_ for #name #ty_generics #where_clause {
            type Scalar = <#first as #trait_>::Scalar;
            #constructors
            #leaf_fns
        }

        #whole
    }
}

/// `zeros_like`, `placeholder_like` and `zeros_except`: each a new struct whose parameter
/// fields are made by the method of the same name, its skipped fields cloned.
fn constructor_fns(
    name: &syn::Ident,
    params: &[&Field],
    skips: &[&Field],
    trait_: &TokenStream,
) -> TokenStream {
    let zeros = params.iter().map(|f| {
        let (i, c) = (f.ident, field_call(f, trait_, quote!(zeros_like)));
        quote!(#i: #c(&self.#i))
    });
    let zeros_except = params.iter().map(|f| zeros_except_field(f, trait_));
    let placeholders = params.iter().map(|f| {
        let (i, c) = (f.ident, field_call(f, trait_, quote!(placeholder_like)));
        quote!(#i: #c(&self.#i))
    });
    let copies: Vec<TokenStream> = skips.iter().map(|f| copy_field(f)).collect();
    quote! {
        fn zeros_like(&self) -> Self {
            #name { #(#zeros,)* #(#copies,)* }
        }
        fn placeholder_like(&self) -> Self {
            #name { #(#placeholders,)* #(#copies,)* }
        }
        fn zeros_except(&self, taken: &[&str]) -> Self {
            #name { #(#zeros_except,)* #(#copies,)* }
        }
    }
}

/// The methods that go through every parameter field: `add_scaled`, `give_back`,
/// `scalar_count`, the leaf visitors and `describe_leaves`.
fn leaf_fns(params: &[&Field], trait_: &TokenStream, krate: &TokenStream) -> TokenStream {
    let each = |method: &str, args: &dyn Fn(&syn::Ident) -> TokenStream| {
        param_calls(params, trait_, method, args)
    };
    let add = each("add_scaled", &|i| quote!(&mut self.#i, alpha, &g.#i));
    let count = each("scalar_count", &|i| quote!(&self.#i));
    let give_back = each("give_back", &|i| quote!(self.#i));
    let visit = each("for_each_leaf", &|i| quote!(&self.#i, f));
    let visit_mut = each("for_each_leaf_mut", &|i| quote!(&mut self.#i, f));
    let zip = each("zip_leaves_mut", &|i| quote!(&mut self.#i, &other.#i, f));
    let describe = params.iter().map(|f| describe_field(f, krate));
    quote! {
        fn add_scaled(&mut self, alpha: Self::Scalar, g: &Self) {
            #(#add;)*
        }
        fn give_back(self) {
            #(#give_back;)*
        }
        fn scalar_count(&self) -> usize {
            0 #(+ #count)*
        }
        fn for_each_leaf(&self, f: &mut dyn ::core::ops::FnMut(&[Self::Scalar])) {
            #(#visit;)*
        }
        fn for_each_leaf_mut(&mut self, f: &mut dyn ::core::ops::FnMut(&mut [Self::Scalar])) {
            #(#visit_mut;)*
        }
        fn zip_leaves_mut(&mut self, other: &Self, f: &mut #krate::__private::ZipLeaves<'_, Self::Scalar>) {
            #(#zip;)*
        }
        fn describe_leaves(&self, path: &mut ::std::string::String, f: &mut dyn ::core::ops::FnMut(&str, (usize, usize))) {
            #(#describe;)*
        }
    }
}

/// The path `<TYPE as Parameters>::METHOD` of a call on the field, spanned at the field's
/// type: a field that is not a parameter, or whose scalar type differs from the first
/// field's, is reported there.
fn field_call(f: &Field, trait_: &TokenStream, method: TokenStream) -> TokenStream {
    let ty = f.ty;
    quote_spanned!(ty.span()=> <#ty as #trait_>::#method)
}

/// The tokens with every span set to the field's type.
fn spanned_at_type(f: &Field, tokens: TokenStream) -> TokenStream {
    let mut out = TokenStream::new();
    for mut tt in tokens {
        tt.set_span(f.ty.span());
        out.extend([tt]);
    }
    out
}

/// For each parameter field, the call `<TYPE as Parameters>::METHOD(ARGS)`, the arguments
/// made by `args` from the field's name.
fn param_calls(
    params: &[&Field],
    trait_: &TokenStream,
    method: &str,
    args: &dyn Fn(&syn::Ident) -> TokenStream,
) -> Vec<TokenStream> {
    let method = syn::Ident::new(method, proc_macro2::Span::call_site());
    params
        .iter()
        .map(|f| {
            let c = field_call(f, trait_, quote!(#method));
            let a = spanned_at_type(f, args(f.ident));
            quote!(#c(#a))
        })
        .collect()
}

/// The field's initialiser in `zeros_except`: a placeholder when its name is taken, zeros
/// otherwise.
fn zeros_except_field(f: &Field, trait_: &TokenStream) -> TokenStream {
    let i = f.ident;
    let (placeholder, zeros) = (
        field_call(f, trait_, quote!(placeholder_like)),
        field_call(f, trait_, quote!(zeros_like)),
    );
    let text = syn::ext::IdentExt::unraw(i).to_string();
    quote!(#i: if taken.contains(&#text) { #placeholder(&self.#i) } else { #zeros(&self.#i) })
}

/// The initialiser of a `#[parameters(skip)]` field: a clone of the constant.
fn copy_field(f: &Field) -> TokenStream {
    let (i, ty) = (f.ident, f.ty);
    quote_spanned!(ty.span()=> #i: <#ty as ::core::clone::Clone>::clone(&self.#i))
}

/// The field's call in `describe_leaves`, which names its leaves by the field's name.
fn describe_field(f: &Field, krate: &TokenStream) -> TokenStream {
    let (i, text, ty) = (
        f.ident,
        syn::ext::IdentExt::unraw(f.ident).to_string(),
        f.ty,
    );
    quote_spanned!(ty.span()=> #krate::__private::describe_field::<#ty>(&self.#i, #text, path, f))
}

/// `CallSlot` and `IntoGrad` for the struct, so that a gradient of the whole struct, which a
/// differentiated method returns for its receiver, is added into its caller's.
fn whole_gradient_impls(
    name: &syn::Ident,
    krate: &TokenStream,
    (impl_generics, ty_generics, where_clause): (&TokenStream, &TokenStream, &TokenStream),
) -> TokenStream {
    quote! {
        // A gradient of the whole struct, which a differentiated method returns for its
        // receiver, is added into its caller's.
        #[automatically_derived]
        impl #impl_generics #krate::__private::rules::CallSlot for #name #ty_generics #where_clause {
            fn add_call(slot: &mut ::core::option::Option<Self>, grad: Self) {
                #krate::__private::rules::add_whole(slot, grad)
            }
        }

        #[automatically_derived]
        impl #impl_generics #krate::__private::rules::IntoGrad<#name #ty_generics> for #name #ty_generics #where_clause {
            fn into_grad(self) -> Self {
                self
            }
        }
    }
}
