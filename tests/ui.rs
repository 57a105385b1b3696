//! Compile-fail tests: every misuse of `#[differentiate]` is rejected with a message that
//! points at the user's code, names the construct and says what to write instead. One misuse
//! per file in `tests/ui/`; each `.stderr` is the reviewed output of rustc.
//!
//! Regenerate after a deliberate change with `TRYBUILD=overwrite cargo test --test ui`, then
//! read every changed `.stderr` as a user would.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
