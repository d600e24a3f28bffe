//! packet (under construction)
