//! Saving and loading an [`Mlp`]: a versioned JSON format, written atomically, read back
//! bit for bit, and checked on load with errors that say what is wrong.
//!
//! # The format (version 1)
//!
//! A UTF-8 JSON object:
//!
//! ```json
//! {
//!   "format": "autodiff-mlp",
//!   "version": 1,
//!   "sizes": [2, 100, 3],
//!   "layers": [
//!     { "kind": "dense", "activation": { "kind": "relu" },
//!       "w": { "rows": 2, "cols": 100, "data": [0.12, -0.5, …] },
//!       "b": [0.0, …] },
//!     { "kind": "dense", "activation": { "kind": "identity" }, "w": { … }, "b": [ … ] }
//!   ]
//! }
//! ```
//!
//! - `format` is always `"autodiff-mlp"` and `version` is `1`; a reader refuses other
//!   values before reading anything else.
//! - `sizes` lists the number of inputs, then each layer's number of outputs.
//! - Each layer is `{"kind": "dense", "activation", "w", "b"}` or
//!   `{"kind": "maxout", "w_a", "b_a", "w_b", "b_b"}`. An activation is an object with a
//!   `kind` (`identity`, `sigmoid`, `tanh`, `relu`, `leaky_relu`, `elu`) and, for the last
//!   two, an `alpha`.
//! - A weight matrix is `{"rows", "cols", "data"}` with `data` in row-major order (row 0
//!   first), `rows × cols` numbers; a bias is an array of numbers.
//! - Numbers are written in the shortest form that reads back to the same `f64`, so a
//!   reloaded model computes bit-identical outputs. NaN and infinities cannot be saved.
//!
//! The file is written to a temporary file in the same directory, flushed to disk, then
//! renamed over the destination: a reader sees the old file or the new one, never half.

use super::activation::Activation;
use super::layer::Layer;
use super::mlp::Mlp;
use nalgebra::{DMatrix, RowDVector};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// The value of the `format` field.
pub const FORMAT: &str = "autodiff-mlp";
/// The version of the format this crate writes and reads.
pub const VERSION: u32 = 1;

/// Why a model could not be saved or loaded.
#[derive(Debug)]
pub enum ModelFileError {
    /// Reading, writing or renaming failed.
    Io {
        /// The file.
        path: PathBuf,
        /// What was being done: `"read"`, `"write"`, …
        action: &'static str,
        /// The error of the operating system.
        source: std::io::Error,
    },
    /// The file ends in the middle of its JSON (an interrupted copy, a full disk).
    Truncated {
        /// The file.
        path: PathBuf,
    },
    /// The file is not valid JSON, or not of the format's structure.
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong, with the line and column.
        message: String,
    },
    /// The file is JSON but not a model file of this crate.
    WrongFormat {
        /// The file.
        path: PathBuf,
        /// The `format` field found (empty when missing).
        found: String,
    },
    /// The file is of a version this crate cannot read.
    UnsupportedVersion {
        /// The file.
        path: PathBuf,
        /// The version in the file.
        found: u64,
    },
    /// The parameters do not have the shapes the file declares, or do not fit together.
    Shape {
        /// The file.
        path: PathBuf,
        /// Which parameter of which layer, and what is wrong.
        message: String,
    },
    /// A parameter to save is NaN or infinite, which the format cannot hold.
    NonFinite {
        /// The file that was not written.
        path: PathBuf,
        /// Which parameter of which layer.
        message: String,
    },
}

impl fmt::Display for ModelFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ModelFileError::Io { path, action, source } => {
                write!(f, "cannot {action} model file {}: {source}", path.display())
            }
            ModelFileError::Truncated { path } => write!(
                f,
                "model file {} is truncated: it ends in the middle of its JSON",
                path.display()
            ),
            ModelFileError::Corrupt { path, message } => {
                write!(f, "model file {} is corrupt: {message}", path.display())
            }
            ModelFileError::WrongFormat { path, found } => write!(
                f,
                "{} is not an autodiff model file: its format is {found:?}, expected {FORMAT:?}",
                path.display()
            ),
            ModelFileError::UnsupportedVersion { path, found } => write!(
                f,
                "model file {} has format version {found}, but this version of autodiff reads version {VERSION} only",
                path.display()
            ),
            ModelFileError::Shape { path, message } => {
                write!(f, "model file {} has parameters of the wrong shape: {message}", path.display())
            }
            ModelFileError::NonFinite { path, message } => {
                write!(f, "cannot save model file {}: {message}", path.display())
            }
        }
    }
}

