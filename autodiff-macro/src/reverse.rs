//! The reverse sweep: for each active value, in reverse order, the pullbacks of the
//! operation that produced it, accumulating into the adjoint slots of its operands.
//!
//! While generating, it records which bindings the sweep reads: the forward sweep saves
//! exactly those (the tape), moving a value only when nothing reads it afterwards.

use crate::code::Code;
use crate::ir::*;
use crate::needs::{ClosureSweep, ClosureSweeps, Needs};
use crate::ops::Read;
use crate::walk::{defined_in, for_each_let, owned_value};
use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use std::collections::{BTreeSet, HashMap, HashSet};

pub struct Reverse<'a> {
    code: &'a Code<'a>,
    pub needs: Needs,
    /// Reads of the branch arm being generated, innermost last.
    arm_reads: Vec<BTreeSet<VarId>>,
    mask: Option<Mask>,
    /// The parameters the sweep receives as `Lent`, with the closure's name for each.
    lent: HashMap<VarId, syn::Ident>,
}

/// Which parameters each value depends on, so that a pullback runs only when its caller
/// wants the gradient of one of them (`__ad_wanted`, one flag per parameter).
pub struct Mask {
    pub sources: Vec<BTreeSet<usize>>,
    /// Every differentiable parameter.
    pub all: BTreeSet<usize>,
    /// The flag of each parameter, by position: `__ad_want_w1`.
    pub flags: Vec<syn::Ident>,
}

impl<'a> Reverse<'a> {
    /// The sweep of a closure body, which runs whole.
    pub fn new(code: &'a Code<'a>) -> Self {
        Reverse {
            code,
            needs: Needs::default(),
            arm_reads: Vec::new(),
            mask: None,
            lent: HashMap::new(),
        }
    }

    /// The sweep of a function, whose caller says which gradients it wants, and which
    /// receives the parameters in `lent` as `Lent` (to give back after their last read).
    pub fn masked(code: &'a Code<'a>, mask: Mask, lent: HashMap<VarId, syn::Ident>) -> Self {
        Reverse {
            code,
            needs: Needs::default(),
            arm_reads: Vec::new(),
            mask: Some(mask),
            lent,
        }
    }

