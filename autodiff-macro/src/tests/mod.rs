//! Unit tests of the expansion: snapshots of generated code, read by a reviewer in the diff.

mod snapshots;
