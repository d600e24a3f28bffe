//! doctor (under construction)
