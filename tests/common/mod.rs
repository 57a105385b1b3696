//! Shared by the integration tests: the benchmark workloads written with `#[differentiate]`,
//! their hand-written backprop, and the PyTorch reference fixtures.
#![allow(dead_code)]

pub mod check;
pub mod fixtures;
pub mod hand;
pub mod paired;
pub mod params;
pub mod workloads;
