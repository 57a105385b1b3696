//! Lowering of writes into a matrix: `y[i] = e`, `y[(i, j)] = e`, the compound `y[i] += e`
//! (`-=`, `*=`, `/=`), `y.set_row(i, &r)` and `y.set_column(j, &c)`. A write is a new version
//! of the variable, `y₁ = write(y₀, e)`, an operation like any other: the forward sweep
//! writes into `y₀`'s buffer when nothing reads `y₀` afterwards, and the pullbacks read only
//! where the part is. A compound write is the read, the operation and the write
//! (`y[i] = y[i] + e`). A write in which nothing is differentiable is computed as written.

use super::*;

/// The message for a write through a view or a mutable reference.
pub(super) const VIEW_WRITE: &str = "writing through a view or a mutable reference (`row_mut`, `column_mut`, `view_mut`, `get_mut`, …) is not supported: write elements (`y[i] = e`, `y[(i, j)] = e`) or whole rows and columns (`y.set_row(i, &r)`, `y.set_column(j, &c)`) of a variable declared with `let mut`";

/// The variable a statement's target writes: `y` of `y = …`, `y[i] = …`, `y[(i, j)] += …`.
pub(super) fn written_name(target: &syn::Expr) -> Option<&syn::Ident> {
    match strip_parens(target) {
        syn::Expr::Index(ix) => rename::plain_ident(strip_parens(&ix.expr)),
        other => rename::plain_ident(other),
    }
}

/// `y.set_row(i, &r)` or `y.set_column(j, &c)`: the rule of the write.
pub(super) fn part_write(m: &syn::ExprMethodCall) -> Option<&'static OpDef> {
    match (m.method.to_string().as_str(), m.args.len()) {
        ("set_row", 2) => Some(&ops::WRITE_ROW),
        ("set_column", 2) => Some(&ops::WRITE_COLUMN),
        _ => None,
    }
}

/// Whether an expression calls a method that borrows part of a value mutably
/// (`y.row_mut(0)`, `y.get_mut(1)`), anywhere in a chain of receivers and indices.
pub(super) fn through_view(e: &syn::Expr) -> bool {
    match strip_parens(e) {
        syn::Expr::MethodCall(m) => {
            m.method.to_string().ends_with("_mut") || through_view(&m.receiver)
        }
        syn::Expr::Index(ix) => through_view(&ix.expr),
        syn::Expr::Field(f) => through_view(&f.base),
        syn::Expr::Unary(u) => through_view(&u.expr),
        _ => false,
    }
}

impl Lowerer<'_> {
    /// `y[index] = right`, or `y[index] op= right` when `op` is given.
    pub(super) fn element_write(
        &mut self,
        ix: &syn::ExprIndex,
        op: Option<syn::BinOp>,
        right: &syn::Expr,
        whole: &syn::Expr,
    ) {
        let Some(target) = self.write_target(&ix.expr) else {
            return;
        };
        if let syn::Expr::Range(r) = strip_parens(&ix.index) {
            return self.errors.push(r, "writing a range of elements (`v[a..b] = …`) is not supported: write each element (`v[i] = e`), or a whole row or column (`y.set_row(i, &r)`, `y.set_column(j, &c)`)");
        }
        if rename::mentions_varied(&ix.index, &self.env, &self.vars) {
            return self.errors.push(&ix.index, "the index must be a constant: it cannot depend on a differentiable value (constants are literals, loop variables, shapes such as `x.len()`, and parameters that are not differentiated)");
        }
        let before = self.vars.len();
        if !self.write_is_varied(&ix.expr, right) {
            let (base, index) = (&ix.expr, &ix.index);
            let assign = match op {
                Some(op) => quote!(__ad_written[#index] #op __ad_value;),
                None => quote!(__ad_written[#index] = __ad_value;),
            };
            let block = quote!({
                let __ad_value = #right;
                let mut __ad_written = #base;
                #assign
                __ad_written
            });
            return self.constant_write(block, &ix.expr, before);
        }
        let span = whole.span();
        let index = self.const_arg(&ix.index);
        let value = match op {
            Some(op) => {
                let read = self.op(
                    &ops::ELEMENT,
                    vec![target.operand.clone()],
                    vec![index.clone()],
                    span,
                );
                let rhs = self.expr(right);
                self.binary_value(op, read, rhs, &ix.expr, right, span)
            }
            None => self.expr(right),
        };
        let written = self.op(
            &ops::WRITE_ELEMENT,
            vec![target.operand, value.operand],
            vec![index],
            span,
        );
        self.label(&written, whole);
        self.assign(&ix.expr, written, before);
    }

    /// `y.set_row(i, &r)` or `y.set_column(j, &c)` as a statement.
    pub(super) fn part_write(&mut self, m: &syn::ExprMethodCall, def: &'static OpDef) {
        let Some(target) = self.write_target(&m.receiver) else {
            return;
        };
        let (at, part) = (&m.args[0], &m.args[1]);
        let before = self.vars.len();
        if !self.write_is_varied(&m.receiver, part)
            && !rename::mentions_varied(at, &self.env, &self.vars)
        {
            let (base, method) = (&m.receiver, &m.method);
            let block = quote!({
                let mut __ad_written = #base;
                __ad_written.#method(#at, #part);
                __ad_written
            });
            return self.constant_write(block, &m.receiver, before);
        }
        let at = self.const_arg(at);
        let value = self.expr(part);
        let written = self.op(def, vec![target.operand, value.operand], vec![at], m.span());
        self.label(&written, m);
        self.assign(&m.receiver, written, before);
    }

    /// The variable written into, as a value: a local or a parameter taken by value. Writes
    /// through views, fields and references are reported here.
    fn write_target(&mut self, base: &syn::Expr) -> Option<Value> {
        if through_view(base) {
            self.errors.push(base, VIEW_WRITE);
            return None;
        }
        let Some(ident) = rename::plain_ident(strip_parens(base)) else {
            self.errors.push(base, "write into a variable declared with `let mut` (`y[i] = …`): writing into a field, a temporary or through a reference is not supported");
            return None;
        };
        let Some(binding) = self.env.lookup(&key(ident)) else {
            self.errors.push(
                base,
                format!("`{ident}` is not a local variable of this function"),
            );
            return None;
        };
        if binding.refs != 0 {
            let what = match self.vars[binding.var].kind {
                VarKind::Param { .. } => "is a borrowed parameter",
                _ => "holds a reference",
            };
            self.errors.push(base, format!("`{ident}` {what}, which cannot be written into: write into an owned copy (`let mut y = {ident}.clone();`, then `y[i] = …`)"));
            return None;
        }
        Some(Value::var(binding.var, 0))
    }

    /// Whether the matrix written into or the value written depends on a differentiable value.
    fn write_is_varied(&self, base: &syn::Expr, value: &syn::Expr) -> bool {
        rename::mentions_varied(base, &self.env, &self.vars)
            || rename::mentions_varied(value, &self.env, &self.vars)
    }

    /// A write of constants only: the block that computes the new version, as written.
    fn constant_write(&mut self, block: proc_macro2::TokenStream, base: &syn::Expr, before: VarId) {
        let value = match syn::parse2::<syn::Expr>(block) {
            Ok(e) => self.constant(&e),
            Err(e) => return self.errors.push_error(e),
        };
        self.assign(base, value, before);
    }
}
