//! The forward sweep printed: the body again, each operation through its rule, keeping the
//! pullback handles, call tapes, branch and iteration records the plan's tape lists, and
//! moving or copying each value as the plan's [`Moves`] say.

use super::code::{callee_item, Code};
use super::graph::Hooks;
use super::reverse::Printer;
use crate::ir::*;
use crate::plan::{ClosurePlan, Moves, Site, Tape};
use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use std::collections::HashMap;

pub struct Forward<'a> {
    pub code: &'a Code<'a>,
    /// What the reverse sweep reads: the forward sweep keeps it.
    pub tape: &'a Tape,
    /// The plans of the body's active `map` closures.
    pub closures: &'a HashMap<VarId, ClosurePlan<'a>>,
    pub moves: &'a Moves,
    /// In `NAME_graph`: the node of each value, added after it is computed.
    pub graph: Option<&'a Hooks>,
}

impl Forward<'_> {
    /// `recycle(v);` for each value the plan gives back unused: its buffer goes back to the
    /// pool instead of being freed.
    pub fn give_back(&self, values: &[VarId]) -> TokenStream {
        let rules = &self.code.rules;
        values
            .iter()
            .map(|&v| {
                let name = self.code.name(v);
                quote!(#rules::recycle(#name);)
            })
            .collect()
    }

    pub fn block(&self, block: &Block) -> TokenStream {
        block.stmts.iter().map(|s| self.stmt(s)).collect()
    }

    fn stmt(&self, stmt: &Stmt) -> TokenStream {
        match stmt {
            Stmt::Let { var, expr, span } => {
                let v = &self.code.body.vars[*var];
                let name = &v.name;
                let ty = v.ty.as_ref().map(|t| quote!(: #t));
                let node = self.graph.map(|g| g.forward(self.code.body, *var, expr));
                let stmt = match expr {
                    Expr::Const(c) => {
                        let tokens = &c.tokens;
                        quote_spanned!(*span=> let #name #ty = #tokens;)
                    }
                    Expr::Op(op) => self.op(*var, op),
                    Expr::Call(call) => self.call(*var, call),
                    Expr::Map(map) => self.map(*var, map),
                };
                quote!(#stmt #node)
            }
            Stmt::If(i) => self.branch(i),
            Stmt::Loop(l) => self.iterations(l),
        }
    }

    /// `let mut h = h0; let mut record = Vec::new(); for … { body; record.push((saved…)); h = h_next; }
    /// let h_out = h;`: the carried values are the loop's mutable bindings, and each
    /// iteration pushes what its reverse reads.
    fn iterations(&self, l: &Loop) -> TokenStream {
        let enter = l.carried.iter().enumerate().map(|(k, c)| {
            let phi = self.code.name(c.phi);
            let init = self.hand_over(&c.init, 0, Site::Init(l.record, k));
            quote!(let mut #phi = #init;)
        });
        let saved = self.tape.iterations.get(&l.record);
        let record = self.code.name(l.record);
        // A `for` loop's record takes the iterator's lower bound of iterations at once (all of
        // them for a range), so that pushing never reallocates.
        let mut declare_record = saved.map(|_| quote!(let mut #record = ::std::vec::Vec::new();));
        let head = match &l.head {
            LoopHead::For { pattern, iter } => {
                let iter = &iter.tokens;
                match saved {
                    Some(_) => {
                        let it = crate::names::handle(&record, "iter", self.code.body.short_names);
                        declare_record = Some(quote! {
                            let #it = ::core::iter::IntoIterator::into_iter(#iter);
                            let mut #record = ::std::vec::Vec::with_capacity(#it.size_hint().0);
                        });
                        quote!(for #pattern in #it)
                    }
                    None => quote!(for #pattern in #iter),
                }
            }
            LoopHead::While(cond) => {
                let cond = &cond.tokens;
                quote!(while #cond)
            }
            LoopHead::Loop => quote!(loop),
        };
        let body = self.block(&l.body);
        let (push, assign) = self.iteration_end(l);
        let none = Vec::new();
        let leftovers = self.give_back(self.moves.loop_leftovers.get(&l.record).unwrap_or(&none));
        let replaced = self.give_back(self.moves.replaced.get(&l.record).unwrap_or(&none));
        let exit = l.exit.map(|e| {
            let e = self.code.name(e);
            quote!(if #e { break; })
        });
        let outs = l.carried.iter().map(|c| {
            let (out, phi) = (self.code.name(c.out), self.code.name(c.phi));
            quote!(let #out = #phi;)
        });
        quote_spanned! {l.span=>
            #(#enter)*
            #declare_record
            #head {
                #body
                #leftovers
                #push
                #replaced
                #assign
                #exit
            }
            #(#outs)*
        }
    }

    /// How an iteration ends: it pushes its record, and hands its values to the next.
    fn iteration_end(&self, l: &Loop) -> (Option<TokenStream>, TokenStream) {
        let vars = &self.code.body.vars;
        let saved = self.tape.iterations.get(&l.record);
        let record = self.code.name(l.record);
        let nexts: Vec<TokenStream> = (l.carried.iter().enumerate())
            .map(|(k, c)| self.hand_over(&c.next, 0, Site::Next(l.record, k)))
            .collect();
        let next_vars: Vec<VarId> = l.carried.iter().filter_map(|c| c.next.var()).collect();
        let push = saved.map(|saved| {
            let items = saved.iter().map(|&v| {
                let name = self.code.name(v);
                if next_vars.contains(&v) {
                    // The next iteration takes the value itself.
                    self.code.copy(v, quote!(&#name))
                } else if vars[v].kept_owned() {
                    // The reverse sweep may not borrow from the forward sweep's iterator.
                    quote!(::core::clone::Clone::clone(#name))
                } else {
                    quote!(#name)
                }
            });
            quote!(#record.push((#(#items,)*));)
        });
        let phis: Vec<syn::Ident> = l.carried.iter().map(|c| self.code.name(c.phi)).collect();
        let assign = match (phis.as_slice(), nexts.as_slice()) {
            ([], _) => quote!(),
            ([phi], [next]) => quote!(#phi = #next;),
            _ => quote!((#(#phis),*) = (#(#nexts),*);),
        };
        (push, assign)
    }

    fn handle_or_wild(&self, var: VarId, handle: VarId) -> TokenStream {
        if self.code.body.vars[var].active() && self.tape.reads.contains(&handle) {
            let h = self.code.name(handle);
            quote!(#h)
        } else {
            quote!(_)
        }
    }

    fn typed(&self, var: VarId) -> TokenStream {
        match &self.code.body.vars[var].ty {
            Some(t) => quote!(: (#t, _)),
            None => quote!(),
        }
    }

    fn op(&self, var: VarId, op: &OpCall) -> TokenStream {
        let name = self.code.name(var);
        let handle = self.handle_or_wild(var, op.handle);
        // Spanned at the operator, so that a missing rule is reported there.
        let rules = crate::rename::respan(self.code.rules.clone(), op.span);
        let rule = syn::Ident::new(op.op.rule, op.span);
        let operands = op.operands.iter().enumerate().map(|(i, o)| match o.var() {
            Some(v) if i == 0 && self.moves.consumed.contains(&var) => {
                let name = self.code.name(v);
                quote!(#name)
            }
            _ => crate::rename::respan(self.code.operand_ref(o), op.span),
        });
        let consts = op.consts.iter().map(|c| &c.tokens);
        let ty = self.typed(var);
        quote_spanned!(op.span=> let (#name, #handle) #ty = #rules::#rule(#(#operands,)* #(#consts),*);)
    }

    /// A value handed over by value at `site`: moved, or copied where the plan says
    /// something reads it afterwards. A value below its binding's depth (an owned copy of a
    /// borrowed parameter) is cloned.
    fn hand_over(&self, o: &Operand, refs: i32, site: Site) -> TokenStream {
        match o {
            Operand::Var(v) if refs == self.code.body.vars[*v].binding_refs => {
                let name = self.code.name(*v);
                if self.moves.copies.contains(&site) {
                    self.code.copy(*v, quote!(&#name))
                } else {
                    quote!(#name)
                }
            }
            _ => self.code.operand_at(o, refs),
        }
    }

    fn call(&self, var: VarId, call: &Call) -> TokenStream {
        let name = self.code.name(var);
        let args = call
            .args
            .iter()
            .enumerate()
            .map(|(i, a)| match (&a.constant, a.value) {
                (Some(c), _) => c.tokens.clone(),
                (None, Some(v)) => {
                    self.hand_over(&Operand::Var(v), a.refs, Site::Arg(call.tape, i))
                }
                (None, None) => quote!(0.0),
            });
        let path = &call.path;
        if self.code.body.vars[var].active() {
            let tape = self.code.name(call.tape);
            let fwd = callee_item(path, "fwd");
            quote_spanned!(call.span=> let (#name, #tape) = #fwd(#(#args),*);)
        } else {
            quote_spanned!(call.span=> let #name = #path(#(#args),*);)
        }
    }

    /// `rules::map(&m, |v| { forward; reverse; (value, [partials]) })`: the closure's
    /// derivative is derived from its body, element by element, in the forward sweep.
    fn map(&self, var: VarId, map: &MapCall) -> TokenStream {
        let vars = &self.code.body.vars;
        let name = self.code.name(var);
        let param = self.code.name(map.param);
        let recv = self.code.operand_ref(&map.recv);
        let rules = &self.code.rules;
        if !vars[var].active() {
            let forward = self.inner_forward(&map.body, &Tape::default());
            let result = self.code.operand_at(&map.result, 0);
            return quote_spanned!(map.span=> let #name = (#recv).map(|#param| { #forward #result }););
        }
        // `differentiate` plans the closures of the same blocks, so every active closure has
        // its plan; were one missing, the expansion says so instead of the macro panicking.
        let Some(closure) = self.closures.get(&var) else {
            return quote_spanned!(map.span=> ::core::compile_error!("#[differentiate]: no reverse sweep was generated for this `map` closure"););
        };
        let closure_inputs = &closure.inputs;
        let printer = Printer {
            code: self.code,
            flags: &[],
            lent: &HashMap::new(),
            graph: None,
        };
        let sweep = printer.sweep(&closure.sweep, quote!(#rules::one()));
        let forward = self.inner_forward(&map.body, &closure.tape);
        let result = self.code.operand_at(&map.result, 0);
        let partials = closure_inputs.iter().map(|&v| {
            let d = self.code.adjoint(v);
            let value = self.code.operand_ref(&Operand::Var(v));
            quote!(#rules::finish(#d, #rules::shape_of(#value)))
        });
        let handle = self.handle_or_wild(var, map.handle);
        quote_spanned! {map.span=>
            let (#name, #handle) = #rules::map(#recv, |#param| {
                #forward
                #sweep
                (#result, [#(#partials),*])
            });
        }
    }

    fn inner_forward(&self, block: &Block, tape: &Tape) -> TokenStream {
        Forward { tape, ..*self }.block(block)
    }

    /// `let (merged…, record) = if c { …; (values…, Branch::Then((saved…))) } else { … };`
    fn branch(&self, i: &If) -> TokenStream {
        let vars = &self.code.body.vars;
        let cond = &i.cond.tokens;
        let record = self.tape.saved.get(&i.record);
        let then_fwd = self.block(&i.then_block);
        let else_fwd = self.block(&i.else_block);
        if i.merges.is_empty() && record.is_none() {
            return quote_spanned!(i.span=> if #cond { #then_fwd } else { #else_fwd });
        }
        let rules = &self.code.rules;
        let mut names: Vec<TokenStream> = i
            .merges
            .iter()
            .map(|m| {
                let n = &vars[m.var].name;
                quote!(#n)
            })
            .collect();
        let (then_tail, else_tail) = match record {
            Some((then_saved, else_saved)) => {
                let r = self.code.name(i.record);
                names.push(quote!(#r));
                let then_record = self.code.tuple_pattern(then_saved);
                let else_record = self.code.tuple_pattern(else_saved);
                (
                    self.tail(i, true, Some(quote!(#rules::Branch::Then(#then_record)))),
                    self.tail(i, false, Some(quote!(#rules::Branch::Else(#else_record)))),
                )
            }
            None => (self.tail(i, true, None), self.tail(i, false, None)),
        };
        quote_spanned! {i.span=>
            let (#(#names,)*) = if #cond { #then_fwd #then_tail } else { #else_fwd #else_tail };
        }
    }

    fn tail(&self, i: &If, then: bool, record: Option<TokenStream>) -> TokenStream {
        let items = i.merges.iter().enumerate().map(|(k, m)| {
            let value = if then { &m.then_value } else { &m.else_value };
            self.hand_over(value, m.refs, Site::Merge(i.record, k, then))
        });
        let record = record.into_iter();
        quote!((#(#items,)* #(#record,)*))
    }
}
