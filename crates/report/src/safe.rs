//! Output safety: text from the outside (file names, process names, anything a capture carries) must
//! not put control characters on an operator's terminal.

use serde::Serialize;
use std::borrow::Cow;
use std::fmt::Write as _;
use std::io;

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

/// Escapes text for HTML and XML (SVG), in content and in quoted attributes alike: `&`, `<`, `>`,
/// `"` and `'` become references, and control characters, which XML 1.0 forbids (§2.2) and a
/// terminal would obey, are written as `\u{NN}` as [`terminal`] writes them.
#[must_use]
pub fn markup(s: &str) -> Cow<'_, str> {
    let special = |c: char| matches!(c, '&' | '<' | '>' | '"' | '\'') || c.is_control();
    if !s.chars().any(special) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// JSON to embed in an HTML `<script>` element: `<`, `>` and `&` are written as `\u003c`-style
/// escapes (they only occur inside JSON strings, where the escape means the same character), so no
/// string can close the element (`</script>`) or open a comment (`<!--`) whatever it holds.
pub fn script_json(value: &impl Serialize) -> io::Result<String> {
    let mut buf = Vec::new();
    write_json(&mut buf, value)?;
    let text = String::from_utf8(buf).map_err(io::Error::other)?;
    Ok(text
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026"))
}

/// A `serde_json` formatter that escapes every control character, not only those JSON requires.
///
/// JSON must escape C0 (U+0000 to U+001F), and `serde_json` does; it writes DEL (U+007F) and the C1
/// controls (U+0080 to U+009F, among them CSI, U+009B, which some terminals obey in UTF-8) as they are.
/// Output piped to a terminal or a pager (`tcpdoctor status --json`, `jq -c`) must not carry them either,
/// so they are written as `\u00XX` too: the same string for any JSON parser.
#[derive(Clone, Copy, Debug, Default)]
pub struct JsonFormatter;

impl serde_json::ser::Formatter for JsonFormatter {
    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        // DEL is 0x7f; every C1 control is 0xc2 followed by 0x80..=0x9f in UTF-8.
        if !fragment.bytes().any(|b| b == 0x7f || b == 0xc2) {
            return writer.write_all(fragment.as_bytes());
        }
        let mut rest = fragment;
        while let Some((i, c)) = rest.char_indices().find(|(_, c)| c.is_control()) {
            writer.write_all(&rest.as_bytes()[..i])?;
            write!(writer, "\\u{:04x}", u32::from(c))?;
            rest = &rest[i + c.len_utf8()..];
        }
        writer.write_all(rest.as_bytes())
    }
}

/// Writes `value` as compact JSON with every control character escaped ([`JsonFormatter`]).
pub fn write_json<W: io::Write, T: ?Sized + Serialize>(writer: W, value: &T) -> io::Result<()> {
    let mut ser = serde_json::Serializer::with_formatter(writer, JsonFormatter);
    value.serialize(&mut ser).map_err(io::Error::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_escapes_every_control_character() {
        let name = "e\x1b[2J\x07\x7f\u{9b}31m\u{a0}é";
        let mut out = Vec::new();
        write_json(&mut out, &serde_json::json!({ "comm": name })).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text, "{\"comm\":\"e\\u001b[2J\\u0007\\u007f\\u009b31m\u{a0}é\"}");
        assert!(!text.chars().any(char::is_control), "{text:?}");
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back["comm"], name);
    }

    #[test]
    fn escapes_escape_sequences() {
        assert_eq!(terminal("a\x1b[2Jb"), "a\\u{1b}[2Jb");
        assert_eq!(terminal("tab\there"), "tab\\u{9}here");
        assert_eq!(terminal("\u{9b}x"), "\\u{9b}x");
        assert!(matches!(terminal("plain name"), Cow::Borrowed(_)));
    }

    #[test]
    fn markup_escapes_what_html_and_xml_give_meaning_to() {
        assert_eq!(markup("a.pcap"), "a.pcap");
        assert_eq!(
            markup("<script>alert('x\\\")</script>&\x1b"),
            "&lt;script&gt;alert(&#39;x\\&quot;)&lt;/script&gt;&amp;\\u{1b}"
        );
    }

    #[test]
    fn script_json_cannot_close_its_element() {
        let text = script_json(&["</script><!--&"]).unwrap();
        assert_eq!(text, r#"["\u003c/script\u003e\u003c!--\u0026"]"#);
        let back: Vec<String> = serde_json::from_str(&text).unwrap();
        assert_eq!(back, ["</script><!--&"]);
    }
}
