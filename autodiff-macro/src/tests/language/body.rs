//! The body of a generated function: expressions of a given type and shape, statements,
//! branches and `map` closures, each value carrying a bound on its magnitude.

use super::{Field, GenFn, Kind, Param, Rng, Ty};
use std::fmt::Write;

mod exprs;
mod loops;
mod parts;

/// Functions whose bodies stay below this magnitude bound are left alone; larger ones are
/// squashed.
const LIMIT: f64 = 8.0;

/// A generated expression.
#[derive(Clone)]
struct Ex {
    code: String,
    bound: f64,
    /// The variable it names, and whether that binding is a reference.
    place: Option<(String, bool)>,
    /// Whether rustc knows its type (a bare float literal has none: no method on it).
    typed: bool,
    ty: Ty,
}

#[derive(Clone)]
struct Local {
    name: String,
    ty: Ty,
    is_ref: bool,
    mutable: bool,
    bound: f64,
    varied: bool,
    /// How many loops enclose its declaration: in a loop nested deeper, assigning it carries
    /// it from one iteration to the next.
    level: usize,
}

/// The state of one function body being generated.
struct Gen<'a> {
    rng: &'a mut Rng,
    callees: &'a [GenFn],
    locals: Vec<Local>,
    /// Inside a `map` closure: only scalars are visible, no calls.
    closure: bool,
    out: String,
    indent: usize,
    fresh: usize,
    labels: Option<(String, usize, usize)>,
    count: Option<String>,
    flag: Option<String>,
    calls: usize,
    /// Whether loops are generated (SPEC §6).
    loops: bool,
    /// How many loops enclose the code being generated.
    loop_depth: usize,
    /// Constant scalars the enclosing loops' variables give (`(i as f64 * 0.25)`, `(*x)`).
    loop_scalars: Vec<Ex>,
    /// Conditions on the enclosing loops' variables (`i % 2 == 0`).
    loop_conds: Vec<String>,
    /// The `&[f64]` parameters: names and lengths.
    data: Vec<(String, usize)>,
    /// Whether parts of values are generated (SPEC §7): elements, views, built matrices.
    parts: bool,
    /// Whether the function is generic over its scalar `T`: casts of constants are converted.
    generic: bool,
    /// The `#[derive(Parameters)]` parameter, if any: its name (`self`, `p`) and type's name,
    /// to pass whole to methods of its type.
    structured: Option<(String, String)>,
}

impl<'a> Gen<'a> {
    fn line(&mut self, text: &str) {
        let pad = "    ".repeat(self.indent);
        let _ = writeln!(self.out, "{pad}{text}");
    }

    /// A cast of constants to `f64`, `(n as f64 * 0.25)`: in a generic function, converted
    /// to `T`.
    fn cast(&self, code: String) -> String {
        if self.generic {
            format!("nalgebra::convert::<f64, T>{code}")
        } else {
            code
        }
    }

    fn fresh(&mut self, base: &str) -> String {
        self.fresh += 1;
        format!("{base}{}", self.fresh)
    }

    /// Visible locals, the innermost of each name only.
    fn visible(&self) -> Vec<Local> {
        let mut out: Vec<Local> = Vec::new();
        let mut seen: Vec<&str> = Vec::new();
        for l in self.locals.iter().rev() {
            if seen.contains(&l.name.as_str()) {
                continue;
            }
            seen.push(&l.name);
            if self.closure && l.ty != Ty::Scalar {
                continue;
            }
            out.push(l.clone());
        }
        out.reverse();
        out
    }

    fn of_type(&self, ty: Ty) -> Vec<Local> {
        self.visible().into_iter().filter(|l| l.ty == ty).collect()
    }

    fn matrix_types(&self) -> Vec<Ty> {
        let mut tys: Vec<Ty> = Vec::new();
        for l in self.visible() {
            if l.ty != Ty::Scalar && !tys.contains(&l.ty) {
                tys.push(l.ty);
            }
        }
        tys
    }

    fn place(&self, l: &Local) -> Ex {
        // As a value: scalars and static matrices are copied, other matrices cloned, so a
        // named value is never moved (nor a reference taken for a value).
        let code = match l.ty {
            Ty::Scalar | Ty::Mat(Kind::Static, ..) if l.is_ref => format!("(*{})", l.name),
            Ty::Scalar | Ty::Mat(Kind::Static, ..) => l.name.clone(),
            _ => format!("{}.clone()", l.name),
        };
        let place = if l.ty == Ty::Scalar {
            None
        } else {
            Some((l.name.clone(), l.is_ref))
        };
        Ex {
            code,
            bound: l.bound,
            place,
            typed: true,
            ty: l.ty,
        }
    }

