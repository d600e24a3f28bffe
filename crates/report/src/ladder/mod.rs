//! The ladder diagram of one connection: one column per endpoint, one arrow per segment with its flags,
//! sequence and acknowledgement numbers, payload length and both sides' states after it, long data
//! phases folded, and how the connection ended as a caption.
//!
//! One [`Layout`] (what each row says, from the record's [`lifecycle::Steps`]), drawn by renderers:
//! [`text`] for a terminal, [`svg`] for a browser (`--svg`, and the HTML report's ladders); both say
//! it in the same [`words`].

pub mod layout;
pub mod svg;
pub mod text;
pub mod words;

pub use layout::{Arrow, Caption, Folded, Layout, Number, Row};
pub use svg::SvgOptions;
pub use text::TextOptions;

#[cfg(test)]
mod tests;