    /// The condition under which the adjoint of `v` is needed, when it is not always.
    fn guard(&self, v: VarId) -> Option<TokenStream> {
        let mask = self.mask.as_ref()?;
        let sources = &mask.sources[v];
        if mask.all.is_subset(sources) {
            return None;
        }
        if sources.is_empty() {
            return Some(quote!(false));
        }
        let flags = sources.iter().map(|&i| &mask.flags[i]);
        Some(quote!(#(#flags)||*))
    }

    fn guarded(&self, v: VarId, stmt: TokenStream) -> TokenStream {
        match self.guard(v) {
            Some(cond) => quote!(if #cond { #stmt }),
            None => stmt,
        }
    }

    /// [`Self::guarded`] for a pullback that takes the adjoint `seed` by value: when the
    /// pullback does not run, the adjoint's buffer goes back to the pool all the same.
    fn guarded_taking(&self, v: VarId, stmt: TokenStream, seed: &syn::Ident) -> TokenStream {
        let rules = &self.code.rules;
        match self.guard(v) {
            Some(cond) => quote!(if #cond { #stmt } else { #rules::discard(#seed); }),
            None => stmt,
        }
    }

    /// Runs `f`, and returns what it produced with the bindings it read (which still count
    /// as read by every enclosing arm).
    fn reading<R>(&mut self, f: impl FnOnce(&mut Self) -> R) -> (R, BTreeSet<VarId>) {
        self.arm_reads.push(BTreeSet::new());
        let out = f(self);
        let reads = self.arm_reads.pop().unwrap_or_default();
        if let Some(enclosing) = self.arm_reads.last_mut() {
            enclosing.extend(reads.iter().copied());
        }
        (out, reads)
    }

    fn read(&mut self, v: VarId) {
        self.needs.reads.insert(v);
        if let Some(arm) = self.arm_reads.last_mut() {
            arm.insert(v);
        }
    }

    /// The whole sweep of a block whose result adjoint is `seed`, with slots for `inputs`
    /// (parameters, or a closure's element and captures) declared first.
    pub fn sweep(
        &mut self,
        block: &Block,
        result: &Operand,
        seed: TokenStream,
        inputs: &[VarId],
    ) -> TokenStream {
        let vars = &self.code.body.vars;
        let mut decls: Vec<VarId> = inputs
            .iter()
            .copied()
            .filter(|&v| vars[v].active())
            .collect();
        for v in defined_in(block) {
            if vars[v].active() && !decls.contains(&v) {
                decls.push(v);
            }
        }
        let seeded = result.var().filter(|&v| vars[v].active());
        let declare = decls.iter().map(|&v| {
            let d = self.code.adjoint(v);
            if Some(v) == seeded {
                quote!(let mut #d = ::core::option::Option::Some(#seed);)
            } else {
                quote!(let mut #d = ::core::option::Option::None;)
            }
        });
        if let Some(v) = seeded {
            self.needs.reached.insert(v);
        }
        let declare: Vec<TokenStream> = declare.collect();
        let body = if self.mask.is_some() {
            self.block_recycling(block, inputs)
        } else {
            self.block(block)
        };
        quote!(#(#declare)* #body)
    }

    fn block(&mut self, block: &Block) -> TokenStream {
        block.stmts.iter().rev().map(|s| self.stmt(s)).collect()
    }

    /// The sweep of a function's body, giving each matrix of the tape back to the pool right
    /// after the last pullback that reads it, so that the gradients computed after it can
    /// reuse its buffer. A value whose last reader is a call to a differentiated function is
    /// given to it (`Lent::Given`) instead, to go back to the pool inside the callee's sweep.
    fn block_recycling(&mut self, block: &Block, params: &[VarId]) -> TokenStream {
        // Each statement, or each pullback of an operation, with the values it reads (and,
        // for a call, the call).
        let mut stmts = Vec::new();
        for s in block.stmts.iter().rev() {
            let vars = &self.code.body.vars;
            match s {
                Stmt::Let {
                    var,
                    expr: Expr::Op(op),
                    ..
                } if vars[*var].active() => {
                    let pullbacks = self.op_pullbacks(*var, op);
                    stmts.extend(pullbacks.into_iter().map(|(t, r)| (t, r, None)));
                }
                Stmt::Let {
                    var,
                    expr: Expr::Call(call),
                    ..
                } if vars[*var].active() => {
                    let (tokens, reads) = self.reading(|sweep| sweep.call(*var, call, &[]));
                    stmts.push((tokens, reads, Some((*var, call))));
                }
                _ => {
                    let (tokens, reads) = self.reading(|sweep| sweep.stmt(s));
                    stmts.push((tokens, reads, None));
                }
            }
        }
        let vars = &self.code.body.vars;
        let mut defined = defined_in(block);
        defined.extend_from_slice(params);
        // The parameters this sweep holds as `Lent` (none in a branch arm's block).
        let lent: HashSet<VarId> = params
            .iter()
            .copied()
            .filter(|v| self.lent.contains_key(v))
            .collect();
        let mut recycled = HashSet::new();
        // From the sweep's end backwards: the first statement met that reads a value is the
        // last one to read it.
        let mut out = Vec::new();
        for (tokens, reads, call) in stmts.into_iter().rev() {
            let last: Vec<VarId> = reads
                .into_iter()
                .filter(|v| defined.contains(v) && (owned_value(&vars[*v]) || lent.contains(v)))
                .filter(|v| recycled.insert(*v))
                .collect();
            let given: Vec<VarId> = match call {
                Some((_, call)) => last
                    .iter()
                    .copied()
                    .filter(|&v| {
                        let ours = owned_value(&vars[v]) || lent.contains(&v);
                        ours && vars[v].active() && givable(call, v)
                    })
                    .collect(),
                None => Vec::new(),
            };
            let tokens = match call {
                Some((var, call)) if !given.is_empty() => self.call(var, call, &given),
                _ => tokens,
            };
            let after = last.iter().filter(|v| !given.contains(v));
            let after: Vec<TokenStream> = after.map(|&v| self.give_back(v)).collect();
            out.push(quote!(#tokens #(#after)*));
        }
        out.reverse();
        // A lent parameter the sweep never reads goes back first.
        // (In the parameters' order: the expansion must not depend on a hash map's.)
        let unread: Vec<TokenStream> = params
            .iter()
            .filter(|v| lent.contains(*v) && !recycled.contains(*v))
            .map(|&v| self.give_back(v))
            .collect();
        quote!(#(#unread)* #(#out)*)
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

    fn stmt(&mut self, stmt: &Stmt) -> TokenStream {
        let vars = &self.code.body.vars;
        match stmt {
            Stmt::Let { var, expr, .. } if vars[*var].active() => match expr {
                Expr::Op(op) => self.op(*var, op),
                Expr::Call(call) => self.call(*var, call, &[]),
                Expr::Map(map) => self.map(*var, map),
                Expr::Const(_) => quote!(),
            },
            Stmt::Let { .. } => quote!(),
            Stmt::If(i) => self.branch(i),
            Stmt::Loop(l) => self.iterations(l),
        }
    }

    /// The iterations of a loop in reverse order, each from its record:
    /// `let mut d_h = d_h_out; for (saved…) in record.into_iter().rev() { … } flow(&mut d_h0, d_h);`
    /// where each iteration hands the adjoint of a carried value at its end to the value the
    /// body assigned, and its pullbacks leave the adjoint at its start in the carried slot.
    fn iterations(&mut self, l: &Loop) -> TokenStream {
        let vars = &self.code.body.vars;
        let active: Vec<&Carried> = l.carried.iter().filter(|c| vars[c.phi].active()).collect();
        if active.is_empty() {
            return quote!();
        }
        self.read(l.record);
        let rules = &self.code.rules;
        let is_active = |o: &Operand| o.var().filter(|&v| vars[v].active());
        let mut enter = TokenStream::new();
        let mut take = TokenStream::new();
        let mut flows = TokenStream::new();
        let mut leave = TokenStream::new();
        for c in &active {
            let (d_phi, d_out) = (self.code.adjoint(c.phi), self.code.adjoint(c.out));
            let end = crate::names::handle(&vars[c.phi].name, "end");
            enter.extend(quote!(let mut #d_phi = #d_out;));
            take.extend(quote!(let #end = #d_phi.take();));
            flows.extend(match is_active(&c.next) {
                Some(v) => {
                    let d = self.code.adjoint(v);
                    quote!(#rules::flow(&mut #d, #end);)
                }
                None => quote!(#rules::discard(#end);),
            });
            leave.extend(match is_active(&c.init) {
                Some(v) => {
                    let d = self.code.adjoint(v);
                    quote!(#rules::flow(&mut #d, #d_phi);)
                }
                None => quote!(#rules::discard(#d_phi);),
            });
        }
        let declare: TokenStream = defined_in(&l.body)
            .into_iter()
            .filter(|&v| vars[v].active())
            .map(|v| {
                let d = self.code.adjoint(v);
                quote!(let mut #d = ::core::option::Option::None;)
            })
            .collect();
        // How many iterations ran is known only when the function runs: nothing the body
        // reaches is certain to be reached.
        let reached = self.needs.reached.clone();
        let locals = l.locals();
        let start: Vec<VarId> = locals
            .iter()
            .copied()
            .filter(|v| l.bindings.contains(v) || l.carried.iter().any(|c| c.phi == *v))
            .collect();
        let (body, reads) = self.reading(|sweep| {
            if sweep.mask.is_some() {
                sweep.block_recycling(&l.body, &start)
            } else {
                sweep.block(&l.body)
            }
        });
        self.needs.reached = reached;
        let saved: Vec<VarId> = reads.into_iter().filter(|v| locals.contains(v)).collect();
        // A borrowed constant of the iteration (`x` of `for x in xs.iter()`) is kept as an
        // owned copy and borrowed again here.
        let mut reborrow = TokenStream::new();
        let names = saved.iter().map(|&v| {
            let name = self.code.name(v);
            if vars[v].kept_owned() {
                let owned = crate::names::handle(&name, "owned");
                reborrow.extend(quote!(let #name = &#owned;));
                owned
            } else {
                name
            }
        });
        let pattern = quote!((#(#names,)*));
        self.needs.iterations.insert(l.record, saved);
        let record = self.code.name(l.record);
        quote_spanned! {l.span=>
            #enter
            for #pattern in #record.into_iter().rev() {
                #reborrow
                #take
                #declare
                #flows
                #body
            }
            #leave
        }
    }

    /// `handle.lhs(&mut d_a, &d_c, b); handle.rhs(&mut d_b, d_c, a);`: the last pullback
    /// takes the result's adjoint by value, so a rule can reuse its buffer.
    fn op(&mut self, var: VarId, op: &OpCall) -> TokenStream {
        self.op_pullbacks(var, op)
            .into_iter()
            .map(|(call, _)| call)
            .collect()
    }

    /// The pullback calls of `op`, one by one with the values each reads, so that a value
    /// can go back to the pool between two of them.
    fn op_pullbacks(&mut self, var: VarId, op: &OpCall) -> Vec<(TokenStream, BTreeSet<VarId>)> {
        let vars = &self.code.body.vars;
        let mut active: Vec<(usize, VarId)> = op
            .operands
            .iter()
            .enumerate()
            .filter_map(|(i, o)| o.var().filter(|&v| vars[v].active()).map(|v| (i, v)))
            .collect();
        if op.op.first_runs_last {
            active.reverse();
        }
        self.read(op.handle);
        let handle = self.code.name(op.handle);
        let d_out = self.code.adjoint(var);
        let mut out = Vec::new();
        for (n, &(i, v)) in active.iter().enumerate() {
            let pullback = &op.op.pullbacks[i];
            let method = format_ident!("{}", pullback.method, span = op.span);
            let d_in = self.code.adjoint(v);
            let seed = if n + 1 == active.len() {
                quote!(#d_out)
            } else {
                quote!(&#d_out)
            };
            let (reads, read_values) = self.reading(|sweep| {
                let reads = pullback.reads.iter();
                reads
                    .map(|r| sweep.read_for(*r, var, op))
                    .collect::<Vec<_>>()
            });
            let stmt = quote_spanned!(op.span=> #handle.#method(&mut #d_in, #seed #(, #reads)*););
            let stmt = if n + 1 == active.len() {
                self.guarded_taking(v, stmt, &d_out)
            } else {
                self.guarded(v, stmt)
            };
            out.push((stmt, read_values));
            self.reach(var, v);
        }
        out
    }

    /// One value a pullback reads, in the wrapper that says what it is
    /// (`Operand::<0, _>(&x)`, `Output(&y)`, `Const::<0, _>(n)`): the rule's signature names
    /// the same wrapper, so a table entry that disagrees with the rule does not compile.
    fn read_for(&mut self, read: Read, var: VarId, op: &OpCall) -> TokenStream {
        let rules = crate::rename::respan(self.code.rules.clone(), op.span);
        match read {
            Read::Operand(j) => {
                if let Operand::Var(v) = &op.operands[j] {
                    self.read(*v);
                }
                let value = self.code.operand_ref(&op.operands[j]);
                let j = proc_macro2::Literal::usize_unsuffixed(j);
                quote_spanned!(op.span=> #rules::Operand::<#j, _>(#value))
            }
            Read::Output => {
                self.read(var);
                let value = self.code.operand_ref(&Operand::Var(var));
                quote_spanned!(op.span=> #rules::Output(#value))
            }
            Read::Const(k) => {
                let c = &op.consts[k];
                c.reads.iter().for_each(|&v| self.read(v));
                let value = &c.tokens;
                let k = proc_macro2::Literal::usize_unsuffixed(k);
                quote_spanned!(op.span=> #rules::Const::<#k, _>(#value))
            }
        }
    }

    fn reach(&mut self, from: VarId, to: VarId) {
        if self.needs.reached.contains(&from) {
            self.needs.reached.insert(to);
        }
    }

    /// `if let Some(seed) = d_y { let g = f::__ad_bwd_f(tape, seed, wanted); accumulate(&mut d_a, g.0); … }`,
    /// giving the callee the values in `given` (which nothing reads after this call) rather
    /// than lending them: an owned value as `Lent::Given`, a `Lent` parameter as it came.
    fn call(&mut self, var: VarId, call: &Call, given: &[VarId]) -> TokenStream {
        let vars = &self.code.body.vars;
        self.read(call.tape);
        let tape = self.code.name(call.tape);
        let d_out = self.code.adjoint(var);
        // Spanned at the call, so that an argument the callee does not differentiate is
        // reported there.
        let rules = &crate::rename::respan(self.code.rules.clone(), call.span);
        let bwd = crate::code::callee_item(&call.path, "bwd");
        let mut accumulate = TokenStream::new();
        let mut reached = Vec::new();
        // The callee computes only the gradients of the arguments this sweep needs.
        let mut wanted = Vec::new();
        for (i, arg) in call.args.iter().enumerate() {
            if let Some(v) = arg.value.filter(|&v| vars[v].active()) {
                let d = self.code.adjoint(v);
                let index = syn::Index::from(i);
                let stmt = quote!(#rules::accumulate_call(&mut #d, __ad_grad.#index););
                let stmt = crate::rename::respan(stmt, call.span);
                accumulate.extend(self.guarded(v, stmt));
                wanted.push(self.guard(v).unwrap_or_else(|| quote!(true)));
                reached.push(v);
            } else {
                wanted.push(quote!(false));
            }
        }
        for v in reached {
            self.reach(var, v);
        }
        // The callee's reverse sweep borrows its reference parameters again: pass them.
        let mut borrowed = Vec::new();
        for arg in call.args.iter().filter(|a| a.refs >= 1) {
            match (&arg.constant, arg.value) {
                (Some(c), _) => {
                    c.reads.iter().for_each(|&v| self.read(v));
                    borrowed.push(c.tokens.clone());
                }
                (None, Some(v)) if given.contains(&v) => {
                    self.read(v);
                    // A parameter this sweep was lent or given itself is passed on as it came.
                    borrowed.push(match self.lent.get(&v) {
                        Some(lent) => quote!(#lent),
                        None => {
                            let name = self.code.name(v);
                            quote!(#rules::Lent::Given(#name))
                        }
                    });
                }
                (None, Some(v)) => {
                    self.read(v);
                    borrowed.push(self.code.operand_at(&Operand::Var(v), arg.refs));
                }
                (None, None) => {}
            }
        }
        // A given value goes back to the pool all the same when the call does not run.
        let otherwise = (!given.is_empty()).then(|| {
            let back = given.iter().map(|&v| self.give_back(v));
            quote!(else { #(#back)* })
        });
        quote_spanned! {call.span=>
            if let ::core::option::Option::Some(__ad_seed) = #d_out {
                let __ad_grad = #bwd(#tape, __ad_seed, [#(#wanted),*] #(, #borrowed)*);
                #accumulate
            } #otherwise
        }
    }

    fn map(&mut self, var: VarId, map: &MapCall) -> TokenStream {
        self.read(map.handle);
        let handle = self.code.name(map.handle);
        let d_out = self.code.adjoint(var);
        let inputs = self.code.map_inputs(map);
        let mut out = TokenStream::new();
        for (k, &v) in inputs.iter().enumerate() {
            let d = self.code.adjoint(v);
            let seed = if k + 1 == inputs.len() {
                quote!(#d_out)
            } else {
                quote!(&#d_out)
            };
            let method = if Some(v) == map.recv.var() {
                quote!(input)
            } else {
                quote!(captured)
            };
            let index = proc_macro2::Literal::usize_unsuffixed(k);
            let stmt = quote_spanned!(map.span=> #handle.#method(#index, &mut #d, #seed););
            out.extend(if k + 1 == inputs.len() {
                self.guarded_taking(v, stmt, &d_out)
            } else {
                self.guarded(v, stmt)
            });
            self.reach(var, v);
        }
        out
    }

    /// `match record { Branch::Then((saved…)) => { … }, Branch::Else((saved…)) => { … } }`
    fn branch(&mut self, i: &If) -> TokenStream {
        let vars = &self.code.body.vars;
        if !i.merges.iter().any(|m| vars[m.var].active()) {
            return quote!();
        }
        self.read(i.record);
        let before = self.needs.reached.clone();
        let (then_arm, then_saved, then_reached) = self.arm(&i.then_block, i, true, &before);
        let (else_arm, else_saved, else_reached) = self.arm(&i.else_block, i, false, &before);
        self.needs.reached = then_reached.intersection(&else_reached).copied().collect();
        let rules = &self.code.rules;
        let record = self.code.name(i.record);
        let then_pat = self.code.tuple_pattern(&then_saved);
        let else_pat = self.code.tuple_pattern(&else_saved);
        self.needs.saved.insert(i.record, (then_saved, else_saved));
        quote_spanned! {i.span=>
            match #record {
                #rules::Branch::Then(#then_pat) => { #then_arm }
                #rules::Branch::Else(#else_pat) => { #else_arm }
            }
        }
    }

    fn arm(
        &mut self,
        block: &Block,
        i: &If,
        then: bool,
        before: &HashSet<VarId>,
    ) -> (TokenStream, Vec<VarId>, HashSet<VarId>) {
        let vars = &self.code.body.vars;
        self.needs.reached = before.clone();
        let local = defined_in(block);
        let declare: Vec<TokenStream> = local
            .iter()
            .filter(|&&v| vars[v].active())
            .map(|&v| {
                let d = self.code.adjoint(v);
                quote!(let mut #d = ::core::option::Option::None;)
            })
            .collect();
        let rules = &self.code.rules;
        let mut flows = TokenStream::new();
        for m in i.merges.iter().filter(|m| vars[m.var].active()) {
            let value = if then { &m.then_value } else { &m.else_value };
            if let Operand::Var(v) = value {
                if vars[*v].active() {
                    let (d_from, d_to) = (self.code.adjoint(m.var), self.code.adjoint(*v));
                    flows.extend(quote!(#rules::flow(&mut #d_to, #d_from);));
                    self.reach(m.var, *v);
                }
            }
        }
        let (body, reads) = self.reading(|sweep| {
            if sweep.mask.is_some() {
                sweep.block_recycling(block, &[])
            } else {
                sweep.block(block)
            }
        });
        let saved: Vec<VarId> = reads.into_iter().filter(|v| local.contains(v)).collect();
        let reached = std::mem::take(&mut self.needs.reached);
        (quote!(#(#declare)* #flows #body), saved, reached)
    }
}

/// Whether `call` can be given `v` (rather than lent it) when nothing reads `v` after the
/// call: `v` is an owned value passed once, by one reference (`&h`), and read by nothing
/// else in the call. (An active value goes to a differentiable parameter of the callee, which
/// its reverse sweep takes as a `Lent`: passing it to another is an error of its own.)
fn givable(call: &Call, v: VarId) -> bool {
    let passes = call.args.iter().filter(|a| a.value == Some(v)).count();
    let by_one_ref = call
        .args
        .iter()
        .any(|a| a.value == Some(v) && a.refs == 1 && a.constant.is_none());
    let in_constant = call
        .args
        .iter()
        .filter_map(|a| a.constant.as_ref())
        .any(|c| c.reads.contains(&v));
    passes == 1 && by_one_ref && !in_constant
}

/// The reverse sweep of every active `map` closure of `body`, generated before the forward
/// sweep, which embeds each in its closure and saves what it reads.
pub fn closure_sweeps(code: &Code) -> ClosureSweeps {
    let mut out = ClosureSweeps::new();
    for_each_let(&code.body.block, &mut |var, expr, _| {
        let Expr::Map(map) = expr else { return };
        if !code.body.vars[var].active() {
            return;
        }
        // The closure's own inputs: its element stands for the receiver.
        let inputs: Vec<VarId> = code
            .map_inputs(map)
            .into_iter()
            .map(|v| {
                if Some(v) == map.recv.var() {
                    map.param
                } else {
                    v
                }
            })
            .collect();
        let rules = &code.rules;
        let mut reverse = Reverse::new(code);
        let sweep = reverse.sweep(&map.body, &map.result, quote!(#rules::one()), &inputs);
        let needs = reverse.needs;
        out.insert(
            var,
            ClosureSweep {
                inputs,
                sweep,
                needs,
            },
        );
    });
    out
}
