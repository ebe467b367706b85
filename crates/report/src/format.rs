//! Stable text for numbers and Markdown: fixed significant digits, "∞" for unbounded values, escaped table cells.

/// Significant digits of every float in a report.
pub const SIGNIFICANT_DIGITS: usize = 4;

/// Magnitude from which a value stands for "unbounded": the lemmas crate clamps ratios with a zero
/// denominator to ±1e300 so that they serialise.
pub const HUGE: f64 = 1e300;

/// A float with [`SIGNIFICANT_DIGITS`] significant digits: plain decimals for 1e-3 ≤ |x| < 1e6
/// ("0.8333", "21020", "1"), scientific otherwise ("3.443e-4", "1.2e7"); trailing zeros dropped.
/// NaN prints "—", ±∞ prints "∞" / "−∞", |x| ≥ 1e300 prints "≥ 1e300" / "≤ −1e300".
pub fn number(x: f64) -> String {
    number_with_digits(x, SIGNIFICANT_DIGITS)
}

/// An interval with optional ends in one notation: `both(a, b)` (of the numbers' text) with both
/// ends, "≥ a" with only the lower one, `below` b with only the upper one, `unbounded` with none.
pub(crate) fn interval_in(
    i: &lemmas::result::Interval,
    both: impl FnOnce(String, String) -> String,
    below: &str,
    unbounded: &str,
) -> String {
    match (i.lower, i.upper) {
        (Some(a), Some(b)) => both(number(a), number(b)),
        (Some(a), None) => format!("≥ {}", number(a)),
        (None, Some(b)) => format!("{below} {}", number(b)),
        (None, None) => unbounded.to_string(),
    }
}

/// [`number`] with `digits` significant digits (at least 1).
pub fn number_with_digits(x: f64, digits: usize) -> String {
    let digits = digits.max(1);
    if x.is_nan() {
        return "—".into();
    }
    if x == f64::INFINITY {
        return "∞".into();
    }
    if x == f64::NEG_INFINITY {
        return "−∞".into();
    }
    if x >= HUGE {
        return "≥ 1e300".into();
    }
    if x <= -HUGE {
        return "≤ −1e300".into();
    }
    if x == 0.0 {
        return "0".into();
    }
    // Round once, in scientific notation, so that the exponent is that of the rounded value.
    let sci = format!("{:.*e}", digits - 1, x);
    // x is finite and non-zero here (NaN, ±∞, 0 and |x| ≥ 1e300 returned above), so {:e} prints
    // <mantissa>e<integer exponent>.
    let (mantissa, exponent) = sci.split_once('e').expect("Rust's {:e} always has an exponent");
    let exponent: i32 = exponent.parse().expect("integer exponent");
    if (-3..6).contains(&exponent) {
        // sci is the {:e} rendering of a finite f64, which parses back.
        let rounded: f64 = sci.parse().expect("a formatted float parses");
        let decimals = (digits as i32 - 1 - exponent).max(0) as usize;
        trim_zeros(&format!("{rounded:.decimals$}"))
    } else {
        format!("{}e{exponent}", trim_zeros(mantissa))
    }
}

/// Drops trailing zeros after a decimal point, and the point itself if nothing follows it.
fn trim_zeros(s: &str) -> String {
    if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_string() } else { s.to_string() }
}

/// A width (a count of neurons) the proof needs: rounded up to an integer below 1e9, since the
/// premise is m ≥ width; [`number`] above (and for non-finite values).
pub fn width(x: f64) -> String {
    if x.is_finite() && x > 0.0 && x < 1e9 { format!("{}", x.ceil() as u64) } else { number(x) }
}

/// 10^`log10` as "3.2·10⁴⁰⁵" (two significant digits, superscript exponent): for widths beyond
/// f64, computed in log form. Not finite prints "unbounded".
pub fn power_of_ten(log10: f64) -> String {
    if !log10.is_finite() {
        return if log10 < 0.0 { "0".into() } else { "unbounded".into() };
    }
    let mut exponent = log10.floor();
    let mut mantissa = 10f64.powf(log10 - exponent);
    if format!("{mantissa:.1}") == "10.0" {
        mantissa = 1.0;
        exponent += 1.0;
    }
    let sup: String = format!("{}", exponent as i64)
        .chars()
        .map(|c| match c {
            '-' => '⁻',
            // The chars of an i64's Display are '-' (matched) and decimal digits.
            d => ['⁰', '¹', '²', '³', '⁴', '⁵', '⁶', '⁷', '⁸', '⁹'][d.to_digit(10).expect("a digit") as usize],
        })
        .collect();
    format!("{mantissa:.1}·10{sup}")
}

/// A proof width: [`width`] of the exact value, or [`power_of_ten`] of its log10 beyond f64.
pub fn proof_width(p: &lemmas::result::ProofWidth) -> String {
    match p.log10_width {
        Some(l) => power_of_ten(l),
        None => width(p.width),
    }
}

