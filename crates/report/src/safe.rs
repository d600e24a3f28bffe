//! Output safety: text from the outside (file names, process names, anything a capture carries) must
//! not put control characters on an operator's terminal.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Escapes control characters (C0, DEL, C1) as `\xNN` / `\u{NN}`; other text is returned unchanged.
#[must_use]
pub fn terminal(s: &str) -> Cow<'_, str> {
    if !s.chars().any(char::is_control) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if c.is_control() {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_escape_sequences() {
        assert_eq!(terminal("a\x1b[2Jb"), "a\\u{1b}[2Jb");
        assert_eq!(terminal("tab\there"), "tab\\u{9}here");
        assert_eq!(terminal("\u{9b}x"), "\\u{9b}x");
        assert!(matches!(terminal("plain name"), Cow::Borrowed(_)));
    }
}
