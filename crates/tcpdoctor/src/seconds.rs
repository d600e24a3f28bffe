//! The one parser of every flag that takes seconds (`--watch`, `--duration`, `--time-wait`,
//! `--idle-timeout`, ...), so that each rejects the same values the same way: as a usage error, before
//! the command does anything.
//!
//! `f64` parsing accepts `inf`, `nan`, `-1` and `1e20`, and `Duration::from_secs_f64` panics on most of
//! them: every value is checked here, once, and the commands receive a `Duration` that is safe to add to
//! a clock. Each such flag also sets `allow_negative_numbers`, so that `--watch -1` reaches the parser
//! and is told why, rather than taken for an unknown option.

use std::time::Duration;

/// Ten years: longer than any capture, refresh interval or TCP timer anyone means, so a bigger value is
/// a typo; yet far below where the arithmetic on accepted values could overflow (nanosecond timestamps
/// in a `u64` last 584 years, `Instant` even longer).
pub const MAX: Duration = Duration::from_secs(10 * 365 * 24 * 3600);

/// A clap `value_parser`: a decimal number of seconds (`60`, `0.5`, `1e3`), at least 0 and at most
/// [`MAX`]. The message completes clap's "invalid value 'X' for '--flag `<SECS>`': ".
pub fn parse(s: &str) -> Result<Duration, String> {
    let Ok(v) = s.parse::<f64>() else {
        return Err("not a number of seconds".into());
    };
    if v.is_nan() {
        return Err("not a number of seconds".into());
    }
    if v < 0.0 {
        return Err("a number of seconds cannot be negative".into());
    }
    Duration::try_from_secs_f64(v)
        .ok()
        .filter(|d| *d <= MAX)
        .ok_or_else(|| format!("more than {} seconds (10 years)", MAX.as_secs()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_seconds_and_fractions() {
        assert_eq!(parse("60"), Ok(Duration::from_secs(60)));
        assert_eq!(parse("0.25"), Ok(Duration::from_millis(250)));
        assert_eq!(parse("1e3"), Ok(Duration::from_secs(1000)));
        assert_eq!(parse("0"), Ok(Duration::ZERO));
        assert_eq!(parse("-0"), Ok(Duration::ZERO));
        assert_eq!(parse("315360000"), Ok(MAX));
    }

    #[test]
    fn rejects_what_is_no_duration() {
        for bad in [
            "inf",
            "-inf",
            "infinity",
            "nan",
            "-1",
            "-0.001",
            "1e20",
            "99999999999999999999",
            "315360000.5",
            "",
            " 5",
            "abc",
            "5s",
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }
}
