//! A seeded generator of random well-formed functions of the stage-1 `#[differentiate]`
//! language (SPEC §3, §4): scalars, dynamic and static matrices, every operator, method and
//! free function, `let mut` with reassignment and compound assignment, shadowing, nested
//! blocks, branches, `map` closures with captures, and calls between generated functions;
//! then functions with loops (SPEC §6, `body/loops.rs`) and functions that read parts of
//! values and build matrices by parts (SPEC §7, `body/parts.rs`); then functions generic over
//! their scalar (`T: RealScalar`, SPEC §11: the same language, every `f64` written `T`, its
//! constants `nalgebra::convert::<f64, T>(0.5)`, `T::one()`, `T::zero()`, calling earlier
//! generic functions), functions whose differentiable parameters are the fields of a
//! `#[derive(Parameters)]` struct of their own taken by reference (SPEC §8: scalar and
//! matrix fields read as `p.a`, `&p.a`, `p.a.sum()`, a `Vec<DMatrix<f64>>` field read by
//! index, `#[parameters(skip)]` fields read as constants; a third of them methods
//! `fn NAME(&self, …)` in a `#[differentiate] impl` block), and functions with a derivative
//! rule of their own (`vjp = rule`, SPEC §9: the body of another generated function, the
//! rule returning that function's derived gradient), each with a differentiated caller.
//!
//! Methods go on the receivers nalgebra gives them to, so that the primal compiles and means
//! what rustc makes of it: on a matrix, `transpose component_mul component_div sum mean
//! norm_squared norm dot add_scalar scale map abs` (elementwise `abs`), `clone clone_owned
//! into_owned` of a local, and `exp` on a square `DMatrix` or `SMatrix` only, where it is the
//! *matrix* exponential. The scalar-only methods (`ln sqrt powi powf sin cos tan tanh recip`,
//! `max`/`min` of two values) go on scalars only.
//!
//! It is used twice: the fuzzer feeds its functions (and mutations of them) to `expand`, and
//! [`differential_file`] writes `tests/differential/generated.rs`, where the value of each
//! function's generated items is checked against the function's, bit for bit, and its
//! derived gradient against central differences (a struct's leaf by leaf, its skipped fields
//! copied unchanged); a generic function is called at `f64` so, and at `f32`, where its value
//! and gradient must be the `f64` ones up to single-precision rounding. Values are kept tame, so that
//! finite differences are accurate: every subexpression carries a bound on its magnitude,
//! large ones are squashed (`tanh`, `sigmoid`, `sin`), `ln`/`sqrt`/`recip`/`powf` only see
//! `abs() + 0.5`, divisors are `square(…) + 0.5` or `abs() + 0.5`, `exp` sees scalars below
//! 2, and an `n × n` matrix whose elements are below `2 / n` (else scaled to about `1 / n`),
//! so that its matrix exponential stays tame. Dependency-free and deterministic: the
//! same seed gives the same text on every platform.

mod body;
mod test_file;

pub use test_file::{
    differential_file, DIFFERENTIAL_SEED, GENERIC_SEED, LOOP_SEED, PARTS_SEED, RULE_SEED,
    STRUCT_SEED,
};

/// SplitMix64: small, fast, and the same everywhere.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03)
    }
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }
    pub fn chance(&mut self, p: f64) -> bool {
        ((self.next() >> 11) as f64 / (1u64 << 53) as f64) < p
    }
    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
    /// A literal in `lo..hi` with two decimals.
    pub fn lit(&mut self, lo: f64, hi: f64) -> f64 {
        let x = lo + (hi - lo) * (self.below(10_000) as f64 / 10_000.0);
        (x * 100.0).round() / 100.0
    }
}

/// The static type of a matrix: which nalgebra alias it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `DMatrix<f64>`
    Dense,
    /// `DVector<f64>` (one column)
    Col,
    /// `RowDVector<f64>` (one row)
    Row,
    /// `SMatrix<f64, R, C>`
    Static,
}

/// A value's type and shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ty {
    Scalar,
    Mat(Kind, usize, usize),
}

