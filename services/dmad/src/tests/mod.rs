//! Host tests of the server with the real `dma-pool`, a table of process names and a
//! `Vec`-backed stand-in for dmad's mapping of pool memory.

mod buffers;
mod confinement;
mod debug;
mod errors;
mod fixture;
mod fuzz;
mod global;
mod limits;
mod privileged;
mod quarantine;
mod sharing;
mod tables;
mod wire;