impl std::error::Error for ModelFileError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ModelFileError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// The first fields, read before the rest so that another version is reported as such.
#[derive(Deserialize)]
struct Header {
    #[serde(default)]
    format: String,
    #[serde(default)]
    version: Option<u64>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileV1 {
    format: String,
    version: u32,
    sizes: Vec<usize>,
    layers: Vec<LayerV1>,
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
enum LayerV1 {
    Dense {
        activation: Activation,
        w: MatrixV1,
        b: Vec<f64>,
    },
    Maxout {
        w_a: MatrixV1,
        b_a: Vec<f64>,
        w_b: MatrixV1,
        b_b: Vec<f64>,
    },
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct MatrixV1 {
    rows: usize,
    cols: usize,
    data: Vec<f64>,
}

impl MatrixV1 {
    fn from(m: &DMatrix<f64>) -> MatrixV1 {
        let data = m
            .row_iter()
            .flat_map(|r| r.iter().copied().collect::<Vec<_>>())
            .collect();
        MatrixV1 {
            rows: m.nrows(),
            cols: m.ncols(),
            data,
        }
    }

    fn into_matrix(self, what: &str) -> Result<DMatrix<f64>, String> {
        match self.rows.checked_mul(self.cols) {
            Some(n) if n == self.data.len() => {
                Ok(DMatrix::from_row_slice(self.rows, self.cols, &self.data))
            }
            _ => Err(format!(
                "{what} is declared {}x{} but holds {} numbers",
                self.rows,
                self.cols,
                self.data.len()
            )),
        }
    }
}

impl LayerV1 {
    fn from(layer: &Layer) -> LayerV1 {
        match layer {
            Layer::Dense { w, b, activation } => LayerV1::Dense {
                activation: *activation,
                w: MatrixV1::from(w),
                b: b.iter().copied().collect(),
            },
            Layer::Maxout { w_a, b_a, w_b, b_b } => LayerV1::Maxout {
                w_a: MatrixV1::from(w_a),
                b_a: b_a.iter().copied().collect(),
                w_b: MatrixV1::from(w_b),
                b_b: b_b.iter().copied().collect(),
            },
        }
    }

    fn into_layer(self, i: usize) -> Result<Layer, String> {
        let name = |p: &str| format!("layer {i}: {p}");
        let row = RowDVector::from_vec;
        Ok(match self {
            LayerV1::Dense { activation, w, b } => Layer::Dense {
                w: w.into_matrix(&name("w"))?,
                b: row(b),
                activation,
            },
            LayerV1::Maxout { w_a, b_a, w_b, b_b } => Layer::Maxout {
                w_a: w_a.into_matrix(&name("w_a"))?,
                b_a: row(b_a),
                w_b: w_b.into_matrix(&name("w_b"))?,
                b_b: row(b_b),
            },
        })
    }
}

impl Mlp {
    /// The model in the file format of [this module](self), as JSON text.
    ///
    /// Fails, saying which parameter, when a parameter is NaN or infinite.
    pub fn to_json(&self) -> Result<String, String> {
        for (i, layer) in self.layers().iter().enumerate() {
            for (k, p) in layer.parameters().iter().enumerate() {
                if let Some(j) = p.iter().position(|v| !v.is_finite()) {
                    return Err(format!(
                        "parameter {k} of layer {i} has the non-finite element {} at {j}",
                        p[j]
                    ));
                }
            }
        }
        let file = FileV1 {
            format: FORMAT.into(),
            version: VERSION,
            sizes: self.sizes(),
            layers: self.layers().iter().map(LayerV1::from).collect(),
        };
        Ok(serde_json::to_string_pretty(&file).expect("a model of finite numbers serializes"))
    }

    /// Saves the model to `path` (see the format above), atomically: the JSON goes to a
    /// temporary file in the same directory, which is flushed to disk and renamed over
    /// `path`. On any error the destination is untouched and the temporary file removed.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), ModelFileError> {
        let path = path.as_ref();
        let json = self
            .to_json()
            .map_err(|message| ModelFileError::NonFinite {
                path: path.into(),
                message,
            })?;
        write_atomically(path, json.as_bytes())
    }

    /// Loads a model saved by [`Mlp::save`], checking the format, the version and every
    /// shape: a bad file gives an error that says what is wrong, never a panic.
    pub fn load(path: impl AsRef<Path>) -> Result<Mlp, ModelFileError> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| ModelFileError::Io {
            path: path.into(),
            action: "read",
            source,
        })?;
        Mlp::from_json_bytes(&bytes, path)
    }

