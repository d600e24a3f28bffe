//! host (under construction)
