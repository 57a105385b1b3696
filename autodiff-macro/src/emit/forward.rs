//! The forward sweep: the body again, each operation through its rule, keeping the pullback
//! handles, call tapes and branch records the reverse sweep asked for.

use super::code::{callee_item, Code};
use super::reverse::Printer;
use crate::analyse::LastUse;
use crate::ir::*;
use crate::plan::{ClosurePlan, Tape};
use crate::walk::{defined_in, owned_value};
use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};

pub struct Forward<'a> {
    pub code: &'a Code<'a>,
    /// What the reverse sweep reads: the forward sweep keeps it.
    pub tape: &'a Tape,
    /// The plans of the body's active `map` closures.
    pub closures: &'a HashMap<VarId, ClosurePlan<'a>>,
    pub last_use: &'a LastUse,
    /// Owned bindings moved into an operation, a call or a branch's result.
    pub moved: RefCell<HashSet<VarId>>,
}

impl Forward<'_> {
    /// `recycle(v);` for each owned value (of the top level of `block`, or a parameter) that the forward sweep
    /// computed but nothing moved, returned or saved for the reverse sweep: its buffer goes
    /// back to the pool instead of being freed.
    pub fn recycle_leftovers(
        &self,
        block: &Block,
        result: &Operand,
        params: &[VarId],
    ) -> TokenStream {
        let vars = &self.code.body.vars;
        let rules = &self.code.rules;
        let moved = self.moved.borrow();
        defined_in(block)
            .into_iter()
            .chain(params.iter().copied())
            .filter(|v| {
                owned_value(&vars[*v])
                    && !self.tape.reads.contains(v)
                    && !moved.contains(v)
                    && result.var() != Some(*v)
            })
            .map(|v| {
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
                match expr {
                    Expr::Const(c) => {
                        let tokens = &c.tokens;
                        quote_spanned!(*span=> let #name #ty = #tokens;)
                    }
                    Expr::Op(op) => self.op(*var, op),
                    Expr::Call(call) => self.call(*var, call),
                    Expr::Map(map) => self.map(*var, map),
                }
            }
            Stmt::If(i) => self.branch(i),
            Stmt::Loop(l) => self.iterations(l),
        }
    }

    /// `let mut h = h0; let mut record = Vec::new(); for … { body; record.push((saved…)); h = h_next; }
    /// let h_out = h;`: the carried values are the loop's mutable bindings, and each
    /// iteration pushes what its reverse reads.
    fn iterations(&self, l: &Loop) -> TokenStream {
        let vars = &self.code.body.vars;
        let rules = &self.code.rules;
        let mut counts: HashMap<VarId, usize> = HashMap::new();
        l.carried
            .iter()
            .filter_map(|c| c.init.var())
            .for_each(|v| *counts.entry(v).or_default() += 1);
        let mut seen: HashMap<VarId, usize> = HashMap::new();
        let enter: TokenStream = l
            .carried
            .iter()
            .map(|c| {
                let phi = self.code.name(c.phi);
                let later = c.init.var().is_some_and(|v| {
                    let n = seen.entry(v).or_default();
                    *n += 1;
                    *n < counts[&v] || self.last_use.read_after_loop_starts(v, l.record)
                });
                let init = self.value_at(&c.init, 0, later);
                quote!(let mut #phi = #init;)
            })
            .collect();
        let saved = self.tape.iterations.get(&l.record);
        let record = self.code.name(l.record);
        let head = match &l.head {
            LoopHead::For { pattern, iter } => {
                let iter = &iter.tokens;
                quote!(for #pattern in #iter)
            }
            LoopHead::While(cond) => {
                let cond = &cond.tokens;
                quote!(while #cond)
            }
            LoopHead::Loop => quote!(loop),
        };
        let body = self.block(&l.body);
        let locals = crate::walk::loop_locals(l);
        // The values each iteration hands to the next: a value of the iteration moves, one
        // from before the loop is copied (the next iteration reads it again).
        let next_vars: Vec<VarId> = l.carried.iter().filter_map(|c| c.next.var()).collect();
        let mut next_seen: HashMap<VarId, usize> = HashMap::new();
        let nexts: Vec<TokenStream> = l
            .carried
            .iter()
            .map(|c| match c.next.var() {
                Some(v) if locals.contains(&v) && vars[v].binding_refs == 0 => {
                    let n = next_seen.entry(v).or_default();
                    *n += 1;
                    let name = self.code.name(v);
                    if *n < next_vars.iter().filter(|&&w| w == v).count() {
                        self.code.copy(v, quote!(&#name))
                    } else {
                        self.moved.borrow_mut().insert(v);
                        quote!(#name)
                    }
                }
                _ => self.value_at(&c.next, 0, true),
            })
            .collect();
        let push = saved.map(|saved| {
            let items = saved.iter().map(|&v| {
                let name = self.code.name(v);
                if next_vars.contains(&v) {
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
        let declare_record = saved.map(|_| quote!(let mut #record = ::std::vec::Vec::new();));
        let phis: Vec<syn::Ident> = l.carried.iter().map(|c| self.code.name(c.phi)).collect();
        let assign = match (phis.as_slice(), nexts.as_slice()) {
            ([], _) => quote!(),
            ([phi], [next]) => quote!(#phi = #next;),
            _ => quote!((#(#phis),*) = (#(#nexts),*);),
        };
        // A carried value nothing moved or saved goes back to the pool before it is replaced.
        let moved = self.moved.borrow().clone();
        let replaced: TokenStream = l
            .carried
            .iter()
            .filter(|c| {
                owned_value(&vars[c.phi])
                    && !moved.contains(&c.phi)
                    && !saved.is_some_and(|s| s.contains(&c.phi))
            })
            .map(|c| {
                let phi = self.code.name(c.phi);
                quote!(#rules::recycle(#phi);)
            })
            .collect();
        let leftovers = self.recycle_leftovers(&l.body, &Operand::Lit(quote!()), &[]);
        let exit = l.exit.map(|e| {
            let e = self.code.name(e);
            quote!(if #e { break; })
        });
        let outs = l.carried.iter().map(|c| {
            let (out, phi) = (self.code.name(c.out), self.code.name(c.phi));
            quote!(let #out = #phi;)
        });
        quote_spanned! {l.span=>
            #enter
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
            Some(v) if i == 0 && op.op.moves_first && self.consumable(v, var, op) => {
                self.moved.borrow_mut().insert(v);
                let name = self.code.name(v);
                quote!(#name)
            }
            _ => crate::rename::respan(self.code.operand_ref(o), op.span),
        });
        let consts = op.consts.iter().map(|c| &c.tokens);
        let ty = self.typed(var);
        quote_spanned!(op.span=> let (#name, #handle) #ty = #rules::#rule(#(#operands,)* #(#consts),*);)
    }

    /// Whether an operation defining `var` may take its operand `v` by value: an owned local
    /// that neither the reverse sweep nor any later forward statement reads.
    fn consumable(&self, v: VarId, var: VarId, op: &OpCall) -> bool {
        let value = &self.code.body.vars[v];
        value.binding_refs == 0
            && value.kind == VarKind::Local
            && !self.tape.reads.contains(&v)
            && op.operands.iter().filter(|o| o.var() == Some(v)).count() == 1
            && !self.last_use.read_after_let(v, var)
    }

    /// A moved binding is cloned when something reads it afterwards (the reverse sweep, or
    /// the forward sweep after this point).
    fn moved(&self, v: VarId, read_later: bool) -> TokenStream {
        let var = &self.code.body.vars[v];
        let name = &var.name;
        if var.binding_refs == 0 && (read_later || self.tape.reads.contains(&v)) {
            self.code.copy(v, quote!(&#name))
        } else {
            if var.binding_refs == 0 {
                self.moved.borrow_mut().insert(v);
            }
            quote!(#name)
        }
    }

    fn value_at(&self, o: &Operand, refs: i32, read_later: bool) -> TokenStream {
        match o {
            Operand::Var(v) if refs == self.code.body.vars[*v].binding_refs => {
                self.moved(*v, read_later)
            }
            _ => self.code.operand_at(o, refs),
        }
    }

    fn call(&self, var: VarId, call: &Call) -> TokenStream {
        let name = self.code.name(var);
        let mut counts: HashMap<VarId, usize> = HashMap::new();
        call.args
            .iter()
            .filter_map(|a| a.value)
            .for_each(|v| *counts.entry(v).or_default() += 1);
        let args = call.args.iter().map(|a| match (&a.constant, a.value) {
            (Some(c), _) => c.tokens.clone(),
            (None, Some(v)) => {
                let later = self.last_use.read_after_call(v, call.tape) || counts[&v] > 1;
                self.value_at(&Operand::Var(v), a.refs, later)
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
            let forward = self.inner_forward(&map.body, &map.result, &Tape::default());
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
        };
        let sweep = printer.sweep(&closure.sweep, quote!(#rules::one()));
        let forward = self.inner_forward(&map.body, &map.result, &closure.tape);
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

    fn inner_forward(&self, block: &Block, result: &Operand, tape: &Tape) -> TokenStream {
        let last_use = LastUse::of(block, result);
        Forward {
            code: self.code,
            tape,
            closures: self.closures,
            last_use: &last_use,
            moved: RefCell::default(),
        }
        .block(block)
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
        let values: Vec<&Operand> = i
            .merges
            .iter()
            .map(|m| if then { &m.then_value } else { &m.else_value })
            .collect();
        let mut counts: HashMap<VarId, usize> = HashMap::new();
        values
            .iter()
            .filter_map(|o| o.var())
            .for_each(|v| *counts.entry(v).or_default() += 1);
        let mut seen: HashMap<VarId, usize> = HashMap::new();
        let items = i.merges.iter().zip(&values).map(|(m, o)| {
            let later = match o.var() {
                Some(v) => {
                    let n = seen.entry(v).or_default();
                    *n += 1;
                    *n < counts[&v] || self.last_use.read_after_if(v, i.record)
                }
                None => false,
            };
            self.value_at(o, m.refs, later)
        });
        let record = record.into_iter();
        quote!((#(#items,)* #(#record,)*))
    }
}