impl Ty {
    pub fn rust(self) -> String {
        match self {
            Ty::Scalar => "f64".into(),
            Ty::Mat(Kind::Dense, ..) => "DMatrix<f64>".into(),
            Ty::Mat(Kind::Col, ..) => "DVector<f64>".into(),
            Ty::Mat(Kind::Row, ..) => "RowDVector<f64>".into(),
            Ty::Mat(Kind::Static, r, c) => format!("SMatrix<f64, {r}, {c}>"),
        }
    }
    pub fn transposed(self) -> Ty {
        match self {
            Ty::Scalar => Ty::Scalar,
            Ty::Mat(Kind::Col, r, _) => Ty::Mat(Kind::Row, 1, r),
            Ty::Mat(Kind::Row, _, c) => Ty::Mat(Kind::Col, c, 1),
            Ty::Mat(k, r, c) => Ty::Mat(k, c, r),
        }
    }
    /// Whether nalgebra gives this type its matrix exponential `exp`: a square `DMatrix` or
    /// `SMatrix` (vectors have no `exp`, whatever their length).
    pub fn is_square(self) -> bool {
        matches!(self, Ty::Mat(Kind::Dense | Kind::Static, r, c) if r == c)
    }
    pub fn dims(self) -> (usize, usize) {
        match self {
            Ty::Scalar => (1, 1),
            Ty::Mat(_, r, c) => (r, c),
        }
    }
    /// A constant of this type with every element `x`.
    pub fn constant(self, x: f64) -> String {
        match self {
            Ty::Scalar => lit(x),
            Ty::Mat(Kind::Dense, r, c) => {
                format!("DMatrix::<f64>::from_element({r}, {c}, {})", lit(x))
            }
            Ty::Mat(Kind::Col, r, _) => format!("DVector::<f64>::from_element({r}, {})", lit(x)),
            Ty::Mat(Kind::Row, _, c) => format!("RowDVector::<f64>::from_element({c}, {})", lit(x)),
            Ty::Mat(Kind::Static, r, c) => {
                format!("SMatrix::<f64, {r}, {c}>::from_element({})", lit(x))
            }
        }
    }
    /// A constant of this type with the given elements, in row-major order.
    pub fn literal_rows(self, values: &[f64]) -> String {
        let list: Vec<String> = values.iter().map(|v| format!("{v:.2}")).collect();
        let list = list.join(", ");
        match self {
            Ty::Scalar => lit(values.first().copied().unwrap_or(0.5)),
            Ty::Mat(Kind::Dense, r, c) => {
                format!("DMatrix::<f64>::from_row_slice({r}, {c}, &[{list}])")
            }
            Ty::Mat(Kind::Col, ..) => format!("DVector::<f64>::from_row_slice(&[{list}])"),
            Ty::Mat(Kind::Row, ..) => format!("RowDVector::<f64>::from_row_slice(&[{list}])"),
            Ty::Mat(Kind::Static, r, c) => {
                format!("SMatrix::<f64, {r}, {c}>::from_row_slice(&[{list}])")
            }
        }
    }

    /// Test code turning a `DMatrix` expression of this shape into a value of this type.
    fn converted_dense(self, dense: &str) -> String {
        match self {
            Ty::Scalar => dense.to_string(),
            Ty::Mat(Kind::Dense, ..) => dense.to_string(),
            Ty::Mat(Kind::Col, ..) => format!("DVector::from_column_slice({dense}.as_slice())"),
            Ty::Mat(Kind::Row, ..) => format!("RowDVector::from_row_slice({dense}.as_slice())"),
            Ty::Mat(Kind::Static, r, c) => {
                format!("SMatrix::<f64, {r}, {c}>::from_column_slice({dense}.as_slice())")
            }
        }
    }
}

fn attribute(args: &str) -> String {
    if args.is_empty() {
        "#[differentiate]".to_string()
    } else {
        format!("#[differentiate({args})]")
    }
}

fn lit(x: f64) -> String {
    if x < 0.0 {
        format!("({x:.2})")
    } else {
        format!("{x:.2}")
    }
}

/// A parameter of a generated function.
#[derive(Clone, Debug)]
pub enum Param {
    /// Differentiable: `f64`, or a matrix by value or by reference (`&f64` too).
    Diff { name: String, ty: Ty, by_ref: bool },
    /// An `f64` or a `&` matrix left out of `wrt(..)`: a constant.
    Const { name: String, ty: Ty },
    /// `usize`
    Count { name: String, value: usize },
    /// `&[usize]`: class labels for the rows of a `rows × cols` score matrix.
    Labels {
        name: String,
        rows: usize,
        cols: usize,
    },
    /// `bool`
    Flag { name: String, value: bool },
    /// `&[f64]` left out of `wrt(..)`: a constant collection for loops to run over.
    Data { name: String, values: Vec<f64> },
    /// `&S017`: a `#[derive(Parameters)]` struct of its own (SPEC §8), whose fields the body
    /// reads (`p.a`, `&p.a`, `p.ws[1]`, `p.k`); `self` in a method.
    Struct {
        name: String,
        ty_name: String,
        fields: Vec<Field>,
    },
}

/// A field of a generated `#[derive(Parameters)]` struct.
#[derive(Clone, Debug)]
pub enum Field {
    /// A scalar or a matrix: differentiable.
    Leaf { name: String, ty: Ty },
    /// `Vec<DMatrix<f64>>`, its elements of these shapes, read by index.
    Vec { name: String, tys: Vec<Ty> },
    /// `#[parameters(skip)] usize`: a constant.
    Count { name: String, value: usize },
    /// `#[parameters(skip)] bool`: a constant.
    Flag { name: String, value: bool },
}

