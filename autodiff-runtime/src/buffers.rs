//! Reused storage for dynamic matrices: a small per-thread pool of buffers, so that a training
//! loop allocates its matrices in its first step and then reuses the same memory every step.
//!
//! The rules take the storage of every new dynamic matrix (`DMatrix`, `DVector`, `RowDVector`)
//! from the pool of the current thread, and give back what they consume; generated reverse
//! sweeps give back the tape's matrices when they end; the optimizers and [`crate::nn::Mlp`]
//! give back the gradients they have applied. A gradient handed to the user is the user's:
//! [`recycle`] returns it when it is no longer needed, and dropping it instead is fine
//! (it is then freed as usual).
//!
//! The pool holds at most [`MAX_HELD_BYTES`] and [`MAX_HELD_BUFFERS`] per thread; a buffer
//! given back beyond that is freed. [`release`] frees everything the current thread holds.
//! Static matrices and scalars never touch the pool.

use crate::real::Real;
use crate::value::Value;
use core::any::{Any, TypeId};
use nalgebra::{
    allocator::Allocator, DMatrix, DVector, DefaultAllocator, Dim, OMatrix, RowDVector,
};
use std::cell::{Cell, RefCell};

/// The most bytes one thread's pool holds.
pub const MAX_HELD_BYTES: usize = 512 << 20;
/// The most buffers one thread's pool holds.
pub const MAX_HELD_BUFFERS: usize = 64;

/// Free buffers of one scalar type, each with the length it was given back with.
struct Pool<T> {
    free: Vec<Vec<T>>,
    bytes: usize,
}

impl<T> Pool<T> {
    const fn new() -> Self {
        Pool {
            free: Vec::new(),
            bytes: 0,
        }
    }

    /// The free buffer whose length is closest above `len` (and at most twice it), removed.
    fn take(&mut self, len: usize) -> Option<Vec<T>> {
        let fits = |v: &Vec<T>| v.len() >= len && v.len() <= 2 * len;
        let best = (0..self.free.len())
            .filter(|&i| fits(&self.free[i]))
            .min_by_key(|&i| self.free[i].len())?;
        let v = self.free.swap_remove(best);
        self.bytes -= v.capacity() * size_of::<T>();
        Some(v)
    }

    /// Keeps `v` if there is room for it; frees it otherwise.
    fn give(&mut self, v: Vec<T>) {
        let bytes = v.capacity() * size_of::<T>();
        if v.is_empty()
            || self.free.len() >= MAX_HELD_BUFFERS
            || self.bytes + bytes > MAX_HELD_BYTES
        {
            return;
        }
        // Keeping the vector's capacity reserved for `free` itself: growing it would
        // allocate, so its room is made once.
        if self.free.capacity() == 0 {
            self.free.reserve_exact(MAX_HELD_BUFFERS);
        }
        self.bytes += bytes;
        self.free.push(v);
    }
}

thread_local! {
    static F64: RefCell<Pool<f64>> = const { RefCell::new(Pool::new()) };
    static F32: RefCell<Pool<f32>> = const { RefCell::new(Pool::new()) };
    static WORDS: RefCell<Pool<u64>> = const { RefCell::new(Pool::new()) };
}

/// Runs `f` on the current thread's pool for `T` (`None` for a scalar type without a pool,
/// or while the thread is shutting down).
fn with_pool<T: Real, X>(f: impl FnOnce(&mut Pool<T>) -> X) -> Option<X> {
    fn on<S: 'static, T: 'static, X>(
        key: &'static std::thread::LocalKey<RefCell<Pool<S>>>,
        f: impl FnOnce(&mut Pool<T>) -> X,
    ) -> Option<X> {
        key.try_with(|cell| {
            let mut pool = cell.try_borrow_mut().ok()?;
            (&mut *pool as &mut dyn Any)
                .downcast_mut::<Pool<T>>()
                .map(f)
        })
        .ok()
        .flatten()
    }
    if TypeId::of::<T>() == TypeId::of::<f64>() {
        on(&F64, f)
    } else if TypeId::of::<T>() == TypeId::of::<f32>() {
        on(&F32, f)
    } else {
        None
    }
}

