//! The quickstart (filled in below).
fn main() {}
