//! Tracefs `format` files: where each field of an event record lives, and the symbol tables of its
//! `print fmt`.
//!
//! Layouts change between kernel versions (`tcp:tcp_send_reset` gained a `reason` and switched to
//! `sockaddr` addresses in Linux 6.10; the reason numbers of `include/net/rstreason.h` were renumbered
//! since), so nothing is hard-coded: every offset and every reason name comes from the running
//! kernel's own description (`kernel/trace/trace_events.c`, `f_show`).

/// One `field:` line: `field:__u16 sport;<TAB>offset:24;<TAB>size:2;<TAB>signed:0;`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    pub name: String,
    pub offset: usize,
    pub size: usize,
    pub signed: bool,
}

impl Field {
    /// The field's bytes within one record, if the record is long enough.
    #[must_use]
    pub fn bytes<'a>(&self, record: &'a [u8]) -> Option<&'a [u8]> {
        record.get(self.offset..self.offset.checked_add(self.size)?)
    }

    /// An integer field of 1, 2, 4 or 8 bytes, in the host's byte order (the ring buffer is written by
    /// this CPU), sign-extended when the format says it is signed.
    #[must_use]
    pub fn int(&self, record: &[u8]) -> Option<i64> {
        let b = self.bytes(record)?;
        Some(match (b.len(), self.signed) {
            (1, false) => i64::from(b[0]),
            (1, true) => i64::from(b[0] as i8),
            (2, false) => i64::from(u16::from_ne_bytes([b[0], b[1]])),
            (2, true) => i64::from(i16::from_ne_bytes([b[0], b[1]])),
            (4, false) => i64::from(u32::from_ne_bytes(b.try_into().ok()?)),
            (4, true) => i64::from(i32::from_ne_bytes(b.try_into().ok()?)),
            (8, _) => i64::from_ne_bytes(b.try_into().ok()?),
            _ => return None,
        })
    }
}

/// A key of a `__print_symbolic` table: a number, or a name the format file leaves unresolved
/// (`{ TCP_ESTABLISHED, "TCP_ESTABLISHED" }` in the TCP state tables).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SymbolKey {
    Number(i64),
    Name(String),
}

/// The symbol table of one field: `__print_symbolic(REC->reason, { 0, "NOT_SPECIFIED" }, ...)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SymbolTable {
    pub field: String,
    pub entries: Vec<(SymbolKey, String)>,
}

impl SymbolTable {
    /// The name printed for a numeric value, when the table gives one by number.
    #[must_use]
    pub fn name_of(&self, value: i64) -> Option<&str> {
        self.entries
            .iter()
            .find(|(k, _)| *k == SymbolKey::Number(value))
            .map(|(_, name)| name.as_str())
    }
}

/// One event's `format` file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventFormat {
    pub name: String,
    /// The `common_type` value that marks this event's records.
    pub id: u16,
    pub fields: Vec<Field>,
    pub symbols: Vec<SymbolTable>,
}

impl EventFormat {
    #[must_use]
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    #[must_use]
    pub fn symbols(&self, field: &str) -> Option<&SymbolTable> {
        self.symbols.iter().find(|t| t.field == field)
    }
}

/// Parses a `format` file; `None` when it has no name, no ID or a field line that does not parse.
#[must_use]
pub fn parse(text: &str) -> Option<EventFormat> {
    let mut name = None;
    let mut id = None;
    let mut fields = Vec::new();
    let mut symbols = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if let Some(v) = line.strip_prefix("name:") {
            name = Some(v.trim().to_string());
        } else if let Some(v) = line.strip_prefix("ID:") {
            id = v.trim().parse().ok();
        } else if line.starts_with("field:") {
            fields.push(parse_field(line)?);
        } else if let Some(v) = line.strip_prefix("print fmt:") {
            symbols = parse_symbolic(v);
        }
    }
    Some(EventFormat {
        name: name?,
        id: id?,
        fields,
        symbols,
    })
}

/// The `field:` lines alone (the `events/header_page` file has no name or ID).
#[must_use]
pub fn parse_fields(text: &str) -> Vec<Field> {
    text.lines()
        .map(str::trim)
        .filter(|l| l.starts_with("field:"))
        .filter_map(parse_field)
        .collect()
}