/// How the current thread's requests for storage were met: reused from the pool, or newly
/// allocated (the pool had no buffer of a fitting size).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Requests met with a buffer from the pool.
    pub reused: u64,
    /// Requests that allocated.
    pub allocated: u64,
}

thread_local! {
    static STATS: Cell<Stats> = const { Cell::new(Stats { reused: 0, allocated: 0 }) };
}

/// The counts of the current thread since it started (or since [`release`]).
pub fn stats() -> Stats {
    STATS.try_with(Cell::get).unwrap_or_default()
}

fn count(reused: bool) {
    let _ = STATS.try_with(|s| {
        let mut now = s.get();
        if reused {
            now.reused += 1;
        } else {
            now.allocated += 1;
        }
        s.set(now);
    });
}

/// A buffer of exactly `len` elements, from the pool when it has one. Its contents are
/// unspecified (stale values of an earlier matrix, or zeros): the caller overwrites them all.
fn take_vec<T: Real>(len: usize) -> Vec<T> {
    if len == 0 {
        // An empty vector owns no memory: nothing to take or to count.
        return Vec::new();
    }
    let taken = with_pool::<T, _>(|p| p.take(len)).flatten();
    count(taken.is_some());
    match taken {
        Some(mut v) => {
            v.truncate(len);
            v
        }
        None => vec![T::zero(); len],
    }
}

/// Gives `v` back to the current thread's pool.
fn give_vec<T: Real>(v: Vec<T>) {
    with_pool::<T, _>(|p| p.give(v));
}

/// A scratch vector of `len` zeros (row maxima, row sums), from the pool when it has one.
#[inline]
pub(crate) fn scratch<T: Real>(len: usize) -> Vec<T> {
    let mut v = take_vec(len);
    v.fill(T::zero());
    v
}

/// Gives a scratch vector back to the pool.
#[inline]
pub(crate) fn give_scratch<T: Real>(v: Vec<T>) {
    give_vec(v);
}

/// One bit per element of a value (which elements of a `relu` input were positive), in
/// words from the pool; up to 64 bits need no storage of their own.
pub struct Bits {
    words: Words,
    len: usize,
}

enum Words {
    One(u64),
    Many(Vec<u64>),
}

impl Bits {
    /// `len` bits, all clear.
    #[inline]
    pub fn zeros(len: usize) -> Bits {
        let words = if len <= 64 {
            Words::One(0)
        } else {
            let n = len.div_ceil(64);
            let taken = WORDS
                .try_with(|p| p.try_borrow_mut().ok()?.take(n))
                .ok()
                .flatten();
            count(taken.is_some());
            let mut v = taken.unwrap_or_else(|| vec![0; n]);
            v.truncate(n);
            v.fill(0);
            Words::Many(v)
        };
        Bits { words, len }
    }

    /// The number of bits.
    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are no bits.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The words: bit `i` is bit `i % 64` of word `i / 64`.
    #[inline]
    pub fn words(&self) -> &[u64] {
        match &self.words {
            Words::One(w) => core::slice::from_ref(w),
            Words::Many(v) => v,
        }
    }

    /// The words, to write.
    #[inline]
    pub fn words_mut(&mut self) -> &mut [u64] {
        match &mut self.words {
            Words::One(w) => core::slice::from_mut(w),
            Words::Many(v) => v.as_mut_slice(),
        }
    }

    /// Bit `i`. Panics when `i` is out of range.
    #[inline]
    pub fn get(&self, i: usize) -> bool {
        assert!(i < self.len, "bit {i} of {}", self.len);
        self.words()[i / 64] >> (i % 64) & 1 == 1
    }
}

impl Drop for Bits {
    fn drop(&mut self) {
        if let Words::Many(v) = &mut self.words {
            let v = core::mem::take(v);
            let _ = WORDS.try_with(|p| {
                if let Ok(mut pool) = p.try_borrow_mut() {
                    pool.give(v);
                }
            });
        }
    }
}

/// What a new matrix from [`matrix`] holds before the caller writes it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Fill {
    /// Zeros.
    Zeros,
    /// Unspecified values: the caller overwrites every element.
    Overwritten,
}