    /// Reads a model from the bytes of a model file; `path` names it in errors.
    pub fn from_json_bytes(bytes: &[u8], path: &Path) -> Result<Mlp, ModelFileError> {
        let path_buf = || path.to_path_buf();
        let header: Header = serde_json::from_slice(bytes).map_err(|e| json_error(e, path))?;
        if header.format != FORMAT {
            return Err(ModelFileError::WrongFormat {
                path: path_buf(),
                found: header.format,
            });
        }
        match header.version {
            Some(v) if v == u64::from(VERSION) => {}
            Some(found) => {
                return Err(ModelFileError::UnsupportedVersion {
                    path: path_buf(),
                    found,
                })
            }
            None => {
                return Err(ModelFileError::Corrupt {
                    path: path_buf(),
                    message: "the `version` field is missing".into(),
                })
            }
        }
        let file: FileV1 = serde_json::from_slice(bytes).map_err(|e| json_error(e, path))?;
        let shape = |message| ModelFileError::Shape {
            path: path_buf(),
            message,
        };
        let layers = file
            .layers
            .into_iter()
            .enumerate()
            .map(|(i, l)| l.into_layer(i))
            .collect::<Result<Vec<_>, _>>()
            .map_err(shape)?;
        let mlp = Mlp::from_layers(layers).map_err(|e| shape(e.to_string()))?;
        if mlp.sizes() != file.sizes {
            return Err(shape(format!(
                "the layers have sizes {:?} but the file declares {:?}",
                mlp.sizes(),
                file.sizes
            )));
        }
        Ok(mlp)
    }
}

fn json_error(e: serde_json::Error, path: &Path) -> ModelFileError {
    match e.classify() {
        serde_json::error::Category::Eof => ModelFileError::Truncated { path: path.into() },
        _ => ModelFileError::Corrupt {
            path: path.into(),
            message: e.to_string(),
        },
    }
}

/// A number that makes temporary names unique within the process.
static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Writes `bytes` to a fresh temporary file next to `path`, syncs it, and renames it over
/// `path`; removes the temporary file on any error.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), ModelFileError> {
    let io = |action, source| ModelFileError::Io {
        path: path.into(),
        action,
        source,
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path.file_name().ok_or_else(|| {
        io(
            "write",
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "the path has no file name",
            ),
        )
    })?;
    let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
    let temp = dir.join(format!(
        ".{}.{}-{n}.tmp",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| {
        let mut file =
            std::fs::File::create_new(&temp).map_err(|e| io("create a temporary file for", e))?;
        file.write_all(bytes).map_err(|e| io("write", e))?;
        file.sync_all().map_err(|e| io("flush", e))?;
        drop(file);
        std::fs::rename(&temp, path).map_err(|e| io("replace", e))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    } else if let Ok(d) = std::fs::File::open(dir) {
        // Make the rename itself durable where the platform allows it.
        let _ = d.sync_all();
    }
    result
}