    // ------------------------------------------------------------------- rendering

    /// As an operand of `+ - * /`: named matrices by reference, so nothing is moved.
    fn operand(e: &Ex) -> String {
        match &e.place {
            Some((name, false)) => format!("&{name}"),
            Some((name, true)) => name.clone(),
            None => paren(&e.code),
        }
    }
    fn receiver(e: &Ex) -> String {
        match &e.place {
            Some((name, _)) => name.clone(),
            None => paren(&e.code),
        }
    }
    fn ref_arg(e: &Ex) -> String {
        match &e.place {
            Some((name, false)) => format!("&{name}"),
            Some((name, true)) => name.clone(),
            None if e.ty == Ty::Scalar => e.code.clone(),
            None => format!("&{}", paren(&e.code)),
        }
    }
    fn value_arg(e: &Ex) -> String {
        match &e.place {
            Some((name, _)) => format!("{name}.clone()"),
            None => e.code.clone(),
        }
    }
    /// Either form, at random: free functions take values and references alike.
    fn any_arg(&mut self, e: &Ex) -> String {
        if self.rng.chance(0.7) {
            Self::ref_arg(e)
        } else {
            Self::value_arg(e)
        }
    }

    fn temp(code: String, bound: f64, ty: Ty) -> Ex {
        Ex {
            code,
            bound,
            place: None,
            typed: true,
            ty,
        }
    }

    // ------------------------------------------------------------------ statements

    fn new_type(&mut self, ret: Ty) -> Ty {
        let tys = self.matrix_types();
        match self.rng.below(10) {
            0..=3 => Ty::Scalar,
            4 | 5 => ret,
            6 if !tys.is_empty() => self.rng.pick(&tys).transposed(),
            _ if !tys.is_empty() => *self.rng.pick(&tys),
            _ => self.random_matrix_type(),
        }
    }

    fn expr(&mut self, ty: Ty, depth: u32) -> Ex {
        if ty == Ty::Scalar {
            self.scalar(depth)
        } else {
            self.matrix(ty, depth)
        }
    }

    fn declare(&mut self, name: String, ty: Ty, mutable: bool, bound: f64, code: &str) {
        let varied = self.mentions_varied(code);
        self.locals.push(Local {
            name,
            ty,
            is_ref: false,
            mutable,
            bound,
            varied,
            level: self.loop_depth,
        });
    }

    /// A name for a new `let` of type `ty` and its value: sometimes it shadows a variable of
    /// the same type, and then its value reads the shadowed one.
    fn new_binding(&mut self, ty: Ty, depth: u32) -> (String, Ex) {
        let e = self.expr(ty, depth);
        let same: Vec<Local> = self
            .visible()
            .into_iter()
            .filter(|l| l.ty == ty && !l.mutable && !is_field(&l.name))
            .collect();
        if !same.is_empty() && self.rng.chance(0.15) {
            let old = self.rng.pick(&same).clone();
            let o = self.place(&old);
            let op = *self.rng.pick(&["+", "-"]);
            let code = format!("{} {op} {}", Self::operand(&o), Self::operand(&e));
            let mut shadow = Self::temp(code, o.bound + e.bound, ty);
            if shadow.bound > LIMIT {
                shadow = if ty == Ty::Scalar {
                    self.squash_scalar(shadow)
                } else {
                    self.squash_matrix(shadow)
                };
            }
            return (old.name, shadow);
        }
        let base = *self
            .rng
            .pick(&["h", "r", "acc", "tmp", "out", "z", "u", "g", "act", "sc"]);
        (self.fresh(base), e)
    }

    fn annotation(&mut self, ty: Ty) -> String {
        if self.rng.chance(0.15) {
            format!(": {}", ty.rust())
        } else {
            String::new()
        }
    }