/// A new `r × c` matrix whose storage comes from the pool when it is dynamic.
#[inline]
pub fn matrix<T: Real, R: Dim, C: Dim>(r: R, c: C, fill: Fill) -> OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    if R::try_to_usize().is_some() && C::try_to_usize().is_some() {
        return OMatrix::zeros_generic(r, c);
    }
    let (rows, cols) = (r.value(), c.value());
    let mut out: Option<OMatrix<T, R, C>> = None;
    let slot = &mut out as &mut dyn Any;
    let buffer = || {
        let mut v = take_vec::<T>(rows * cols);
        match fill {
            Fill::Zeros => v.fill(T::zero()),
            // Debug builds (the tests) poison what the caller promised to overwrite, so that
            // an element it forgets shows up as NaN instead of a stale value.
            Fill::Overwritten if cfg!(debug_assertions) => v.fill(T::zero() / T::zero()),
            Fill::Overwritten => {}
        }
        v
    };
    if let Some(s) = slot.downcast_mut::<Option<DMatrix<T>>>() {
        *s = Some(DMatrix::from_vec(rows, cols, buffer()));
    } else if let Some(s) = slot.downcast_mut::<Option<DVector<T>>>() {
        *s = Some(DVector::from_vec(buffer()));
    } else if let Some(s) = slot.downcast_mut::<Option<RowDVector<T>>>() {
        *s = Some(RowDVector::from_vec(buffer()));
    }
    out.unwrap_or_else(|| OMatrix::zeros_generic(r, c))
}

/// A copy of `m` in storage from the pool.
#[inline]
pub fn copy<T: Real, R: Dim, C: Dim>(m: &OMatrix<T, R, C>) -> OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    let (r, c) = m.shape_generic();
    let mut out = matrix(r, c, Fill::Overwritten);
    out.copy_from(m);
    out
}

/// `f` applied to every element of `m`, in storage from the pool.
#[inline]
pub fn map<T: Real, R: Dim, C: Dim>(
    m: &OMatrix<T, R, C>,
    mut f: impl FnMut(T) -> T,
) -> OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    let (r, c) = m.shape_generic();
    let mut out = matrix(r, c, Fill::Overwritten);
    for (o, v) in out.as_mut_slice().iter_mut().zip(m.as_slice()) {
        *o = f(*v);
    }
    out
}

/// Gives the storage of a dynamic matrix back to the current thread's pool (static ones and
/// scalars are simply dropped).
#[inline]
pub fn give_matrix<T: Real, R: Dim, C: Dim>(mut m: OMatrix<T, R, C>)
where
    DefaultAllocator: Allocator<R, C>,
{
    let slot = &mut m as &mut dyn Any;
    let v: Vec<T> = if let Some(d) = slot.downcast_mut::<DMatrix<T>>() {
        core::mem::replace(d, DMatrix::from_vec(0, 0, Vec::new()))
            .data
            .into()
    } else if let Some(d) = slot.downcast_mut::<DVector<T>>() {
        core::mem::replace(d, DVector::from_vec(Vec::new()))
            .data
            .into()
    } else if let Some(d) = slot.downcast_mut::<RowDVector<T>>() {
        core::mem::replace(d, RowDVector::from_vec(Vec::new()))
            .data
            .into()
    } else {
        return;
    };
    give_vec(v);
}

/// Returns a value's storage to the pool, for the next matrix of the same size to reuse:
/// what to do with a gradient once it has been applied.
///
/// ```
/// use autodiff_runtime::buffers;
/// use nalgebra::DMatrix;
///
/// let g = DMatrix::<f64>::from_element(3, 2, 0.5);
/// buffers::recycle(g);
/// assert!(buffers::held_bytes::<f64>() >= 6 * 8);
/// ```
#[inline]
pub fn recycle<V: Value>(value: V) {
    value.recycle();
}

/// [`recycle`] for a value of any type: the storage of a dynamic `f32`/`f64` matrix or vector
/// goes back to the pool; anything else is dropped.
pub fn recycle_any<V: 'static>(value: V) {
    fn give<M: Value + 'static>(slot: &mut dyn Any) -> bool {
        let Some(m) = slot.downcast_mut::<Option<M>>() else {
            return false;
        };
        if let Some(m) = m.take() {
            m.recycle();
        }
        true
    }
    let mut slot = Some(value);
    let any = &mut slot as &mut dyn Any;
    let _ = give::<DMatrix<f64>>(any)
        || give::<DVector<f64>>(any)
        || give::<RowDVector<f64>>(any)
        || give::<DMatrix<f32>>(any)
        || give::<DVector<f32>>(any)
        || give::<RowDVector<f32>>(any);
}

