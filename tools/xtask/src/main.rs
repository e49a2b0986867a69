//! `cargo xtask build / run / test / bench` for coherent.
fn main() {}
