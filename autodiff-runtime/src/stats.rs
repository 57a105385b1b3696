//! Counts of the matrix products the rules perform on this thread: how tests prove that
//! activity analysis spends no work on the derivatives of constants. Counting is one
//! increment of a thread-local integer per product, which costs nothing next to a product.

use std::cell::Cell;

thread_local! {
    static PRODUCTS: Cell<usize> = const { Cell::new(0) };
}

/// Records one matrix product (forward or in a pullback).
#[inline]
pub fn count_product() {
    PRODUCTS.with(|c| c.set(c.get() + 1));
}

/// The number of matrix products the rules performed on this thread so far.
pub fn products() -> usize {
    PRODUCTS.with(Cell::get)
}
