//! Unit tests of the expansion: snapshots of generated code, read by a reviewer in the diff;
//! the items that come with an error (stubs for a rejected body, none for a rejected
//! signature); the fuzzer (the macro never panics on any input); the generator of random
//! functions of the language, and the freshness of the differential test file it writes; the
//! time an expansion takes.

mod differential_file;
mod expansion_cost;
mod fallback;
mod fuzz;
mod language;
mod snapshots;
mod structured;