/// `field:const void * skaddr;<TAB>offset:8;<TAB>size:8;<TAB>signed:0;` and `field:__u8 saddr[4];...`.
fn parse_field(line: &str) -> Option<Field> {
    let mut decl = None;
    let (mut offset, mut size, mut signed) = (None, None, false);
    for part in line.split(';').map(str::trim) {
        if let Some(d) = part.strip_prefix("field:") {
            decl = Some(d.trim());
        } else if let Some(v) = part.strip_prefix("offset:") {
            offset = v.trim().parse().ok();
        } else if let Some(v) = part.strip_prefix("size:") {
            size = v.trim().parse().ok();
        } else if let Some(v) = part.strip_prefix("signed:") {
            signed = v.trim() == "1";
        }
    }
    // The name is the declaration's last word, without an array suffix: `__u8 saddr[28]` → `saddr`.
    let last = decl?.rsplit([' ', '*']).next()?;
    let name = last.split('[').next()?.to_string();
    if name.is_empty() {
        return None;
    }
    Some(Field {
        name,
        offset: offset?,
        size: size?,
        signed,
    })
}

/// Every `__print_symbolic(REC->field, { key, "name" }, ...)` in a `print fmt` line.
fn parse_symbolic(fmt: &str) -> Vec<SymbolTable> {
    const CALL: &str = "__print_symbolic(";
    let mut tables = Vec::new();
    let mut rest = fmt;
    while let Some(at) = rest.find(CALL) {
        rest = &rest[at + CALL.len()..];
        let Some(comma) = rest.find(',') else { break };
        let field = rest[..comma]
            .trim()
            .trim_start_matches("REC->")
            .trim()
            .to_string();
        rest = &rest[comma + 1..];
        let (entries, after) = parse_entries(rest);
        rest = after;
        tables.push(SymbolTable { field, entries });
    }
    tables
}

/// `{ 0, "NOT_SPECIFIED" }, { 1, "NO_SOCKET" })` up to the closing parenthesis; returns the entries
/// and the text after them. Malformed entries end the table early rather than failing the event.
fn parse_entries(mut rest: &str) -> (Vec<(SymbolKey, String)>, &str) {
    let mut entries = Vec::new();
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == ',');
        let Some(body) = rest.strip_prefix('{') else {
            return (entries, rest);
        };
        let Some(comma) = body.find(',') else {
            return (entries, body);
        };
        let key = body[..comma].trim();
        let after_key = body[comma + 1..].trim_start();
        let Some(quoted) = after_key.strip_prefix('"') else {
            return (entries, after_key);
        };
        let Some(end) = quoted.find('"') else {
            return (entries, quoted);
        };
        let name = quoted[..end].to_string();
        let Some(close) = quoted[end..].find('}') else {
            return (entries, &quoted[end..]);
        };
        rest = &quoted[end + close + 1..];
        entries.push((parse_key(key), name));
    }
}

