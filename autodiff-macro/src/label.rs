//! The text of an expression as a picture labels it (`w0 * x0`, `(-(..)).exp()`): its tokens
//! printed with the spacing a person writes, since a span's own source text is not at hand
//! for a whole expression on a stable compiler.

use proc_macro2::{Delimiter, Spacing, TokenStream, TokenTree};
use quote::ToTokens;

/// What the last printed token was, which decides the space before the next.
#[derive(Clone, Copy, PartialEq)]
enum Last {
    /// Nothing yet, an opening delimiter or a comma: no space before a word.
    Start,
    /// An identifier, a literal or a closed group.
    Word,
    /// A binary operator, printed with a space after it.
    Binary,
    /// A prefix (`-`, `&`, `!`, `*`) or a path or field separator (`.`, `::`).
    Prefix,
}

/// The code's text on one line.
pub fn text(code: &impl ToTokens) -> String {
    let mut out = String::new();
    print(code.to_token_stream(), &mut out);
    out
}

fn print(tokens: TokenStream, out: &mut String) {
    let mut last = Last::Start;
    let mut operator = String::new();
    // Between a closure's two bars (`|s| s.tanh()`), the second bar closes the parameters.
    let mut closure_parameters = false;
    for token in tokens {
        if let TokenTree::Punct(p) = &token {
            operator.push(p.as_char());
            if p.spacing() == Spacing::Joint {
                continue;
            }
            let op = std::mem::take(&mut operator);
            if op == "|" && closure_parameters {
                out.push_str("| ");
                (closure_parameters, last) = (false, Last::Start);
                continue;
            }
            closure_parameters = op == "|" && last != Last::Word;
            last = punct(&op, last, out);
            continue;
        }
        if last == Last::Word {
            if let TokenTree::Group(g) = &token {
                // A call's or an index's parentheses follow their callee directly.
                if g.delimiter() == Delimiter::Brace {
                    out.push(' ');
                }
            } else {
                out.push(' ');
            }
        }
        match token {
            TokenTree::Group(g) => {
                let (open, close) = match g.delimiter() {
                    Delimiter::Parenthesis => ("(", ")"),
                    Delimiter::Bracket => ("[", "]"),
                    Delimiter::Brace => ("{ ", " }"),
                    Delimiter::None => ("", ""),
                };
                out.push_str(open);
                print(g.stream(), out);
                out.push_str(close);
            }
            other => out.push_str(&other.to_string()),
        }
        last = Last::Word;
    }
}

/// Prints an operator of one or more characters after `last`, and says what it was.
fn punct(op: &str, last: Last, out: &mut String) -> Last {
    match op {
        "." | "::" | ".." => {
            out.push_str(op);
            Last::Prefix
        }
        "," | ";" => {
            out.push_str(op);
            out.push(' ');
            Last::Start
        }
        "-" | "&" | "!" | "*" | "|" | "&&" | "||" if last != Last::Word => {
            out.push_str(op);
            Last::Prefix
        }
        _ => {
            if !out.ends_with(' ') && !out.is_empty() {
                out.push(' ');
            }
            out.push_str(op);
            out.push(' ');
            Last::Binary
        }
    }
}

#[cfg(test)]
mod tests {
    use super::text;

    fn of(code: &str) -> String {
        text(&syn::parse_str::<syn::Expr>(code).unwrap())
    }

    #[test]
    fn expressions_read_as_written() {
        assert_eq!(of("x+y"), "x + y");
        assert_eq!(of("w0 * x0 + w1*x1 + w2"), "w0 * x0 + w1 * x1 + w2");
        assert_eq!(of("(-(w0 * x0 + w2)).exp()"), "(-(w0 * x0 + w2)).exp()");
        assert_eq!(of("1.0 / (1.0 + e)"), "1.0 / (1.0 + e)");
        assert_eq!(of("relu(&x * w1)"), "relu(&x * w1)");
        assert_eq!(of("m[(i, j)] * v[i]"), "m[(i, j)] * v[i]");
        assert_eq!(of("a.dot(&b) - c"), "a.dot(&b) - c");
        assert_eq!(of("x.powi(2) * -y"), "x.powi(2) * -y");
        assert_eq!(of("(x * w).map(|s| s.tanh())"), "(x * w).map(|s| s.tanh())");
        assert_eq!(of("a | b"), "a | b");
        assert_eq!(of("v[0] += x*y"), "v[0] += x * y");
    }
}
