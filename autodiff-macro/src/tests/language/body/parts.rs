//! Parts of values (SPEC §7), for the functions of [`crate::tests::language::parts_program`]:
//! elements read (`m[(i, j)]`, `v[i]`), views turned into owned values (`m.row(i)`,
//! `m.column(j)`, `m.rows(i, n)`, `m.columns(j, n)`, `m.view((i, j), (r, c))`), and values
//! built by parts: a `let mut` matrix from zeros or an expression, every element written in
//! a loop (sometimes a recurrence reading the element written before), single elements
//! written or compound-written, rows and columns set, then read like any other local.
//!
//! Indices are literals in range. Bounds follow the writes: an element is at most what was
//! written there, `*=` multiplies by a factor below 1.2, a recurrence `0.5·y[k−1] + e` stays
//! below twice the bound of `e`.

use super::{Ex, Gen, Local};
use crate::tests::language::{Kind, Ty};

impl Gen<'_> {
    /// `m[(i, j)]` or `v[i]` of a visible matrix, if there is one.
    pub(super) fn element_read(&mut self) -> Option<Ex> {
        let matrices: Vec<Local> = self
            .visible()
            .into_iter()
            .filter(|l| l.ty != Ty::Scalar)
            .collect();
        if matrices.is_empty() {
            return None;
        }
        let varied: Vec<&Local> = matrices.iter().filter(|l| l.varied).collect();
        let l = if !varied.is_empty() && self.rng.chance(0.85) {
            (*self.rng.pick(&varied)).clone()
        } else {
            self.rng.pick(&matrices).clone()
        };
        let index = self.index_of(l.ty);
        Some(Self::temp(
            format!("{}[{index}]", l.name),
            l.bound,
            Ty::Scalar,
        ))
    }

    /// An index in range of a value of type `ty`: `k` for a vector, `(i, j)` otherwise.
    fn index_of(&mut self, ty: Ty) -> String {
        let (r, c) = ty.dims();
        match ty {
            Ty::Mat(Kind::Col | Kind::Row, ..) => self.rng.below(r * c).to_string(),
            _ => format!("({}, {})", self.rng.below(r), self.rng.below(c)),
        }
    }

    /// A part of a visible matrix that has type `ty`, as an owned value, if there is one.
    pub(super) fn view_of(&mut self, ty: Ty) -> Option<Ex> {
        let Ty::Mat(kind, r, c) = ty else { return None };
        let mut options: Vec<(Local, String)> = Vec::new();
        for l in self.visible() {
            let Ty::Mat(from, rr, cc) = l.ty else {
                continue;
            };
            let (i, j) = (
                self.rng.below(rr + 1 - r.min(rr)),
                self.rng.below(cc + 1 - c.min(cc)),
            );
            let part = match (kind, from) {
                (Kind::Row, Kind::Dense) if cc == c => format!("row({})", self.rng.below(rr)),
                (Kind::Row, Kind::Row) if cc >= c => format!("columns({j}, {c})"),
                (Kind::Col, Kind::Dense) if rr == r => format!("column({})", self.rng.below(cc)),
                (Kind::Col, Kind::Col) if rr >= r => format!("rows({i}, {r})"),
                (Kind::Dense, Kind::Dense) if rr >= r && cc == c => format!("rows({i}, {r})"),
                (Kind::Dense, Kind::Dense) if rr == r && cc >= c => format!("columns({j}, {c})"),
                (Kind::Dense, Kind::Dense) if rr >= r && cc >= c => {
                    format!("view(({i}, {j}), ({r}, {c}))")
                }
                (Kind::Static, Kind::Static) if r == 1 && cc == c => {
                    format!("row({})", self.rng.below(rr))
                }
                (Kind::Static, Kind::Static) if c == 1 && rr == r => {
                    format!("column({})", self.rng.below(cc))
                }
                _ => continue,
            };
            options.push((l, part));
        }
        if options.is_empty() {
            return None;
        }
        let (l, part) = self.rng.pick(&options).clone();
        let owned = *self.rng.pick(&["into_owned", "clone_owned"]);
        Some(Self::temp(
            format!("{}.{part}.{owned}()", l.name),
            l.bound,
            ty,
        ))
    }

    /// A matrix built by parts: declared `let mut`, written element by element in a loop,
    /// element by element, by rows or columns, then visible as a local.
    pub(super) fn build_statement(&mut self, ret: Ty) {
        let ty = match self.new_type(ret) {
            Ty::Scalar => self.random_matrix_type(),
            ty => ty,
        };
        let name = self.fresh("bv");
        let (start, mut bound) = if self.rng.chance(0.6) {
            (zeros(ty), 0.0)
        } else {
            let e = self.matrix(ty, 1);
            let e = if e.bound > 1.5 {
                self.squash_matrix(e)
            } else {
                e
            };
            (e.code, e.bound)
        };
        self.line(&format!("let mut {name} = {start};"));
        let mut code = start;
        if self.rng.chance(0.7) {
            let (text, b) = self.write_loop(&name, ty);
            bound = bound.max(b);
            code.push_str(&text);
        }
        for _ in 0..self.rng.range(0, 2) {
            let (text, b) = self.element_write(&name, ty, bound);
            self.line(&text);
            bound = b;
            code.push_str(&text);
        }
        if matches!(ty, Ty::Mat(Kind::Dense | Kind::Static, ..)) && self.rng.chance(0.4) {
            let (text, b) = self.line_write(&name, ty);
            self.line(&text);
            bound = bound.max(b);
            code.push_str(&text);
        }
        self.declare(name, ty, false, bound.max(0.1), &code);
    }

    /// `for k in 0..len { y[k] = e; }`, or the recurrence `y[k] = 0.5 * y[k - 1] + e` from
    /// `k = 1`; `e` may read the loop's variable. The text written and the bound of `y`.
    fn write_loop(&mut self, name: &str, ty: Ty) -> (String, f64) {
        let (r, c) = ty.dims();
        let len = r * c;
        let k = self.fresh("k");
        let recurrence = len > 1 && self.rng.chance(0.4);
        let from = usize::from(recurrence);
        self.line(&format!("for {k} in {from}..{len} {{"));
        self.indent += 1;
        self.loop_depth += 1;
        self.loop_scalars.push(Self::temp(
            self.cast(format!("({k} as f64 * 0.25)")),
            len as f64 * 0.25,
            Ty::Scalar,
        ));
        let e = self.bounded_scalar(2, 1.5);
        self.loop_scalars.pop();
        self.loop_depth -= 1;
        let (value, bound) = if recurrence {
            (
                format!("0.5 * {name}[{k} - 1] + {}", Self::operand(&e)),
                2.0 * e.bound,
            )
        } else {
            (e.code.clone(), e.bound)
        };
        let text = format!("{name}[{k}] = {value};");
        self.line(&text);
        self.indent -= 1;
        self.line("}");
        (text, bound)
    }

    /// One element written: `=`, `+=`, `-=` or `*=`. The text and the new bound of `y`.
    fn element_write(&mut self, name: &str, ty: Ty, bound: f64) -> (String, f64) {
        let index = self.index_of(ty);
        match self.rng.below(4) {
            0 => {
                let e = self.bounded_scalar(2, 1.5);
                (format!("{name}[{index}] = {};", e.code), bound.max(e.bound))
            }
            1 | 2 => {
                let op = if self.rng.chance(0.5) { "+=" } else { "-=" };
                let e = self.bounded_scalar(2, 1.0);
                (format!("{name}[{index}] {op} {};", e.code), bound + e.bound)
            }
            _ => {
                let e = self.bounded_scalar(1, 1.2);
                (
                    format!("{name}[{index}] *= {};", e.code),
                    bound.max(bound * e.bound),
                )
            }
        }
    }

    /// `y.set_row(i, &r)` or `y.set_column(j, &c)` of a dense or static matrix.
    fn line_write(&mut self, name: &str, ty: Ty) -> (String, f64) {
        let Ty::Mat(kind, r, c) = ty else {
            return (String::new(), 0.0);
        };
        let row = self.rng.chance(0.5);
        let part_ty = match (kind, row) {
            (Kind::Static, true) => Ty::Mat(Kind::Static, 1, c),
            (Kind::Static, false) => Ty::Mat(Kind::Static, r, 1),
            (_, true) => Ty::Mat(Kind::Row, 1, c),
            (_, false) => Ty::Mat(Kind::Col, r, 1),
        };
        let e = self.matrix(part_ty, 1);
        let e = if e.bound > 1.5 {
            self.squash_matrix(e)
        } else {
            e
        };
        let (method, at) = if row {
            ("set_row", self.rng.below(r))
        } else {
            ("set_column", self.rng.below(c))
        };
        (
            format!("{name}.{method}({at}, {});", Self::ref_arg(&e)),
            e.bound,
        )
    }
}

/// Zeros of a matrix type, as a user writes them.
fn zeros(ty: Ty) -> String {
    match ty {
        Ty::Mat(Kind::Dense, r, c) => format!("DMatrix::<f64>::zeros({r}, {c})"),
        Ty::Mat(Kind::Col, r, _) => format!("DVector::<f64>::zeros({r})"),
        Ty::Mat(Kind::Row, _, c) => format!("RowDVector::<f64>::zeros({c})"),
        Ty::Mat(Kind::Static, r, c) => format!("SMatrix::<f64, {r}, {c}>::zeros()"),
        Ty::Scalar => "0.0_f64".into(),
    }
}