/// "yes" or "no".
pub fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

/// A cell of a Markdown table: `|` escaped as `\|`, line breaks as `<br>`.
pub fn escape_cell(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '|' => out.push_str("\\|"),
            '\r' => {
                if chars.peek() != Some(&'\n') {
                    out.push_str("<br>");
                }
            }
            '\n' => out.push_str("<br>"),
            other => out.push(other),
        }
    }
    out
}

/// Inline code: wrapped in enough backticks that none inside closes it.
pub fn code_span(s: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in s.chars() {
        if c == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    let fence = "`".repeat(longest + 1);
    let pad = if s.starts_with('`') || s.ends_with('`') { " " } else { "" };
    format!("{fence}{pad}{s}{pad}{fence}")
}

/// [`markdown_table`] with one row per item of `items`, its cells made by `row`.
pub(crate) fn table_of<T>(
    header: &[&str],
    items: impl IntoIterator<Item = T>,
    row: impl FnMut(T) -> Vec<String>,
) -> String {
    let rows: Vec<Vec<String>> = items.into_iter().map(row).collect();
    markdown_table(header, &rows)
}

/// A GitHub-flavoured Markdown table with every cell escaped by [`escape_cell`]. Short rows are
/// padded with empty cells; a row longer than the header is a caller's bug and panics.
pub fn markdown_table(header: &[&str], rows: &[Vec<String>]) -> String {
    assert!(!header.is_empty(), "markdown_table: a table needs at least one column");
    let mut out = String::new();
    let line = |cells: &mut dyn Iterator<Item = String>| {
        let mut s = String::from("|");
        for c in cells {
            s.push(' ');
            s.push_str(&c);
            s.push_str(" |");
        }
        s.push('\n');
        s
    };
    out.push_str(&line(&mut header.iter().map(|h| escape_cell(h))));
    out.push_str(&line(&mut header.iter().map(|_| "---".to_string())));
    for (i, row) in rows.iter().enumerate() {
        assert!(
            row.len() <= header.len(),
            "markdown_table: row {i} has {} cells for {} columns",
            row.len(),
            header.len()
        );
        let mut cells = row.iter().map(|c| escape_cell(c)).chain(std::iter::repeat(String::new())).take(header.len());
        out.push_str(&line(&mut cells));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Widths beyond f64 print from their log10 ("3.2·10⁴⁰⁵"); the mantissa's rounding carries
    /// into the exponent; a claim prepared at δ = 1e-300 renders its Thm 2.1 width that way
    /// (before log-form widths it rendered "≥ 1e300" and "unbounded").
    #[test]
    fn widths_beyond_f64_print_as_powers_of_ten() {
        assert_eq!(power_of_ten(405.0 + 0.5051499783), "3.2·10⁴⁰⁵");
        assert_eq!(power_of_ten(2.99999), "1.0·10³");
        assert_eq!(power_of_ten(-3.5), "3.2·10⁻⁴");
        assert_eq!(power_of_ten(f64::INFINITY), "unbounded");
        let mut cfg = lemmas::Profile::Tiny.config(lemmas::ClaimId::Thm21);
        cfg.delta = 1e-300;
        let prep = lemmas::ClaimId::Thm21.claim().prepare(&cfg).unwrap();
        let p = &prep.proof_widths()[0];
        let text = proof_width(p);
        assert!(text.contains("·10⁹"), "{text}");
        assert_eq!(text, power_of_ten(p.log10()));
    }

    #[test]
    fn numbers_have_four_significant_digits() {
        let cases = [
            (0.0, "0"),
            (1.0, "1"),
            (0.833333, "0.8333"),
            (0.7353516, "0.7354"),
            (21021.1, "21020"),
            (397061.0, "397100"),
            (1.234567e7, "1.235e7"),
            (3.4426e-4, "3.443e-4"),
            (0.00123456, "0.001235"),
            (9.99996, "10"),
            (-2.5, "-2.5"),
            (1e300, "≥ 1e300"),
            (-1e300, "≤ −1e300"),
            (f64::INFINITY, "∞"),
            (f64::NAN, "—"),
        ];
        for (x, want) in cases {
            assert_eq!(number(x), want, "x = {x}");
        }
        assert_eq!(width(21021.1), "21022");
        assert_eq!(width(400.0), "400");
        assert_eq!(width(3.2e12), "3.2e12");
    }

    #[test]
    fn cells_and_code_spans_are_escaped() {
        assert_eq!(escape_cell("|a|\nb"), "\\|a\\|<br>b");
        assert_eq!(code_span("a`b"), "``a`b``");
        assert_eq!(code_span("plain"), "`plain`");
        let t = markdown_table(&["x", "y|z"], &[vec!["1".into()], vec!["a|b".into(), "c".into()]]);
        assert_eq!(t, "| x | y\\|z |\n| --- | --- |\n| 1 |  |\n| a\\|b | c |\n");
    }
}