fn parse_key(key: &str) -> SymbolKey {
    let number = if let Some(hex) = key.strip_prefix("0x") {
        i64::from_str_radix(hex, 16).ok()
    } else {
        key.parse().ok()
    };
    number.map_or_else(|| SymbolKey::Name(key.to_string()), SymbolKey::Number)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SET_STATE: &str = include_str!("testdata/inet_sock_set_state.6.18.format");
    const SEND_RESET: &str = include_str!("testdata/tcp_send_reset.6.18.format");
    const SEND_RESET_OLD: &str = include_str!("testdata/tcp_send_reset.pre-6.10.format");
    const RECEIVE_RESET: &str = include_str!("testdata/tcp_receive_reset.6.18.format");
    const RETRANSMIT: &str = include_str!("testdata/tcp_retransmit_skb.6.18.format");

    #[test]
    fn set_state_fields_and_tables() {
        let f = parse(SET_STATE).unwrap();
        assert_eq!(f.name, "inet_sock_set_state");
        assert_eq!(f.id, 2287);
        let sport = f.field("sport").unwrap();
        assert_eq!((sport.offset, sport.size, sport.signed), (24, 2, false));
        let old = f.field("oldstate").unwrap();
        assert_eq!((old.offset, old.size, old.signed), (16, 4, true));
        let v6 = f.field("saddr_v6").unwrap();
        assert_eq!((v6.offset, v6.size), (40, 16));
        assert_eq!(f.field("skaddr").unwrap().offset, 8);
        let states = f.symbols("oldstate").unwrap();
        assert_eq!(states.name_of(6), Some("TCP_TIME_WAIT"));
        assert_eq!(states.name_of(12), Some("TCP_NEW_SYN_RECV"));
        assert_eq!(f.symbols("protocol").unwrap().name_of(6), Some("IPPROTO_TCP"));
    }

    #[test]
    fn send_reset_reason_table_is_read_not_assumed() {
        let f = parse(SEND_RESET).unwrap();
        let reason = f.field("reason").unwrap();
        assert_eq!((reason.offset, reason.size), (28, 4));
        assert_eq!(f.field("saddr").unwrap().size, 28);
        let reasons = f.symbols("reason").unwrap();
        assert_eq!(reasons.name_of(1), Some("NO_SOCKET"));
        assert_eq!(reasons.name_of(11), Some("TCP_ABORT_ON_CLOSE"));
        assert_eq!(reasons.name_of(14), Some("TCP_STATE"));
        // The state table names its keys instead of numbering them.
        let states = f.symbols("state").unwrap();
        assert_eq!(
            states.entries[0],
            (
                SymbolKey::Name("TCP_ESTABLISHED".into()),
                "TCP_ESTABLISHED".into()
            )
        );
        assert_eq!(states.name_of(1), None);
    }

    #[test]
    fn older_send_reset_has_no_reason() {
        let f = parse(SEND_RESET_OLD).unwrap();
        assert!(f.field("reason").is_none());
        assert!(f.symbols("reason").is_none());
        assert_eq!(f.field("saddr").unwrap().size, 4);
        assert_eq!(f.field("dport").unwrap().offset, 30);
    }

    #[test]
    fn receive_reset_and_retransmit() {
        let f = parse(RECEIVE_RESET).unwrap();
        assert_eq!(f.field("sock_cookie").unwrap().offset, 64);
        assert_eq!(f.symbols("family").unwrap().name_of(10), Some("AF_INET6"));
        let f = parse(RETRANSMIT).unwrap();
        let err = f.field("err").unwrap();
        assert_eq!((err.offset, err.signed), (76, true));
    }

    #[test]
    fn header_page() {
        let fields = parse_fields(include_str!("testdata/header_page.6.18"));
        let names: Vec<_> = fields
            .iter()
            .map(|f| (f.name.as_str(), f.offset, f.size))
            .collect();
        assert_eq!(
            names,
            [
                ("timestamp", 0, 8),
                ("commit", 8, 8),
                ("overwrite", 8, 1),
                ("data", 16, 4080)
            ]
        );
    }

    #[test]
    fn reads_integers_by_size_and_sign() {
        let f = |size, signed| Field {
            name: "x".into(),
            offset: 1,
            size,
            signed,
        };
        let rec = [0u8, 0xff, 0xff, 0xff, 0xff];
        assert_eq!(f(1, true).int(&rec), Some(-1));
        assert_eq!(f(2, false).int(&rec), Some(0xffff));
        assert_eq!(f(4, true).int(&rec), Some(-1));
        assert_eq!(f(8, false).int(&rec), None);
        assert_eq!(f(3, false).int(&rec), None);
    }

    #[test]
    fn garbage_does_not_parse_or_panic() {
        assert_eq!(parse(""), None);
        assert_eq!(parse("name: x\nID: 1\n\tfield:int;\toffset:x;"), None);
        let f =
            parse("name: x\nID: 1\nprint fmt: \"%s\", __print_symbolic(REC->a, { 1, \"A\" }, { 2").unwrap();
        assert_eq!(f.symbols("a").unwrap().entries.len(), 1);
        let f = parse("name: x\nID: 1\nprint fmt: __print_symbolic(").unwrap();
        assert!(f.symbols.is_empty());
    }
}