    fn statement(&mut self, ret: Ty, nested: bool) {
        if self.parts && self.rng.chance(0.25) {
            return self.build_statement(ret);
        }
        if self.loops && self.loop_depth < 2 {
            let p = if self.loop_depth == 0 { 0.3 } else { 0.12 };
            if self.rng.chance(p) {
                return self.loop_statement(ret, nested);
            }
        }
        let mutables: Vec<Local> = self.visible().into_iter().filter(|l| l.mutable).collect();
        match self.rng.below(12) {
            0..=3 => {
                let ty = self.new_type(ret);
                let (name, e) = self.new_binding(ty, 3);
                let ann = self.annotation(ty);
                self.line(&format!("let {name}{ann} = {};", e.code));
                self.declare(name, ty, false, e.bound, &e.code);
            }
            4 | 5 => {
                let ty = self.new_type(ret);
                let e = self.expr(ty, 2);
                let name = self.fresh("acc");
                self.line(&format!("let mut {name} = {};", e.code));
                self.declare(name, ty, true, e.bound, &e.code);
            }
            6 | 7 if !mutables.is_empty() => {
                let l = self.rng.pick(&mutables).clone();
                let text = self.assignment(&l);
                self.line(&text);
            }
            8 if !nested => {
                // A nested block with a value.
                let ty = self.new_type(ret);
                let name = self.fresh("blk");
                self.line(&format!("let {name} = {{"));
                self.indent += 1;
                let mark = self.locals.len();
                let inner_ty = self.new_type(ty);
                let inner = self.expr(inner_ty, 2);
                let t = self.fresh("t");
                self.line(&format!("let {t} = {};", inner.code));
                self.declare(t, inner_ty, false, inner.bound, &inner.code);
                let tail = self.expr(ty, 2);
                self.line(&tail.code);
                let varied = self.mentions_varied(&tail.code);
                self.locals.truncate(mark);
                self.indent -= 1;
                self.line("};");
                self.locals.push(Local {
                    name,
                    ty,
                    is_ref: false,
                    mutable: false,
                    bound: tail.bound,
                    varied,
                    level: self.loop_depth,
                });
            }
            9 if !nested => {
                // `if` as a value, maybe with `else if`.
                let ty = self.new_type(ret);
                let name = self.fresh("sel");
                let cond = self.condition();
                self.line(&format!("let {name} = if {cond} {{"));
                let (mut bound, mut varied) = self.branch_value(ty);
                if self.rng.chance(0.4) {
                    let cond = self.condition();
                    self.line(&format!("}} else if {cond} {{"));
                    let (b, v) = self.branch_value(ty);
                    bound = bound.max(b);
                    varied |= v;
                }
                self.line("} else {");
                let (b, v) = self.branch_value(ty);
                bound = bound.max(b);
                varied |= v;
                self.line("};");
                self.locals.push(Local {
                    name,
                    ty,
                    is_ref: false,
                    mutable: false,
                    bound,
                    varied,
                    level: self.loop_depth,
                });
            }
            10 | 11 if !nested && !mutables.is_empty() => {
                // `if` as a statement assigning a `let mut` declared before it.
                let l = self.rng.pick(&mutables).clone();
                let cond = self.condition();
                self.line(&format!("if {cond} {{"));
                self.branch_assign(&l);
                if self.rng.chance(0.6) {
                    if self.rng.chance(0.3) {
                        let cond = self.condition();
                        self.line(&format!("}} else if {cond} {{"));
                        self.branch_assign(&l);
                    }
                    self.line("} else {");
                    self.branch_assign(&l);
                }
                self.line("}");
            }
            _ => {
                let ty = self.new_type(ret);
                let (name, e) = self.new_binding(ty, 2);
                self.line(&format!("let {name} = {};", e.code));
                self.declare(name, ty, false, e.bound, &e.code);
            }
        }
    }

    fn branch_value(&mut self, ty: Ty) -> (f64, bool) {
        self.indent += 1;
        let mark = self.locals.len();
        if self.rng.chance(0.4) {
            self.statement(ty, true);
        }
        let e = self.expr(ty, 2);
        self.line(&e.code);
        let varied = self.mentions_varied(&e.code);
        self.locals.truncate(mark);
        self.indent -= 1;
        (e.bound, varied)
    }

    fn branch_assign(&mut self, l: &Local) {
        self.indent += 1;
        let mark = self.locals.len();
        if self.rng.chance(0.3) {
            self.statement(l.ty, true);
        }
        let text = self.assignment(l);
        self.line(&text);
        self.locals.truncate(mark);
        self.indent -= 1;
    }

