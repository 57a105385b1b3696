//! Loops (SPEC §6): `for` over ranges of every form and over constant collections, `while` on
//! a value with an iteration cap, `while` on a counter, `loop` with `break`, `break` and
//! `continue` under `if`, loops nested and inside branches, and the scalars and matrices they
//! carry from one iteration to the next.
//!
//! Values stay tame whatever the number of iterations (at most [`MAX_ITERATIONS`] per loop):
//! a carried value has a bound `B` that each update keeps (`c = tanh(…)`, `c = 0.5 * c + …`,
//! `c *= 0.5; c += …;` with the added term scaled to `B / 2`), except one `+=`/`-=` per
//! iteration of an accumulator, whose bound counts the iterations.

use super::{Ex, Gen, Local, LIMIT};
use crate::tests::language::{lit, Ty};

/// The most iterations one loop runs.
const MAX_ITERATIONS: usize = 6;

/// What an accumulator may add per iteration.
const INCREMENT: f64 = 0.3;

/// A loop's head, and what its variables give its body.
struct Head {
    /// Lines before the loop: a constant array it runs over, its counter.
    prelude: Vec<String>,
    /// `for i in 0..3`, `while …`, `loop`: completed by [`Gen::while_condition`] for a
    /// `while` on a value (`None` here).
    text: Option<String>,
    /// At most how many iterations run.
    iterations: usize,
    /// Constant scalars its variables give.
    scalars: Vec<Ex>,
    /// Conditions on its variables.
    conds: Vec<String>,
    /// A counter (`it3`) and its cap: the body counts its iterations and breaks at the cap,
    /// unless the head itself tests it (`while it3 < 4`).
    counter: Option<(String, usize, bool)>,
    /// A `loop`: it must break.
    plain: bool,
}

/// One step of a loop body.
#[derive(Clone, Copy)]
enum Step {
    Statement,
    /// The update of the `i`th carried value.
    Update(usize),
    Exit,
}