impl Field {
    fn rust(&self) -> String {
        match self {
            Field::Leaf { name, ty } => format!("{name}: {}", ty.rust()),
            Field::Vec { name, .. } => format!("{name}: Vec<DMatrix<f64>>"),
            Field::Count { name, .. } => format!("#[parameters(skip)]\n    {name}: usize"),
            Field::Flag { name, .. } => format!("#[parameters(skip)]\n    {name}: bool"),
        }
    }
}

impl Param {
    pub fn name(&self) -> &str {
        match self {
            Param::Diff { name, .. }
            | Param::Const { name, .. }
            | Param::Count { name, .. }
            | Param::Labels { name, .. }
            | Param::Flag { name, .. }
            | Param::Data { name, .. }
            | Param::Struct { name, .. } => name,
        }
    }
    fn rust(&self) -> String {
        match self {
            Param::Diff {
                ty, by_ref: true, ..
            } => format!("&{}", ty.rust()),
            Param::Diff { ty, .. } => ty.rust(),
            Param::Const { ty: Ty::Scalar, .. } => "f64".into(),
            Param::Const { ty, .. } => format!("&{}", ty.rust()),
            Param::Count { .. } => "usize".into(),
            Param::Labels { .. } => "&[usize]".into(),
            Param::Flag { .. } => "bool".into(),
            Param::Data { .. } => "&[f64]".into(),
            Param::Struct { ty_name, .. } => format!("&{ty_name}"),
        }
    }
}

/// A generated function.
#[derive(Clone, Debug)]
pub struct GenFn {
    pub name: String,
    pub params: Vec<Param>,
    pub ret: Ty,
    /// The attribute's arguments, as written between the parentheses (may be empty).
    pub args: String,
    pub vis: &'static str,
    pub doc: bool,
    /// The body, with braces, indented for the file.
    pub body: String,
    /// Generic over its scalar `T: RealScalar` (SPEC §11): every `f64` of its text is `T`.
    pub generic: bool,
    /// A method `fn NAME(&self, …)` of the struct of its first parameter, in a
    /// `#[differentiate] impl` block of its own.
    pub method: bool,
    /// Items written before it in the test file: its struct, its derivative rule.
    pub extra: String,
}

impl GenFn {
    /// The function without the attribute (a method: its `impl` block, the method's
    /// attribute included).
    pub fn item(&self) -> String {
        let params: Vec<String> = self
            .params
            .iter()
            .map(|p| match p {
                Param::Struct { .. } if self.method => "&self".to_string(),
                _ if self.generic => format!("{}: {}", p.name(), p.rust().replace("f64", "T")),
                _ => format!("{}: {}", p.name(), p.rust()),
            })
            .collect();
        let doc = if self.doc {
            format!("/// Generated function `{}`.\n", self.name)
        } else {
            String::new()
        };
        let (generics, ret) = if self.generic {
            ("<T: RealScalar>", self.ret.rust().replace("f64", "T"))
        } else {
            ("", self.ret.rust())
        };
        let f = format!(
            "{doc}{}fn {}{generics}({}) -> {ret} {}",
            self.vis,
            self.name,
            params.join(", "),
            self.body
        );
        match self.struct_param() {
            Some((_, ty_name, _)) if self.method => {
                format!("impl {ty_name} {{\n{}\n{f}\n}}", attribute(&self.args))
            }
            _ => f,
        }
    }
    /// The arguments of the attribute on the item: none on a method's `impl` block (the
    /// method's own are inside it).
    pub fn outer_args(&self) -> &str {
        if self.method {
            ""
        } else {
            &self.args
        }
    }
    /// The function with its `#[differentiate(..)]` attribute.
    pub fn source(&self) -> String {
        format!("{}\n{}", attribute(self.outer_args()), self.item())
    }
    /// The structured parameter: its name, type and fields.
    pub fn struct_param(&self) -> Option<(&str, &str, &[Field])> {
        self.params.iter().find_map(|p| match p {
            Param::Struct {
                name,
                ty_name,
                fields,
            } => Some((name.as_str(), ty_name.as_str(), fields.as_slice())),
            _ => None,
        })
    }
    fn diff_params(&self) -> impl Iterator<Item = (&str, Ty, bool)> {
        self.params.iter().filter_map(|p| match p {
            Param::Diff { name, ty, by_ref } => Some((name.as_str(), *ty, *by_ref)),
            _ => None,
        })
    }
}

const PARAM_NAMES: &[&str] = &[
    "a", "b", "c", "w", "x", "y", "z", "m", "p", "q", "h", "s", "t", "k", "v", "w1", "w2", "b1",
    "b2", "bias",
];