    /// `x = …;`, `x += …;`, `x -= …;`, `x *= …;` or `x /= …;`, keeping `x` tame.
    fn assignment(&mut self, l: &Local) -> String {
        if l.level < self.loop_depth {
            return self.carried_update(l);
        }
        let rhs = self.expr(l.ty, 2);
        let (text, bound) = match self.rng.below(6) {
            0 | 1 => (format!("{} = {};", l.name, rhs.code), rhs.bound),
            2 | 3 if self.reads(&rhs.code, &l.name) => {
                let target = self.place(l);
                (
                    format!(
                        "{} = {} + {};",
                        l.name,
                        Self::operand(&target),
                        Self::operand(&rhs)
                    ),
                    l.bound + rhs.bound,
                )
            }
            2 => (
                format!("{} += {};", l.name, self.compound_rhs(&rhs)),
                l.bound + rhs.bound,
            ),
            3 => (
                format!("{} -= {};", l.name, self.compound_rhs(&rhs)),
                l.bound + rhs.bound,
            ),
            4 => {
                let s = self.bounded_scalar(1, 1.2);
                (format!("{} *= {};", l.name, s.code), l.bound * s.bound)
            }
            _ => {
                let s = self.scalar(1);
                (format!("{} /= square({}) + 1.0;", l.name, s.code), l.bound)
            }
        };
        if bound > LIMIT {
            let arg = if l.ty == Ty::Scalar {
                l.name.clone()
            } else {
                format!("&{}", l.name)
            };
            return format!("{} = tanh({arg});", l.name);
        }
        self.set_bound(&l.name, bound);
        if self.mentions_varied(&rhs.code) {
            if let Some(local) = self.locals.iter_mut().rev().find(|x| x.name == l.name) {
                local.varied = true;
            }
        }
        text
    }

    /// The right-hand side of `+=`/`-=`: a matrix operand by reference or by value.
    fn compound_rhs(&mut self, rhs: &Ex) -> String {
        if rhs.ty == Ty::Scalar {
            rhs.code.clone()
        } else {
            Self::operand(rhs)
        }
    }

    fn set_bound(&mut self, name: &str, bound: f64) {
        if let Some(l) = self.locals.iter_mut().rev().find(|l| l.name == name) {
            l.bound = l.bound.max(bound);
        }
    }

    /// The result: the function's value mixes several of its variables.
    fn result(&mut self, ret: Ty) -> Ex {
        let mut terms: Vec<Ex> = Vec::new();
        let visible: Vec<Local> = self.visible().into_iter().filter(|l| l.varied).collect();
        for _ in 0..self.rng.range(1, 3) {
            if visible.is_empty() {
                break;
            }
            let l = self.rng.pick(&visible).clone();
            let e = self.place(&l);
            let term = match (l.ty, ret) {
                (a, b) if a == b => e,
                (Ty::Scalar, _) => {
                    let (c, _) = self.const_matrix(ret);
                    Self::temp(format!("{} * {}", paren(&c), e.code), e.bound, ret)
                }
                (_, Ty::Scalar) => Self::temp(
                    format!("{}.sum()", Self::receiver(&e)),
                    e.bound * 4.0,
                    Ty::Scalar,
                ),
                _ => {
                    let (c, _) = self.const_matrix(ret);
                    Self::temp(
                        format!("{} * {}.mean()", paren(&c), Self::receiver(&e)),
                        e.bound,
                        ret,
                    )
                }
            };
            terms.push(term);
        }
        terms.push(self.expr(ret, 2));
        let bound: f64 = terms.iter().map(|t| t.bound).sum();
        let code: Vec<String> = terms.iter().map(Self::operand).collect();
        let e = Self::temp(code.join(" + "), bound, ret);
        if bound > 4.0 * LIMIT {
            if ret == Ty::Scalar {
                self.squash_scalar(e)
            } else {
                self.squash_matrix(e)
            }
        } else {
            e
        }
    }
}

/// Whether a local is a field of a structured parameter (`p.a`, `p.ws[1]`): read, never
/// bound.
fn is_field(name: &str) -> bool {
    name.contains('.')
}

/// A literal that brings a value of magnitude up to `bound` to about ±1.
fn scale_for(bound: f64) -> String {
    format!("{:.2}", scale_factor(bound))
}

/// The factor [`scale_for`] writes: about `1 / bound`, rounded up to two decimals.
fn scale_factor(bound: f64) -> f64 {
    let k = (1.0 / bound.max(1.0)).clamp(0.01, 1.0);
    (k * 100.0).ceil() / 100.0
}

