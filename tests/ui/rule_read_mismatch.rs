// A pullback called with a read its rule does not take, the way the reverse sweep would
// call it if the macro's table of operations disagreed with the runtime: each read is
// wrapped in what it is, so the disagreement is a type error, not a wrong gradient.
use autodiff::__private::rules;

fn main() {
    let x = 0.5_f64;
    // `tan` reads its result (`1 + y²`), not its operand.
    let (y, h) = rules::tan(&x);
    let mut d_x = None;
    h.arg(&mut d_x, rules::Seed::Owned(1.0), rules::Operand::<0, _>(&x));
    let _ = y;

    // The pullback of `a * b` to `a` reads `b` (operand 1), not `a`.
    let (a, b) = (2.0_f64, 3.0_f64);
    let (_, h) = rules::mul(&a, &b);
    let mut d_a = None;
    h.lhs(&mut d_a, rules::Seed::Owned(1.0), rules::Operand::<0, _>(&a));
}