/// One random function, calling only functions among `callees`.
pub fn function(rng: &mut Rng, name: String, callees: &[GenFn]) -> GenFn {
    let statements = rng.range(2, 7);
    function_with(rng, name, callees, statements)
}

/// One random function with `statements` top-level statements before its result.
pub fn function_with(rng: &mut Rng, name: String, callees: &[GenFn], statements: usize) -> GenFn {
    generate(rng, name, callees, statements, false, false)
}

/// One random function with at least one loop (SPEC §6) among its statements, and loops
/// possibly anywhere else: `for` over ranges and constant collections, `while`, `loop`,
/// `break`/`continue` under `if`, nested loops, carried scalars and matrices.
pub fn loop_function(rng: &mut Rng, name: String, callees: &[GenFn]) -> GenFn {
    let statements = rng.range(1, 5);
    generate(rng, name, callees, statements, true, false)
}

/// One random function with loops that reads parts of values and builds values by parts
/// (SPEC §7): elements and views read, a matrix written element by element (in a loop, often
/// a recurrence), by compound writes, rows and columns, then read.
pub fn parts_function(rng: &mut Rng, name: String, callees: &[GenFn]) -> GenFn {
    let statements = rng.range(2, 5);
    generate(rng, name, callees, statements, true, true)
}

fn generate(
    rng: &mut Rng,
    name: String,
    callees: &[GenFn],
    statements: usize,
    loops: bool,
    parts: bool,
) -> GenFn {
    let (params, shapes, needs_wrt) = params(rng, loops);
    let ret = if shapes.is_empty() || rng.chance(0.6) {
        Ty::Scalar
    } else {
        *rng.pick(&shapes)
    };
    let body = body::body(
        rng,
        callees,
        &params,
        ret,
        statements,
        body::Mode {
            loops,
            parts,
            generic: false,
        },
    );
    let args = attribute_args(rng, &params, needs_wrt);
    let vis = *rng.pick(&["", "", "pub ", "pub(crate) "]);
    let doc = rng.chance(0.3);
    GenFn {
        name,
        params,
        ret,
        args,
        vis,
        doc,
        body,
        generic: false,
        method: false,
        extra: String::new(),
    }
}

/// One random function generic over its scalar, `fn NAME<T: RealScalar>(…)` (SPEC §11):
/// the language of [`function`] (loops sometimes), every `f64` written `T`, its constants
/// `nalgebra::convert::<f64, T>(0.5)`, `T::one()` and `T::zero()`, casts of constants
/// converted the same way; it calls only generic functions among `callees`.
pub fn generic_function(rng: &mut Rng, name: String, callees: &[GenFn]) -> GenFn {
    let statements = rng.range(2, 5);
    let loops = rng.chance(0.3);
    // No `&[f64]` data: the same tests call it at `f32`.
    let (params, shapes, needs_wrt) = params(rng, false);
    let ret = if shapes.is_empty() || rng.chance(0.6) {
        Ty::Scalar
    } else {
        *rng.pick(&shapes)
    };
    let callees: Vec<GenFn> = callees.iter().filter(|f| f.generic).cloned().collect();
    let body = body::body(
        rng,
        &callees,
        &params,
        ret,
        statements,
        body::Mode {
            loops,
            parts: false,
            generic: true,
        },
    );
    let args = attribute_args(rng, &params, needs_wrt);
    let vis = *rng.pick(&["", "pub ", "pub(crate) "]);
    let doc = rng.chance(0.3);
    GenFn {
        name,
        params,
        ret,
        args,
        vis,
        doc,
        body: to_generic(&body),
        generic: true,
        method: false,
        extra: String::new(),
    }
}

/// One random function whose differentiable parameters are, all or all but one, the fields
/// of a `#[derive(Parameters)]` struct of its own (SPEC §8), taken by reference: scalars and
/// matrices, often a `Vec<DMatrix<f64>>` read by index and `#[parameters(skip)]` fields read
/// as constants (a count, a flag). With `method`, it is a method `fn NAME(&self, …)` in a
/// `#[differentiate] impl` block of its own, reading `self.a`.
pub fn struct_function(rng: &mut Rng, name: String, callees: &[GenFn], method: bool) -> GenFn {
    struct_function_of(rng, name, callees, method, None)
}