fn paren(code: &str) -> String {
    let simple = code
        .chars()
        .all(|c| c.is_alphanumeric() || c == '_' || c == '.');
    if simple && !code.starts_with('-') || (code.starts_with('(') && balanced_outer(code)) {
        code.to_string()
    } else {
        format!("({code})")
    }
}

/// Whether `code` is one parenthesised group: `(a + b)` but not `(a) + (b)`.
fn balanced_outer(code: &str) -> bool {
    let mut depth = 0;
    for (i, ch) in code.char_indices() {
        match ch {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => {
                depth -= 1;
                if depth == 0 && i + 1 != code.len() {
                    return false;
                }
            }
            _ => {}
        }
    }
    code.ends_with(')')
}

/// What a body may hold beyond the statements of the language's first stage.
#[derive(Clone, Copy)]
pub(super) struct Mode {
    /// Loops (SPEC §6).
    pub loops: bool,
    /// Parts of values read and built (SPEC §7).
    pub parts: bool,
    /// Casts of constants converted to the scalar `T` of a generic function (SPEC §11).
    pub generic: bool,
}

/// The body of a function with these parameters and result: `statements` statements, then
/// the result, with braces.
pub(super) fn body(
    rng: &mut Rng,
    callees: &[GenFn],
    params: &[Param],
    ret: Ty,
    statements: usize,
    mode: Mode,
) -> String {
    let Mode {
        loops,
        parts,
        generic,
    } = mode;
    let mut gen = Gen {
        rng,
        callees,
        locals: Vec::new(),
        closure: false,
        out: String::new(),
        indent: 1,
        fresh: 0,
        labels: None,
        count: None,
        flag: None,
        calls: 0,
        loops,
        loop_depth: 0,
        loop_scalars: Vec::new(),
        loop_conds: Vec::new(),
        data: Vec::new(),
        parts,
        generic,
        structured: None,
    };
    for p in params {
        match p {
            Param::Diff { name, ty, by_ref } => gen.locals.push(Local {
                name: name.clone(),
                ty: *ty,
                is_ref: *by_ref,
                mutable: false,
                bound: 1.5,
                varied: true,
                level: gen.loop_depth,
            }),
            Param::Const { name, ty } => gen.locals.push(Local {
                name: name.clone(),
                ty: *ty,
                is_ref: *ty != Ty::Scalar,
                mutable: false,
                bound: 1.5,
                varied: false,
                level: gen.loop_depth,
            }),
            Param::Count { name, .. } => gen.count = Some(name.clone()),
            Param::Labels { name, rows, cols } => gen.labels = Some((name.clone(), *rows, *cols)),
            Param::Flag { name, .. } => gen.flag = Some(name.clone()),
            Param::Data { name, values } => gen.data.push((name.clone(), values.len())),
            Param::Struct {
                name,
                fields,
                ty_name,
            } => {
                gen.structured = Some((name.clone(), ty_name.clone()));
                for f in fields {
                    let field = |ty: Ty, name: String| Local {
                        name,
                        ty,
                        is_ref: false,
                        mutable: false,
                        bound: 1.5,
                        varied: true,
                        level: 0,
                    };
                    match f {
                        Field::Leaf { name: f, ty } => {
                            gen.locals.push(field(*ty, format!("{name}.{f}")))
                        }
                        Field::Vec { name: f, tys } => {
                            for (i, ty) in tys.iter().enumerate() {
                                gen.locals.push(field(*ty, format!("{name}.{f}[{i}]")));
                            }
                        }
                        Field::Count { name: f, .. } => gen.count = Some(format!("{name}.{f}")),
                        Field::Flag { name: f, .. } => gen.flag = Some(format!("{name}.{f}")),
                    }
                }
            }
        }
    }
    // With loops, one statement at least is a loop.
    let looped = if loops {
        gen.rng.below(statements.max(1))
    } else {
        usize::MAX
    };
    // With parts, one statement at least builds a matrix by parts.
    let built = if parts {
        gen.rng.below(statements.max(1))
    } else {
        usize::MAX
    };
    for i in 0..statements {
        if i == built {
            gen.build_statement(ret);
        } else if i == looped {
            gen.loop_statement(ret, false);
        } else {
            gen.statement(ret, false);
        }
    }
    let result = gen.result(ret);
    if gen.rng.chance(0.2) {
        gen.line(&format!("return {};", result.code));
    } else {
        gen.line(&result.code);
    }
    let body = format!("{{\n{}}}", gen.out);
    body
}
