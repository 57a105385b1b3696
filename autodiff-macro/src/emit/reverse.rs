//! The reverse sweep printed from its plan: each step as the rule calls, branches and loops
//! of the reverse closure (or of a `map` closure's body).

use super::code::Code;
use super::graph::Hooks;
use crate::ir::*;
use crate::plan::*;
use crate::rename::respan;
use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use std::collections::HashMap;

pub struct Printer<'a> {
    pub code: &'a Code<'a>,
    /// The flag of each parameter, by position: `__ad_want_w1` (empty in a closure's sweep,
    /// whose steps always run).
    pub flags: &'a [syn::Ident],
    /// The parameters the sweep receives as `Lent`, with the closure's name for each.
    pub lent: &'a HashMap<VarId, syn::Ident>,
    /// In `NAME_graph`: the gradient of each drawn value, given before its pullbacks.
    pub graph: Option<&'a Hooks>,
}

impl Printer<'_> {
    /// The sweep, its adjoint slots declared first, the seed in the result's.
    pub fn sweep(&self, sweep: &Sweep, seed: TokenStream) -> TokenStream {
        let declare = sweep.declare.iter().map(|&(v, seeded)| {
            let d = self.code.adjoint(v);
            if seeded {
                quote!(let mut #d = ::core::option::Option::Some(#seed);)
            } else {
                quote!(let mut #d = ::core::option::Option::None;)
            }
        });
        let steps = self.steps(&sweep.steps);
        quote!(#(#declare)* #steps)
    }

    fn steps(&self, steps: &Steps) -> TokenStream {
        steps.0.iter().map(|step| self.step(step)).collect()
    }

    fn step(&self, step: &Step) -> TokenStream {
        match step {
            Step::Pullback(p) => self.pullback(p),
            Step::Call(c) => self.call(c),
            Step::Branch(b) => self.branch(b),
            Step::Iterations(l) => self.iterations(l),
            Step::GiveBack(v) => self.give_back(*v),
        }
    }

    /// The condition of a guard, when the step does not always run.
    fn condition(&self, guard: &Guard) -> Option<TokenStream> {
        match guard {
            Guard::Always => None,
            Guard::Never => Some(quote!(false)),
            Guard::AnyOf(params) => {
                let flags = params.iter().map(|&i| &self.flags[i]);
                Some(quote!(#(#flags)||*))
            }
        }
    }

    fn slot(&self, v: VarId) -> syn::Ident {
        self.code.adjoint(v)
    }

    /// `handle.lhs(&mut d_a, &d_c, b);`: the last pullback of an operation takes the result's
    /// adjoint by value (`only` gives it back to the pool when the pullback is not wanted).
    fn pullback(&self, p: &Pullback) -> TokenStream {
        let handle = self.code.name(p.handle);
        let (d_in, d_out) = (self.slot(p.input), self.slot(p.output));
        let seed = if p.takes_seed {
            quote!(#d_out)
        } else {
            quote!(&#d_out)
        };
        // A pullback that leads only to gradients the caller may not want gets its seed
        // through `only(flags, seed)`: zero when none is wanted (the pullback does nothing).
        let seed = match self.condition(&p.guard) {
            None => seed,
            Some(cond) => {
                let rules = &self.code.rules;
                quote!(#rules::only(#cond, #seed))
            }
        };
        let stmt = match p.method {
            Method::Rule(method) => {
                let method = format_ident!("{}", method, span = p.span);
                let reads = p.reads.iter().map(|r| self.read(r, p.span));
                quote_spanned!(p.span=> #handle.#method(&mut #d_in, #seed #(, #reads)*);)
            }
            Method::MapInput(k) | Method::MapCaptured(k) => {
                let method = match p.method {
                    Method::MapInput(_) => quote!(input),
                    _ => quote!(captured),
                };
                let index = proc_macro2::Literal::usize_unsuffixed(k);
                quote_spanned!(p.span=> #handle.#method(#index, &mut #d_in, #seed);)
            }
        };
        // Before the operation's last pullback, which takes the adjoint: it is complete.
        let gradient = self
            .graph
            .filter(|_| p.takes_seed)
            .map(|g| g.gradient(p.output, &d_out));
        quote!(#gradient #stmt)
    }

    /// One value a pullback reads, in the wrapper that says what it is
    /// (`Operand::<0, _>(&x)`, `Output(&y)`, `Const::<0, _>(n)`): the rule's signature names
    /// the same wrapper, so a table entry that disagrees with the rule does not compile.
    fn read(&self, read: &Read, span: proc_macro2::Span) -> TokenStream {
        let rules = respan(self.code.rules.clone(), span);
        match read {
            Read::Operand(j, operand) => {
                let value = self.code.operand_ref(operand);
                let j = proc_macro2::Literal::usize_unsuffixed(*j);
                quote_spanned!(span=> #rules::Operand::<#j, _>(#value))
            }
            Read::Output(v) => {
                let value = self.code.operand_ref(&Operand::Var(*v));
                quote_spanned!(span=> #rules::Output(#value))
            }
            Read::Const(k, c) => {
                let value = &c.tokens;
                let k = proc_macro2::Literal::usize_unsuffixed(*k);
                quote_spanned!(span=> #rules::Const::<#k, _>(#value))
            }
        }
    }

    /// `if let Some(seed) = d_y { let g = tape_y(seed, wanted, lend(borrowed)…);
    /// accumulate(&mut d_a, g.0); … }`: the callee's reverse sweep, run with the flags of the
    /// gradients wanted, its borrowed arguments lent or (when this sweep reads them no more)
    /// given as `Lent::Given`, and given back all the same when the call does not run.
    fn call(&self, c: &CallBack) -> TokenStream {
        let call = c.call;
        let tape = self.code.name(call.tape);
        let d_out = self.slot(c.var);
        // Spanned at the call, so that an argument the callee does not differentiate is
        // reported there.
        let rules = &respan(self.code.rules.clone(), call.span);
        let accumulate = self.accumulate_call(c, rules);
        let wanted = self.wanted_of_call(c);
        let borrowed = self.borrowed_of_call(c, rules);
        let otherwise = (!c.given.is_empty()).then(|| {
            let back = c.given.iter().map(|&v| self.give_back(v));
            quote!(else { #(#back)* })
        });
        let gradient = self.graph.map(|g| g.gradient(c.var, &d_out));
        quote_spanned! {call.span=>
            #gradient
            if let ::core::option::Option::Some(__ad_seed) = #d_out {
                let __ad_grad = #tape(__ad_seed, [#(#wanted),*] #(, #borrowed)*);
                #accumulate
            } #otherwise
        }
    }

    /// The callee's gradients added into the adjoints of the arguments that receive one, each
    /// under its guard.
    fn accumulate_call(&self, c: &CallBack, rules: &TokenStream) -> TokenStream {
        let span = c.call.span;
        c.accumulate
            .iter()
            .map(|(i, v, guard)| {
                let d = self.slot(*v);
                let index = syn::Index::from(*i);
                let stmt = quote!(#rules::accumulate_call(&mut #d, __ad_grad.#index););
                let stmt = respan(stmt, span);
                match self.condition(guard) {
                    Some(cond) => quote!(if #cond { #stmt }),
                    None => stmt,
                }
            })
            .collect()
    }

    /// The flag of each argument of the call, by position: whether its gradient is wanted
    /// (its guard, `true` without one), `false` for an argument that receives none.
    fn wanted_of_call(&self, c: &CallBack) -> Vec<TokenStream> {
        (0..c.call.args.len())
            .map(|i| match c.accumulate.iter().find(|(at, _, _)| *at == i) {
                Some((_, _, guard)) => self.condition(guard).unwrap_or_else(|| quote!(true)),
                None => quote!(false),
            })
            .collect()
    }

    /// The borrowed arguments of the call as the callee's reverse sweep takes them: lent, or
    /// passed on as given.
    fn borrowed_of_call(&self, c: &CallBack, rules: &TokenStream) -> Vec<TokenStream> {
        let borrowed = c.call.args.iter().filter(|a| a.refs >= 1);
        borrowed
            .filter_map(|arg| match (&arg.constant, arg.value) {
                (Some(constant), _) => {
                    let constant = &constant.tokens;
                    Some(quote!(#rules::lend(#constant)))
                }
                // A parameter this sweep was lent or given itself is passed on as it came.
                (None, Some(v)) if c.given.contains(&v) => Some(match self.lent.get(&v) {
                    Some(lent) => quote!(#lent),
                    None => {
                        let name = self.code.name(v);
                        quote!(#rules::Lent::Given(#name))
                    }
                }),
                // A borrowed value, as the callee takes it (`Lent::Borrowed`, or the reference).
                (None, Some(v)) => {
                    let value = self.code.operand_at(&Operand::Var(v), arg.refs);
                    Some(quote!(#rules::lend(#value)))
                }
                (None, None) => None,
            })
            .collect()
    }

    /// `match record { Branch::Then((saved…)) => { … }, Branch::Else((saved…)) => { … } }`
    fn branch(&self, b: &Branch) -> TokenStream {
        let rules = &self.code.rules;
        let record = self.code.name(b.record);
        let then_pat = self.code.tuple_pattern(&b.then_arm.saved);
        let else_pat = self.code.tuple_pattern(&b.else_arm.saved);
        let (then_arm, else_arm) = (self.arm(&b.then_arm), self.arm(&b.else_arm));
        quote_spanned! {b.span=>
            match #record {
                #rules::Branch::Then(#then_pat) => { #then_arm }
                #rules::Branch::Else(#else_pat) => { #else_arm }
            }
        }
    }

    fn arm(&self, arm: &Arm) -> TokenStream {
        let rules = &self.code.rules;
        let declare = arm.declare.iter().map(|&v| {
            let d = self.slot(v);
            quote!(let mut #d = ::core::option::Option::None;)
        });
        let flows = arm.flows.iter().map(|&(merged, value)| {
            let (d_from, d_to) = (self.slot(merged), self.slot(value));
            quote!(#rules::flow(&mut #d_to, #d_from);)
        });
        let steps = self.steps(&arm.steps);
        let rereads = self.code.rereads(&arm.locals, |h| arm.saved.contains(&h));
        quote!(#rereads #(#declare)* #(#flows)* #steps)
    }

    /// `let mut d_h = d_h_out; for (saved…) in record.into_iter().rev() { … } flow(&mut d_h0, d_h);`
    /// where each iteration hands the adjoint of a carried value at its end to the value the
    /// body assigned, and its pullbacks leave the adjoint at its start in the carried slot.
    fn iterations(&self, l: &Iterations) -> TokenStream {
        let vars = &self.code.body.vars;
        let [enter, take, flows, leave] = self.carried(l);
        let declare = l.declare.iter().map(|&v| {
            let d = self.slot(v);
            quote!(let mut #d = ::core::option::Option::None;)
        });
        // A borrowed constant of the iteration (`x` of `for x in xs.iter()`) is kept as an
        // owned copy and borrowed again here.
        let mut reborrow = TokenStream::new();
        let names: Vec<syn::Ident> = l
            .saved
            .iter()
            .map(|&v| {
                let name = self.code.name(v);
                if vars[v].kept_owned() {
                    let owned = crate::names::handle(&name, "owned", self.code.body.short_names);
                    reborrow.extend(quote!(let #name = &#owned;));
                    owned
                } else {
                    name
                }
            })
            .collect();
        let pattern = quote!((#(#names,)*));
        let record = self.code.name(l.record);
        let steps = self.steps(&l.steps);
        let rereads = self.code.rereads(&l.locals, |h| l.saved.contains(&h));
        quote_spanned! {l.span=>
            #enter
            for #pattern in #record.into_iter().rev() {
                #reborrow
                #rereads
                #take
                #(#declare)*
                #flows
                #steps
            }
            #leave
        }
    }

    /// For each active carried value: its adjoint entering the loop (the adjoint after it),
    /// taken as an iteration's end, handed to the value the body assigned, and leaving the loop
    /// to the value before it.
    fn carried(&self, l: &Iterations) -> [TokenStream; 4] {
        let vars = &self.code.body.vars;
        let rules = &self.code.rules;
        let mut enter = TokenStream::new();
        let mut take = TokenStream::new();
        let mut flows = TokenStream::new();
        let mut leave = TokenStream::new();
        for c in &l.carried {
            let (d_phi, d_out) = (self.slot(c.phi), self.slot(c.out));
            let end = crate::names::handle(&vars[c.phi].name, "end", self.code.body.short_names);
            enter.extend(quote!(let mut #d_phi = #d_out;));
            take.extend(quote!(let #end = #d_phi.take();));
            flows.extend(match c.next {
                Some(v) => {
                    let d = self.slot(v);
                    quote!(#rules::flow(&mut #d, #end);)
                }
                None => quote!(#rules::discard(#end);),
            });
            leave.extend(match c.init {
                Some(v) => {
                    let d = self.slot(v);
                    quote!(#rules::flow(&mut #d, #d_phi);)
                }
                None => quote!(#rules::discard(#d_phi);),
            });
        }
        [enter, take, flows, leave]
    }

    /// `v` back to the pool once the sweep reads it no more: `give_back(lent)` for a `Lent`
    /// parameter, `recycle(v)` for an owned value.
    fn give_back(&self, v: VarId) -> TokenStream {
        let rules = &self.code.rules;
        match self.lent.get(&v) {
            Some(lent) => quote!(#rules::give_back(#lent);),
            None => {
                let name = self.code.name(v);
                quote!(#rules::recycle(#name);)
            }
        }
    }
}