/// A function of a `#[derive(Parameters)]` struct as [`struct_function`]; with `shared`, of
/// that struct (its type's name and fields, written by another function), which it may pass
/// whole to the methods of that struct among `callees`.
pub fn struct_function_of(
    rng: &mut Rng,
    name: String,
    callees: &[GenFn],
    method: bool,
    shared: Option<(&str, &[Field])>,
) -> GenFn {
    let statements = rng.range(2, 5);
    let loops = rng.chance(0.3);
    let (params, mut shapes, needs_wrt) = params(rng, false);
    let (mut rest, fields, ty_name) = match shared {
        Some((ty_name, fields)) => {
            for f in fields {
                match f {
                    Field::Leaf { ty, .. } if *ty != Ty::Scalar => shapes.push(*ty),
                    Field::Vec { tys, .. } => shapes.extend(tys.iter().copied()),
                    _ => {}
                }
            }
            (params, fields.to_vec(), ty_name.to_string())
        }
        None => {
            let (rest, fields) = struct_fields(rng, params, &mut shapes);
            (rest, fields, name.to_uppercase())
        }
    };
    let struct_name = if method {
        "self"
    } else if rest.iter().any(|p| p.name() == "p") {
        "sp"
    } else {
        "p"
    };
    let at = if method { 0 } else { rng.below(rest.len() + 1) };
    rest.insert(
        at,
        Param::Struct {
            name: struct_name.into(),
            ty_name: ty_name.clone(),
            fields: fields.clone(),
        },
    );
    let params = rest;
    let ret = if shapes.is_empty() || rng.chance(0.6) {
        Ty::Scalar
    } else {
        *rng.pick(&shapes)
    };
    // Functions of other structs cannot be called: this one has none to pass them.
    let callees: Vec<GenFn> = callees
        .iter()
        .filter(|f| {
            f.struct_param()
                .is_none_or(|(_, ty, _)| f.method && ty == ty_name)
        })
        .cloned()
        .collect();
    let body = body::body(
        rng,
        &callees,
        &params,
        ret,
        statements,
        body::Mode {
            loops,
            parts: false,
            generic: false,
        },
    );
    // `wrt(..)`: the struct and the other differentiable parameters, when a constant needs it.
    let mut args = Vec::new();
    if needs_wrt || rng.chance(0.15) {
        let mut listed: Vec<&str> = params
            .iter()
            .filter(|p| matches!(p, Param::Diff { .. } | Param::Struct { .. }))
            .map(Param::name)
            .collect();
        for i in (1..listed.len()).rev() {
            let j = rng.below(i + 1);
            listed.swap(i, j);
        }
        args.push(format!("wrt({})", listed.join(", ")));
    }
    if rng.chance(0.1) {
        args.push("crate = ::autodiff".into());
    }
    let vis = *rng.pick(&["", "pub ", "pub(crate) "]);
    let doc = rng.chance(0.3);
    let list: Vec<String> = fields
        .iter()
        .map(|f| format!("    {},", f.rust()))
        .collect();
    let extra = match shared {
        Some(_) => String::new(),
        None => format!(
            "/// The parameters of `{name}`.\n#[derive(Parameters, Clone, Debug, PartialEq)]\npub struct {ty_name} {{\n{}\n}}\n",
            list.join("\n")
        ),
    };
    GenFn {
        name,
        params,
        ret,
        args: args.join(", "),
        vis,
        doc,
        body,
        generic: false,
        method,
        extra,
    }
}

/// The fields of a new struct from `params` (its differentiable ones, maybe all but one, and
/// its count and flag), often with a `Vec` of matrices and skipped fields: the parameters
/// left, and the fields.
fn struct_fields(
    rng: &mut Rng,
    mut params: Vec<Param>,
    shapes: &mut Vec<Ty>,
) -> (Vec<Param>, Vec<Field>) {
    // The fields: the differentiable parameters, maybe all but one.
    let diff: Vec<usize> = (0..params.len())
        .filter(|&i| matches!(params[i], Param::Diff { .. }))
        .collect();
    let keep_out = if diff.len() >= 2 && rng.chance(0.3) {
        Some(diff[rng.below(diff.len())])
    } else {
        None
    };
    let mut fields: Vec<Field> = Vec::new();
    let mut rest: Vec<Param> = Vec::new();
    let mut count = None;
    let mut flag = None;
    for (i, p) in params.drain(..).enumerate() {
        match p {
            Param::Diff { name, ty, .. } if Some(i) != keep_out => {
                fields.push(Field::Leaf { name, ty })
            }
            Param::Count { value, .. } => count = Some(value),
            Param::Flag { value, .. } => flag = Some(value),
            p => rest.push(p),
        }
    }
    if rng.chance(0.6) {
        let n = rng.range(2, 3);
        let tys: Vec<Ty> = (0..n)
            .map(|_| {
                match shapes
                    .iter()
                    .find(|t| matches!(t, Ty::Mat(Kind::Dense, ..)))
                {
                    Some(t) if rng.chance(0.4) => *t,
                    _ => Ty::Mat(Kind::Dense, rng.range(1, 3), rng.range(2, 3)),
                }
            })
            .collect();
        shapes.extend(tys.iter().copied());
        let at = rng.below(fields.len() + 1);
        fields.insert(
            at,
            Field::Vec {
                name: "ws".into(),
                tys,
            },
        );
    }
    if count.is_some() || rng.chance(0.5) {
        let value = count.unwrap_or_else(|| rng.range(1, 4));
        fields.push(Field::Count {
            name: "steps".into(),
            value,
        });
    }
    if flag.is_some() || rng.chance(0.3) {
        let value = flag.unwrap_or_else(|| rng.chance(0.5));
        let at = rng.below(fields.len() + 1);
        fields.insert(
            at,
            Field::Flag {
                name: "on".into(),
                value,
            },
        );
    }
    (rest, fields)
}