impl Gen<'_> {
    /// A loop statement: the values it carries declared just before it (and maybe a mutable
    /// already in scope carried as well), the loop, sometimes inside an `if`.
    pub(super) fn loop_statement(&mut self, ret: Ty, nested: bool) {
        let mut head = self.loop_head();
        // Carried values: fresh ones, each a state (updated by contractions) or an
        // accumulator (one `+=`/`-=` per iteration).
        let mut carried: Vec<(Local, bool)> = Vec::new();
        for _ in 0..self.rng.range(1, 2) {
            let ty = self.new_type(ret);
            let accumulator = self.rng.chance(0.4);
            let init = if accumulator && self.rng.chance(0.5) {
                let zero = if ty == Ty::Scalar {
                    "0.0_f64".to_string()
                } else {
                    ty.constant(0.0)
                };
                Self::temp(zero, 0.0, ty)
            } else {
                let e = self.expr(ty, 2);
                if e.bound > 1.5 {
                    if ty == Ty::Scalar {
                        self.squash_scalar(e)
                    } else {
                        self.squash_matrix(e)
                    }
                } else {
                    e
                }
            };
            let bound = if accumulator {
                init.bound + head.iterations as f64 * INCREMENT
            } else {
                init.bound.max(1.0)
            };
            let name = self.fresh(if ty == Ty::Scalar { "s" } else { "hm" });
            let ann = if init.typed {
                String::new()
            } else {
                ": f64".into()
            };
            self.line(&format!("let mut {name}{ann} = {};", init.code));
            let varied = self.mentions_varied(&init.code);
            let local = Local {
                name,
                ty,
                is_ref: false,
                mutable: true,
                bound,
                varied,
                level: self.loop_depth,
            };
            self.locals.push(local.clone());
            carried.push((local, accumulator));
        }
        let outer: Vec<Local> = self
            .visible()
            .into_iter()
            .filter(|l| l.mutable && !carried.iter().any(|(c, _)| c.name == l.name))
            .collect();
        if !outer.is_empty() && self.rng.chance(0.3) {
            let l = self.rng.pick(&outer).clone();
            carried.push((l, false));
        }
        if head.text.is_none() {
            head.text = Some(self.while_condition(&carried));
        }
        for line in &head.prelude {
            self.line(line);
        }
        let guarded = self.loop_depth == 0 && !nested && self.rng.chance(0.12);
        if guarded {
            let cond = self.condition();
            self.line(&format!("if {cond} {{"));
            self.indent += 1;
        }
        self.line(&format!("{} {{", head.text.clone().unwrap_or_default()));
        self.loop_body(ret, &head, &carried);
        self.line("}");
        if guarded {
            self.indent -= 1;
            self.line("}");
        }
    }

    /// The body: a few statements, one update of each carried value, maybe an exit, in random
    /// order; the counter first (so that `continue` cannot skip it) or last.
    fn loop_body(&mut self, ret: Ty, head: &Head, carried: &[(Local, bool)]) {
        self.indent += 1;
        self.loop_depth += 1;
        let (scalars, conds) = (self.loop_scalars.len(), self.loop_conds.len());
        self.loop_scalars.extend(head.scalars.iter().cloned());
        self.loop_conds.extend(head.conds.iter().cloned());
        let mark = self.locals.len();

        let mut steps: Vec<Step> = (0..carried.len()).map(Step::Update).collect();
        for _ in 0..self.rng.below(3) {
            steps.push(Step::Statement);
        }
        let exit = head.plain || self.rng.chance(0.45);
        if exit {
            steps.push(Step::Exit);
        }
        for i in (1..steps.len()).rev() {
            let j = self.rng.below(i + 1);
            steps.swap(i, j);
        }
        // `continue` only where a counter cannot be skipped: not in a `loop` or `while`
        // whose counter comes last.
        let counter_first = self.rng.chance(0.5);
        let may_continue = head.counter.is_none() || counter_first;
        if let (Some((it, cap, tested)), true) = (&head.counter, counter_first) {
            self.count_iteration(it, *cap, *tested);
        }
        for step in steps {
            match step {
                Step::Statement => self.statement(ret, false),
                Step::Update(i) => {
                    let l = self.current(&carried[i].0);
                    let text = if carried[i].1 {
                        self.accumulate(&l)
                    } else {
                        self.carried_update(&l)
                    };
                    self.line(&text);
                }
                Step::Exit => {
                    let word = if head.plain || !may_continue || self.rng.chance(0.5) {
                        "break"
                    } else {
                        "continue"
                    };
                    let cond = self.exit_condition();
                    if self.rng.chance(0.2) {
                        // An update, then the exit, under the same `if`.
                        let (l, _) = self.rng.pick(carried).clone();
                        let l = self.current(&l);
                        self.line(&format!("if {cond} {{"));
                        self.indent += 1;
                        let text = self.carried_update(&l);
                        self.line(&text);
                        self.line(&format!("{word};"));
                        self.indent -= 1;
                        self.line("}");
                    } else {
                        self.line(&format!("if {cond} {{ {word}; }}"));
                    }
                }
            }
        }
        if let (Some((it, cap, tested)), false) = (&head.counter, counter_first) {
            self.count_iteration(it, *cap, *tested);
        }

        self.locals.truncate(mark);
        self.loop_scalars.truncate(scalars);
        self.loop_conds.truncate(conds);
        self.loop_depth -= 1;
        self.indent -= 1;
    }

    /// The carried local as it is now (its `varied` may have changed).
    fn current(&self, l: &Local) -> Local {
        self.locals
            .iter()
            .rev()
            .find(|x| x.name == l.name)
            .cloned()
            .unwrap_or_else(|| l.clone())
    }

    fn count_iteration(&mut self, it: &str, cap: usize, tested: bool) {
        self.line(&format!("{it} += 1;"));
        if !tested {
            let test = if self.rng.chance(0.5) {
                format!("{it} >= {cap}")
            } else {
                format!("{it} > {}", cap - 1)
            };
            self.line(&format!("if {test} {{ break; }}"));
        }
    }

    /// A `break`/`continue` condition: on a loop variable, or on values.
    fn exit_condition(&mut self) -> String {
        if !self.loop_conds.is_empty() && self.rng.chance(0.4) {
            let conds = self.loop_conds.clone();
            return self.rng.pick(&conds).clone();
        }
        self.condition()
    }

    /// The condition of a `while` on a value: on a carried value, so that it changes.
    fn while_condition(&mut self, carried: &[(Local, bool)]) -> String {
        let scalars: Vec<&Local> = carried
            .iter()
            .map(|(l, _)| l)
            .filter(|l| l.ty == Ty::Scalar)
            .collect();
        let x = self.rng.lit(0.3, 2.5);
        let cond = match (scalars.first(), carried.first()) {
            (Some(l), _) if self.rng.chance(0.7) => match self.rng.below(3) {
                0 => format!("{}.abs() < {}", l.name, lit(x)),
                1 => format!("{} < {}", l.name, lit(x)),
                _ => format!("{} > {}", l.name, lit(-x)),
            },
            (_, Some((l, _))) if l.ty != Ty::Scalar && self.rng.chance(0.5) => {
                format!("{}.sum() < {}", l.name, lit(x * 2.0))
            }
            _ => self.condition(),
        };
        format!("while {cond}")
    }

    // ------------------------------------------------------------------- heads

    fn loop_head(&mut self) -> Head {
        let mut head = Head {
            prelude: Vec::new(),
            text: None,
            iterations: 0,
            scalars: Vec::new(),
            conds: Vec::new(),
            counter: None,
            plain: false,
        };
        match self.rng.below(20) {
            0..=8 => self.range_head(&mut head),
            9..=12 => self.collection_head(&mut head),
            13..=16 => {
                // `while` on a value, or on a counter.
                let cap = self.cap();
                let it = self.fresh("it");
                head.prelude.push(format!("let mut {it} = 0;"));
                if self.rng.chance(0.3) {
                    head.text = Some(format!("while {it} < {cap}"));
                    head.counter = Some((it.clone(), cap, true));
                    head.conds.push(format!("{it} % 2 == 1"));
                } else {
                    head.counter = Some((it, cap, false));
                }
                head.iterations = cap;
            }
            _ => {
                let cap = self.cap();
                let it = self.fresh("it");
                head.prelude.push(format!("let mut {it} = 0;"));
                head.text = Some("loop".into());
                head.counter = Some((it.clone(), cap, false));
                head.conds.push(format!("{it} == 2"));
                head.iterations = cap;
                head.plain = true;
            }
        }
        head
    }

    /// A cap on the iterations of a `while` or `loop`.
    fn cap(&mut self) -> usize {
        self.rng.range(1, MAX_ITERATIONS)
    }

    /// `for i in …` over a range with constant bounds: literals, the `usize` parameter, a
    /// shape; `a..b`, `a..=b`, `(a..b).rev()`, `(a..b).step_by(k)`; sometimes empty.
    fn range_head(&mut self, head: &mut Head) {
        let var = if self.rng.chance(0.2) {
            "_".to_string()
        } else {
            self.fresh("i")
        };
        // The upper bound: a literal, `n` (1 to 4 in the tests), or a shape (1 to 4).
        let shapes: Vec<(String, usize)> = self
            .visible()
            .iter()
            .filter_map(|l| match l.ty {
                Ty::Mat(_, r, c) => Some(if self.rng.chance(0.5) {
                    (format!("{}.nrows()", l.name), r)
                } else {
                    (format!("{}.ncols()", l.name), c)
                }),
                Ty::Scalar => None,
            })
            .collect();
        let (end, max_end) = match self.rng.below(10) {
            0 | 1 if self.count.is_some() => (self.count.clone().unwrap_or_default(), 4),
            2 | 3 if !shapes.is_empty() => self.rng.pick(&shapes).clone(),
            4 => {
                // An empty range now and then.
                let k = self.rng.range(0, 2);
                (k.to_string(), k)
            }
            _ => {
                let k = self.rng.range(1, 5);
                (k.to_string(), k)
            }
        };
        let empty = max_end == 0 || (self.rng.chance(0.06));
        let start = if empty {
            end.clone()
        } else if self.rng.chance(0.25) {
            "1".to_string()
        } else {
            "0".to_string()
        };
        let (text, max_i) = match self.rng.below(8) {
            0 | 1 => (format!("{start}..={end}"), max_end),
            2 | 3 => (format!("({start}..{end}).rev()"), max_end),
            4 => {
                let k = self.rng.range(1, 3);
                (format!("({start}..={end}).step_by({k})"), max_end)
            }
            5 => {
                let k = self.rng.range(2, 3);
                (format!("({start}..{end}).step_by({k})"), max_end)
            }
            _ => (format!("{start}..{end}"), max_end),
        };
        // `a..=a` runs once: a range that is meant to be empty is written `a..a`.
        let text = if empty {
            format!("{start}..{end}")
        } else {
            text
        };
        head.text = Some(format!("for {var} in {text}"));
        head.iterations = max_i + 1;
        if var != "_" {
            head.scalars.push(Self::temp(
                self.cast(format!("({var} as f64 * 0.2)")),
                0.2 * max_i as f64,
                Ty::Scalar,
            ));
            let k = self.rng.range(0, 2);
            head.conds.push(match self.rng.below(3) {
                0 => format!("{var} % 2 == {}", k % 2),
                1 => format!("{var} > {k}"),
                _ => format!("{var} == {k}"),
            });
        }
    }

    /// `for x in …` over a constant collection: an `&[f64]` parameter, a constant array
    /// declared before the loop, the labels; `.iter()`, `&c`, `.enumerate()`, `.zip(..)`.
    fn collection_head(&mut self, head: &mut Head) {
        let labels = self.labels.clone();
        let choice = self.rng.below(10);
        if let (Some((l, rows, _)), 0 | 1) = (&labels, choice) {
            let x = self.fresh("l");
            let (pattern, iter) = if self.rng.chance(0.5) {
                let i = self.fresh("i");
                head.scalars.push(Self::temp(
                    self.cast(format!("({i} as f64 * 0.2)")),
                    0.2 * *rows as f64,
                    Ty::Scalar,
                ));
                (format!("({i}, {x})"), format!("{l}.iter().enumerate()"))
            } else {
                (x.clone(), format!("{l}.iter()"))
            };
            head.text = Some(format!("for {pattern} in {iter}"));
            head.scalars.push(Self::temp(
                self.cast(format!("(*{x} as f64 * 0.3)")),
                0.9,
                Ty::Scalar,
            ));
            head.conds.push(format!("*{x} == 0"));
            head.iterations = *rows;
            return;
        }
        // The collection: a parameter, or a constant array declared before the loop.
        let (name, len, array) = if !self.data.is_empty() && choice < 6 {
            let (name, len) = self.rng.pick(&self.data).clone();
            (name, len, false)
        } else {
            let len = self.rng.range(1, 4);
            let values: Vec<String> = (0..len).map(|_| lit(self.rng.lit(-0.9, 0.9))).collect();
            let name = self.fresh("cs");
            head.prelude.push(format!(
                "let {name}: [f64; {len}] = [{}];",
                values.join(", ")
            ));
            (name, len, true)
        };
        head.iterations = len;
        let x = self.fresh("x");
        // The element by reference (`x`, read as `(*x)`) or by value (`&x`, read as `x`).
        let by_value = self.rng.chance(0.3);
        let (bind, read) = if by_value {
            (format!("&{x}"), x.clone())
        } else {
            (x.clone(), format!("(*{x})"))
        };
        head.scalars.push(Self::temp(read.clone(), 0.9, Ty::Scalar));
        head.conds
            .push(format!("{read} > {}", lit(self.rng.lit(-0.5, 0.5))));
        let others: Vec<(String, usize)> = self
            .data
            .iter()
            .filter(|(n, l)| *n != name && *l == len)
            .cloned()
            .collect();
        let whole = if array && self.rng.chance(0.5) {
            format!("&{name}")
        } else {
            format!("{name}.iter()")
        };
        let (pattern, iter) = match self.rng.below(4) {
            0 => {
                let i = self.fresh("i");
                head.scalars.push(Self::temp(
                    self.cast(format!("({i} as f64 * 0.2)")),
                    0.2 * len as f64,
                    Ty::Scalar,
                ));
                head.conds.push(format!("{i} % 2 == 0"));
                (
                    format!("({i}, {bind})"),
                    format!("{name}.iter().enumerate()"),
                )
            }
            1 if !others.is_empty() => {
                let (other, _) = self.rng.pick(&others).clone();
                let y = self.fresh("y");
                head.scalars
                    .push(Self::temp(format!("(*{y})"), 0.9, Ty::Scalar));
                (
                    format!("({bind}, {y})"),
                    format!("{name}.iter().zip({other}.iter())"),
                )
            }
            _ => (bind, whole),
        };
        head.text = Some(format!("for {pattern} in {iter}"));
    }

    // ----------------------------------------------------------------- updates

    /// An update of a carried value that keeps it within its bound `B`.
    pub(super) fn carried_update(&mut self, l: &Local) -> String {
        let b = l.bound.max(1.0);
        let mut e = self.expr(l.ty, 2);
        if !self.loop_scalars.is_empty() && self.rng.chance(0.3) {
            let scalars = self.loop_scalars.clone();
            let s = self.rng.pick(&scalars).clone();
            e = Self::temp(
                format!("{} * {}", Self::operand(&e), s.code),
                e.bound * s.bound.max(0.1),
                l.ty,
            );
        }
        let c = &l.name;
        let varied = self.mentions_varied(&e.code);
        let text = match self.rng.below(8) {
            0 | 1 => {
                let s = if l.ty == Ty::Scalar {
                    self.squash_scalar(e)
                } else {
                    self.squash_matrix(e)
                };
                format!("{c} = {};", s.code)
            }
            2 | 3 => {
                let term = Self::scaled(&e, 0.5 * b);
                let half = if l.ty == Ty::Scalar {
                    format!("0.5 * {c}")
                } else {
                    format!("&{c} * 0.5")
                };
                format!("{c} = {half} + {term};")
            }
            4 => {
                let term = Self::scaled(&e, 0.5 * b);
                let op = *self.rng.pick(&["+=", "-="]);
                let k = self.rng.lit(0.3, 0.5);
                format!("{c} *= {k:.2}; {c} {op} {term};")
            }
            5 => format!("{c} = {};", Self::scaled(&e, b)),
            6 => {
                let s = self.scalar(1);
                format!("{c} /= square({}) + 1.0;", s.code)
            }
            _ if l.ty == Ty::Scalar => {
                let m = *self.rng.pick(&["max", "min"]);
                format!("{c} = {c}.{m}({});", Self::scaled(&e, b))
            }
            _ => {
                let arg = self.any_arg(&e);
                format!("{c} = {c}.component_mul(&sigmoid({arg}));")
            }
        };
        if varied {
            self.mark_varied(c);
        }
        text
    }

    /// The accumulator's update: `c += …;` or `c -= …;`, the term below [`INCREMENT`].
    fn accumulate(&mut self, l: &Local) -> String {
        let mut e = self.expr(l.ty, 2);
        if let Some(s) = self.loop_scalars.last().cloned() {
            if self.rng.chance(0.5) {
                // The iteration's own constant in the term.
                e = Self::temp(
                    format!("{} * {}", Self::operand(&e), s.code),
                    e.bound * s.bound,
                    l.ty,
                );
            }
        }
        if e.bound > LIMIT {
            e = if l.ty == Ty::Scalar {
                self.squash_scalar(e)
            } else {
                self.squash_matrix(e)
            };
        }
        let varied = self.mentions_varied(&e.code);
        let op = if self.rng.chance(0.7) { "+" } else { "-" };
        let term = Self::scaled(&e, INCREMENT);
        let text = format!("{} {op}= {term};", l.name);
        if varied {
            self.mark_varied(&l.name);
        }
        text
    }

    /// `e * k`, with `k` bringing `e`'s bound down to `target`.
    fn scaled(e: &Ex, target: f64) -> String {
        let k = ((target / e.bound.max(1e-9)).min(1.0) * 100.0).floor() / 100.0;
        format!("{} * {:.2}", Self::operand(e), k.max(0.01))
    }

    fn mark_varied(&mut self, name: &str) {
        if let Some(local) = self.locals.iter_mut().rev().find(|x| x.name == name) {
            local.varied = true;
        }
    }
}