/// The bytes the current thread's pool holds for scalar type `T`.
pub fn held_bytes<T: Real>() -> usize {
    with_pool::<T, _>(|p| p.bytes).unwrap_or(0)
}

/// The bytes of the words the current thread's pool holds for [`Bits`] (which elements of a
/// `relu` input were positive).
pub fn held_bits_bytes() -> usize {
    WORDS
        .try_with(|p| p.try_borrow().map_or(0, |p| p.bytes))
        .unwrap_or(0)
}

/// Frees every buffer the current thread's pool holds, and resets its [`stats`].
pub fn release() {
    F64.with_borrow_mut(|p| *p = Pool::new());
    F32.with_borrow_mut(|p| *p = Pool::new());
    WORDS.with_borrow_mut(|p| *p = Pool::new());
    STATS.set(Stats::default());
}

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::{Dyn, Matrix2, U1};

    #[test]
    fn a_given_back_buffer_is_reused_for_the_same_size() {
        release();
        let m = matrix::<f64, _, _>(Dyn(3), Dyn(4), Fill::Zeros);
        let ptr = m.as_ptr();
        recycle(m);
        assert_eq!(held_bytes::<f64>(), 12 * 8);
        let again = matrix::<f64, _, _>(Dyn(4), Dyn(3), Fill::Zeros);
        assert_eq!(again.as_ptr(), ptr, "the same storage, reshaped");
        assert!(again.iter().all(|v| *v == 0.0), "zeros were asked for");
        assert_eq!(held_bytes::<f64>(), 0);
    }

    #[test]
    fn vectors_share_the_pool_and_scalar_types_keep_theirs_apart() {
        release();
        recycle(DVector::<f32>::from_element(6, 1.0));
        assert_eq!(held_bytes::<f32>(), 24);
        assert_eq!(held_bytes::<f64>(), 0);
        let row = matrix::<f32, _, _>(U1, Dyn(6), Fill::Zeros);
        assert_eq!(row.shape(), (1, 6));
        assert_eq!(held_bytes::<f32>(), 0);
    }

    #[test]
    fn a_buffer_far_larger_than_asked_is_not_taken() {
        release();
        recycle(DMatrix::<f64>::zeros(100, 100));
        let small = matrix::<f64, _, _>(Dyn(2), Dyn(2), Fill::Zeros);
        assert_eq!(small.len(), 4);
        assert_eq!(
            held_bytes::<f64>(),
            100 * 100 * 8,
            "the large buffer stays pooled"
        );
    }

    #[test]
    fn static_matrices_and_empty_ones_never_enter_the_pool() {
        release();
        recycle(Matrix2::<f64>::identity());
        recycle(DMatrix::<f64>::zeros(0, 5));
        assert_eq!(held_bytes::<f64>(), 0);
        let m = matrix::<f64, _, _>(nalgebra::U2, nalgebra::U2, Fill::Overwritten);
        assert_eq!(m, Matrix2::zeros());
    }

    #[test]
    fn the_pool_is_bounded() {
        release();
        for _ in 0..MAX_HELD_BUFFERS + 10 {
            recycle(DVector::<f64>::zeros(3));
        }
        assert_eq!(held_bytes::<f64>(), MAX_HELD_BUFFERS * 3 * 8);
        release();
        assert_eq!(held_bytes::<f64>(), 0);
    }

    #[test]
    fn values_of_any_type_can_be_given_back() {
        release();
        recycle_any(RowDVector::<f32>::zeros(4));
        recycle_any(String::from("not a matrix"));
        recycle_any(1.5_f64);
        assert_eq!(held_bytes::<f32>(), 16);
        assert_eq!(held_bytes::<f64>(), 0);
    }

    #[test]
    fn copies_and_maps_are_values_not_aliases() {
        release();
        let a = DMatrix::from_row_slice(2, 2, &[1.0, 2.0, 3.0, 4.0]);
        let b = copy(&a);
        assert_eq!(a, b);
        assert_ne!(a.as_ptr(), b.as_ptr());
        assert_eq!(map(&a, |v| v * 10.0), a * 10.0);
    }
}