/// The text of a body written for `f64`, for a function generic over `T`: the type `f64`
/// becomes `T`; a float literal becomes `T::one()`, `T::zero()` or
/// `nalgebra::convert::<f64, T>(x)`; conversions already written are kept as they are.
fn to_generic(body: &str) -> String {
    const CONVERT: &str = "nalgebra::convert::<f64, T>(";
    let chars: Vec<char> = body.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let rest: String = chars[i..chars.len().min(i + CONVERT.len())]
            .iter()
            .collect();
        if rest == CONVERT {
            // Copied through to its closing parenthesis.
            let mut depth = 0;
            while i < chars.len() {
                let c = chars[i];
                out.push(c);
                i += 1;
                if c == '(' {
                    depth += 1;
                } else if c == ')' {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
            }
            continue;
        }
        let c = chars[i];
        if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            out.push_str(if word == "f64" { "T" } else { &word });
        } else if c.is_ascii_digit() {
            let start = i;
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
            let float = i + 1 < chars.len() && chars[i] == '.' && chars[i + 1].is_ascii_digit();
            if !float {
                // An integer, with any suffix.
                while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
                out.extend(&chars[start..i]);
                continue;
            }
            i += 1;
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
            let number: String = chars[start..i].iter().collect();
            if chars[i..].starts_with(&['_', 'f', '6', '4']) {
                i += 4;
            }
            let x: f64 = number.parse().unwrap_or(0.5);
            if x == 1.0 {
                out.push_str("T::one()");
            } else if x == 0.0 {
                out.push_str("T::zero()");
            } else {
                out.push_str(&format!("{CONVERT}{number})"));
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// One to four differentiable parameters, maybe constants, in random order; the matrix
/// types among them, and whether some `f64` or matrix is a constant (so `wrt` is needed).
fn params(rng: &mut Rng, loops: bool) -> (Vec<Param>, Vec<Ty>, bool) {
    let mut params: Vec<Param> = Vec::new();
    let mut names: Vec<&str> = PARAM_NAMES.to_vec();
    let mut take = |rng: &mut Rng| -> String {
        let i = rng.below(names.len());
        names.remove(i).to_string()
    };
    let mut shapes: Vec<Ty> = Vec::new();
    let n_diff = rng.range(1, 4);
    for _ in 0..n_diff {
        let ty = if rng.chance(0.4) {
            Ty::Scalar
        } else if !shapes.is_empty() && rng.chance(0.4) {
            let t: Ty = *rng.pick(&shapes);
            if rng.chance(0.5) {
                t.transposed()
            } else {
                t
            }
        } else {
            let (r, c) = (rng.range(1, 3), rng.range(2, 3));
            match rng.below(7) {
                0 => Ty::Mat(Kind::Col, r + 1, 1),
                1 => Ty::Mat(Kind::Row, 1, c),
                2 | 3 => Ty::Mat(Kind::Static, r, c),
                _ => Ty::Mat(Kind::Dense, r, c),
            }
        };
        if ty != Ty::Scalar {
            shapes.push(ty);
        }
        let by_ref = if ty == Ty::Scalar {
            rng.chance(0.1)
        } else {
            rng.chance(0.7)
        };
        params.push(Param::Diff {
            name: take(rng),
            ty,
            by_ref,
        });
    }
    let mut needs_wrt = false;
    if rng.chance(0.25) {
        params.push(Param::Const {
            name: take(rng),
            ty: Ty::Scalar,
        });
        needs_wrt = true;
    }
    if rng.chance(0.15) {
        let ty = if !shapes.is_empty() && rng.chance(0.5) {
            *rng.pick(&shapes)
        } else {
            Ty::Mat(Kind::Dense, rng.range(1, 3), rng.range(2, 3))
        };
        params.push(Param::Const {
            name: take(rng),
            ty,
        });
        needs_wrt = true;
    }
    if rng.chance(0.3) {
        params.push(Param::Count {
            name: "n".into(),
            value: rng.range(1, 4),
        });
    }
    if rng.chance(0.2) {
        let (rows, cols) = match shapes
            .iter()
            .find(|t| matches!(t, Ty::Mat(Kind::Dense, ..)))
        {
            Some(t) => t.dims(),
            None => (rng.range(1, 3), rng.range(2, 3)),
        };
        params.push(Param::Labels {
            name: "labels".into(),
            rows,
            cols,
        });
    }
    if rng.chance(0.15) {
        params.push(Param::Flag {
            name: "flag".into(),
            value: rng.chance(0.5),
        });
    }
    // Constant collections for loops: `&[f64]` is differentiable by default, so `wrt` is
    // needed; sometimes empty (the loops over it run no iteration), a second one of the same
    // length to `zip` with.
    if loops && rng.chance(0.35) {
        let len = if rng.chance(0.1) { 0 } else { rng.range(1, 5) };
        let xs = (0..len).map(|_| rng.lit(-0.9, 0.9)).collect();
        params.push(Param::Data {
            name: "xs".into(),
            values: xs,
        });
        if rng.chance(0.3) {
            let ys = (0..len).map(|_| rng.lit(-0.9, 0.9)).collect();
            params.push(Param::Data {
                name: "ys".into(),
                values: ys,
            });
        }
        needs_wrt = true;
    }
    // Shuffle, so that constants are not always last.
    for i in (1..params.len()).rev() {
        let j = rng.below(i + 1);
        params.swap(i, j);
    }

    (params, shapes, needs_wrt)
}

/// `wrt(..)` (needed when an `f64` or matrix parameter is a constant, sometimes given
/// anyway, in any order) and sometimes `crate = ::autodiff`.
fn attribute_args(rng: &mut Rng, params: &[Param], needs_wrt: bool) -> String {
    let diff: Vec<String> = params
        .iter()
        .filter_map(|p| match p {
            Param::Diff { name, .. } => Some(name.clone()),
            _ => None,
        })
        .collect();
    let mut args = Vec::new();
    if needs_wrt || rng.chance(0.15) {
        let mut listed = diff.clone();
        for i in (1..listed.len()).rev() {
            let j = rng.below(i + 1);
            listed.swap(i, j);
        }
        args.push(format!("wrt({})", listed.join(", ")));
    }
    if rng.chance(0.1) {
        args.push("crate = ::autodiff".into());
        if rng.chance(0.5) {
            args.reverse();
        }
    }
    args.join(", ")
}

/// `count` functions with loops, each calling functions among `callees` and earlier ones.
pub fn loop_program(seed: u64, count: usize, callees: &[GenFn]) -> Vec<GenFn> {
    let mut rng = Rng::new(seed);
    let mut out: Vec<GenFn> = callees.to_vec();
    for i in 0..count {
        let f = loop_function(&mut rng, format!("l{i:03}"), &out);
        out.push(f);
    }
    out.split_off(callees.len())
}

/// `count` functions reading and building parts of values, each calling functions among
/// `callees` and earlier ones.
pub fn parts_program(seed: u64, count: usize, callees: &[GenFn]) -> Vec<GenFn> {
    let mut rng = Rng::new(seed);
    let mut out: Vec<GenFn> = callees.to_vec();
    for i in 0..count {
        let f = parts_function(&mut rng, format!("p{i:03}"), &out);
        out.push(f);
    }
    out.split_off(callees.len())
}

/// `count` functions generic over their scalar, each calling generic functions among
/// `callees` and earlier ones.
pub fn generic_program(seed: u64, count: usize, callees: &[GenFn]) -> Vec<GenFn> {
    let mut rng = Rng::new(seed);
    let mut out: Vec<GenFn> = callees.to_vec();
    for i in 0..count {
        let f = generic_function(&mut rng, format!("g{i:03}"), &out);
        out.push(f);
    }
    out.split_off(callees.len())
}

/// `count` functions of structured parameters, every third a method, each calling functions
/// among `callees` (their own parameters plain).
pub fn struct_program(seed: u64, count: usize, callees: &[GenFn]) -> Vec<GenFn> {
    let mut rng = Rng::new(seed);
    (0..count)
        .map(|i| struct_function(&mut rng, format!("s{i:03}"), callees, i % 3 == 2))
        .collect()
}

/// `count` pairs: a function with a derivative rule of its own (`vjp = RULE`, SPEC §9),
/// `r000`, whose body is that of a function among `callees` taken at random and whose rule
/// returns that function's derived gradient (the same derivative by another route), then a
/// differentiated function that calls it, `rc000`.
pub fn rule_program(seed: u64, count: usize, callees: &[GenFn]) -> Vec<GenFn> {
    let mut rng = Rng::new(seed);
    let plain: Vec<&GenFn> = callees
        .iter()
        .filter(|f| !f.generic && f.struct_param().is_none() && !f.args.contains("crate"))
        .collect();
    let mut out = Vec::new();
    for i in 0..count {
        let twin = (*rng.pick(&plain)).clone();
        let name = format!("r{i:03}");
        let grad = format!("R{i:03}Grad");
        let rule = format!("{name}_rule");
        let names: Vec<&str> = twin.params.iter().map(Param::name).collect();
        let fields: Vec<String> = twin
            .diff_params()
            .map(|(n, _, _)| format!("{n}: g.{n}"))
            .collect();
        let params: Vec<String> = twin
            .params
            .iter()
            .map(|p| format!("{}: {}", p.name(), p.rust()))
            .collect();
        let ret = twin.ret.rust();
        let extra = format!(
            "/// The derivative of `{name}`: that of `{}`, whose body it has.\nfn {rule}({}, _value: &{ret}, seed: {ret}) -> {grad} {{\n    let (_, g) = {}_vjp({}, seed);\n    {grad} {{ {} }}\n}}\n",
            twin.name,
            params.join(", "),
            twin.name,
            names.join(", "),
            fields.join(", ")
        );
        let mut args = vec![format!("vjp = {rule}")];
        if !twin.args.is_empty() {
            args.push(twin.args.clone());
        }
        if rng.chance(0.5) {
            args.reverse();
        }
        let f = GenFn {
            name: name.clone(),
            args: args.join(", "),
            extra,
            doc: true,
            ..twin
        };
        // The caller: drawn until its body calls the function with the rule.
        let mut caller = None;
        for _ in 0..400 {
            let g = function_with(&mut rng, format!("rc{i:03}"), std::slice::from_ref(&f), 3);
            if g.body.contains(&format!("{name}(")) {
                caller = Some(g);
                break;
            }
        }
        out.push(f);
        out.extend(caller);
    }
    out
}

/// One random function with forward mode (SPEC §10): `jvp`, and `hvp` for a scalar result,
/// a loop in every other one; it calls only functions among `callees`, which have forward
/// mode too.
pub fn forward_function(rng: &mut Rng, name: String, callees: &[GenFn]) -> GenFn {
    let loops = rng.chance(0.5);
    let statements = rng.range(2, 6);
    with_forward_mode(generate(rng, name, callees, statements, loops, false))
}

/// `jvp` (and `hvp` for a scalar result) added to `f`'s attribute.
fn with_forward_mode(mut f: GenFn) -> GenFn {
    let mut args: Vec<&str> = Vec::new();
    if !f.args.is_empty() {
        args.push(&f.args);
    }
    args.push("jvp");
    if f.ret == Ty::Scalar {
        args.push("hvp");
    }
    f.args = args.join(", ");
    f
}

/// A function of a `#[derive(Parameters)]` struct of its own with forward mode (a method of
/// it with `method`).
pub fn forward_struct_function(
    rng: &mut Rng,
    name: String,
    callees: &[GenFn],
    method: bool,
) -> GenFn {
    with_forward_mode(struct_function(rng, name, callees, method))
}

/// `count` functions of a `#[derive(Parameters)]` struct of their own with forward mode
/// (`k000`, …; every other one a method), calling functions among `callees` (which have
/// forward mode); each method followed by a function of the same struct that passes it
/// whole to the method (`kc000`, …; a method or a free function).
pub fn forward_struct_program(seed: u64, count: usize, callees: &[GenFn]) -> Vec<GenFn> {
    let mut rng = Rng::new(seed);
    let mut out = Vec::new();
    for i in 0..count {
        let name = format!("k{i:03}");
        let f = forward_struct_function(&mut rng, name.clone(), callees, i % 2 == 0);
        let mut pool = callees.to_vec();
        pool.push(f.clone());
        let caller = f.method.then(|| {
            let (_, ty, fields) = f.struct_param()?;
            (0..400).find_map(|_| {
                let method = rng.chance(0.5);
                let g = struct_function_of(
                    &mut rng,
                    format!("kc{i:03}"),
                    &pool,
                    method,
                    Some((ty, fields)),
                );
                g.body
                    .contains(&format!("{name}("))
                    .then(|| with_forward_mode(g))
            })
        });
        out.push(f);
        out.extend(caller.flatten());
    }
    out
}

/// `count` functions with forward mode, each calling only earlier ones.
pub fn forward_program(seed: u64, count: usize) -> Vec<GenFn> {
    let mut rng = Rng::new(seed);
    let mut out: Vec<GenFn> = Vec::new();
    for i in 0..count {
        let f = forward_function(&mut rng, format!("j{i:03}"), &out);
        out.push(f);
    }
    out
}

/// `count` functions, each calling only earlier ones.
pub fn program(seed: u64, count: usize) -> Vec<GenFn> {
    let mut rng = Rng::new(seed);
    let mut out: Vec<GenFn> = Vec::new();
    for i in 0..count {
        let f = function(&mut rng, format!("f{i:03}"), &out);
        out.push(f);
    }
    out
}
