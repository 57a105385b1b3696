//! The workloads' data: the PyTorch fixtures of `tests/data` (W2 reduced, W3, W4 reduced, W5
//! reduced, W6 reduced) and the portable generator of W2's, W4's, W5's and W6's full-size
//! random data and W7's direction (README.md, "Data").

use autodiff::prelude::*;
use std::path::PathBuf;

/// The fixture folder: `$PEERS_FIXTURES`, or the repository's `tests/data`.
fn path(name: &str) -> PathBuf {
    let dir = std::env::var_os("PEERS_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../tests/data"));
    dir.join(format!("{name}.txt"))
}

/// The shape and the row-major values of a fixture (`# shape d0 d1`, `#` comments, values).
pub fn read(name: &str) -> (Vec<usize>, Vec<f64>) {
    let text = std::fs::read_to_string(path(name)).unwrap_or_else(|e| panic!("fixture {name}: {e}"));
    let mut shape = None;
    let mut values = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# shape") {
            shape = Some(
                rest.split_whitespace()
                    .map(|d| d.parse().expect("shape"))
                    .collect(),
            );
        } else if !line.starts_with('#') {
            values.extend(line.split_whitespace().map(|v| v.parse::<f64>().expect("value")));
        }
    }
    (
        shape.unwrap_or_else(|| panic!("fixture {name} has no shape line")),
        values,
    )
}

pub fn matrix(name: &str) -> DMatrix<f64> {
    let (shape, values) = read(name);
    assert_eq!(shape.len(), 2, "{name} is not a matrix");
    DMatrix::from_row_slice(shape[0], shape[1], &values)
}

pub fn row(name: &str) -> RowDVector<f64> {
    let (shape, values) = read(name);
    assert_eq!(shape.len(), 1, "{name} is not a vector");
    RowDVector::from_row_slice(&values)
}

pub fn scalar(name: &str) -> f64 {
    let (shape, values) = read(name);
    assert!(shape.is_empty() && values.len() == 1, "{name} is not a scalar");
    values[0]
}

pub fn labels(name: &str) -> Vec<usize> {
    read(name).1.into_iter().map(|v| v as usize).collect()
}

/// max|got − want| / max|want|, as the reference README defines agreement.
pub fn relative_error(got: &[f64], want: &[f64]) -> f64 {
    assert_eq!(got.len(), want.len(), "lengths differ");
    let scale = want
        .iter()
        .fold(0.0f64, |m, v| m.max(v.abs()))
        .max(f64::MIN_POSITIVE);
    got.iter()
        .zip(want)
        .fold(0.0f64, |m, (g, w)| m.max((g - w).abs()))
        / scale
}

/// Row-major values of a matrix (the fixtures' order).
pub fn row_major<T: Copy + Into<f64> + autodiff::nalgebra::Scalar>(m: &DMatrix<T>) -> Vec<f64> {
    m.transpose().iter().map(|&v| v.into()).collect()
}

/// The portable generator: output i (i = 0, 1, …) of the stream with seed s is
/// splitmix64's finaliser applied to s + (i + 1)·0x9E3779B97F4A7C15 (mod 2⁶⁴).
pub struct Stream {
    seed: u64,
    i: u64,
}

impl Stream {
    pub fn new(seed: u64) -> Self {
        Stream { seed, i: 0 }
    }

    pub fn next_u64(&mut self) -> u64 {
        self.i += 1;
        let mut z = self.seed.wrapping_add(self.i.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform on [-1, 1), exactly: (u >> 11)·2⁻⁵² − 1.
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / 4503599627370496.0) - 1.0
    }

    /// A rows × cols matrix filled in row-major order with scale·uniform.
    pub fn matrix(&mut self, rows: usize, cols: usize, scale: f64) -> DMatrix<f64> {
        let values: Vec<f64> = (0..rows * cols).map(|_| scale * self.uniform()).collect();
        DMatrix::from_row_slice(rows, cols, &values)
    }

    pub fn row(&mut self, n: usize, scale: f64) -> RowDVector<f64> {
        RowDVector::from_iterator(n, (0..n).map(|_| scale * self.uniform()))
    }

    /// Class labels: (u >> 32) mod classes.
    pub fn labels(&mut self, n: usize, classes: u64) -> Vec<usize> {
        (0..n)
            .map(|_| ((self.next_u64() >> 32) % classes) as usize)
            .collect()
    }
}

/// W2 at full size: x (64×1000), y (64×10), w1 (1000×100), w2 (100×10), all uniform on
/// [-1, 1), drawn in that order from stream 2.
pub fn w2_full() -> [DMatrix<f64>; 4] {
    let mut s = Stream::new(2);
    let x = s.matrix(64, 1000, 1.0);
    let y = s.matrix(64, 10, 1.0);
    let w1 = s.matrix(1000, 100, 1.0);
    let w2 = s.matrix(100, 10, 1.0);
    [x, y, w1, w2]
}

/// W4 at full size, from stream 4: x (256×784) uniform, labels (256) in 0..10, then per
/// layer (784→512, 512→512, 512→10) W = sqrt(6/fan_in)·uniform and b = uniform/8.
pub struct W4 {
    pub x: DMatrix<f64>,
    pub labels: Vec<usize>,
    pub w: [DMatrix<f64>; 3],
    pub b: [RowDVector<f64>; 3],
}

pub fn w4_full() -> W4 {
    let mut s = Stream::new(4);
    let x = s.matrix(256, 784, 1.0);
    let labels = s.labels(256, 10);
    let sizes = [(784, 512), (512, 512), (512, 10)];
    let mut w = Vec::new();
    let mut b = Vec::new();
    for (fan_in, fan_out) in sizes {
        w.push(s.matrix(fan_in, fan_out, (6.0 / fan_in as f64).sqrt()));
        b.push(s.row(fan_out, 0.125));
    }
    let [w1, w2, w3]: [DMatrix<f64>; 3] = w.try_into().unwrap();
    let [b1, b2, b3]: [RowDVector<f64>; 3] = b.try_into().unwrap();
    W4 {
        x,
        labels,
        w: [w1, w2, w3],
        b: [b1, b2, b3],
    }
}

/// A tanh RNN's data and starting point (W5), as `benches/peers/common.py` draws them.
pub struct W5 {
    /// The inputs of every step stacked by rows: step t's (t = 1, 2, …) in rows (t − 1)·n … t·n − 1.
    pub x: DMatrix<f64>,
    pub y: DMatrix<f64>,
    pub wx: DMatrix<f64>,
    pub wh: DMatrix<f64>,
    pub b: RowDVector<f64>,
}

/// From stream `seed`: x (steps·n × d) uniform, y (n × h) uniform, Wx (d × h) =
/// sqrt(3/d)·uniform, Wh (h × h) = sqrt(3/h)·uniform, b (h) = uniform/8.
pub fn w5_data(seed: u64, steps: usize, n: usize, d: usize, h: usize) -> W5 {
    let mut s = Stream::new(seed);
    let x = s.matrix(steps * n, d, 1.0);
    let y = s.matrix(n, h, 1.0);
    let wx = s.matrix(d, h, (3.0 / d as f64).sqrt());
    let wh = s.matrix(h, h, (3.0 / h as f64).sqrt());
    let b = s.row(h, 0.125);
    W5 { x, y, wx, wh, b }
}

/// W5 at full size, from stream 5: 50 steps of a batch of 64, 32 inputs, 128 hidden units.
pub fn w5_full() -> W5 {
    w5_data(5, 50, 64, 32, 128)
}

/// W5's reduced fixture (`benches/peers/fixture_w5.py`).
pub fn w5_fixture() -> W5 {
    W5 {
        x: matrix("w5s_x"),
        y: matrix("w5s_y"),
        wx: matrix("w5s_Wx"),
        wh: matrix("w5s_Wh"),
        b: row("w5s_b"),
    }
}

/// A Gaussian process's data and starting point (W6), as `benches/peers/common.py` draws them.
pub struct W6 {
    /// The squared distances `(xᵢ − xⱼ)²` of the inputs.
    pub d2: DMatrix<f64>,
    pub y: DVector<f64>,
    /// `log ℓ`, `log σ²_f`, `log σ²_n`.
    pub theta: [f64; 3],
}

impl W6 {
    /// From inputs `x`, targets `y` and the log-hyperparameters.
    pub fn new(x: &[f64], y: DVector<f64>, theta: [f64; 3]) -> Self {
        let d2 = DMatrix::from_fn(x.len(), x.len(), |i, j| (x[i] - x[j]) * (x[i] - x[j]));
        W6 { d2, y, theta }
    }
}

/// From stream `seed`: x (n) = 3·uniform, e (n) uniform, then y = x − x·x·x/6 + 0.1·e
/// (evaluated left to right); θ = (0, 0, −2): ℓ = 1, σ²_f = 1, σ²_n = e⁻².
pub fn w6_data(seed: u64, n: usize) -> W6 {
    let mut s = Stream::new(seed);
    let x: Vec<f64> = (0..n).map(|_| 3.0 * s.uniform()).collect();
    let e: Vec<f64> = (0..n).map(|_| s.uniform()).collect();
    let y = DVector::from_iterator(n, x.iter().zip(&e).map(|(&x, &e)| x - x * x * x / 6.0 + 0.1 * e));
    W6::new(&x, y, [0.0, 0.0, -2.0])
}

/// W6 at full size, from stream 6: 500 points.
pub fn w6_full() -> W6 {
    w6_data(6, 500)
}

/// W7's direction, shaped like W3's parameters: W1 (2×100), W2 (100×3) and b2 (3) uniform on
/// [-1, 1) from stream 17, drawn in that order, and b1 = 0 (W3 starts with b1 = 0 and has three
/// points at the origin, whose pre-activations sit on relu's kink: a direction that moves b1
/// moves them across it). Returned as (W1, b1, W2, b2).
pub fn w7_direction() -> (DMatrix<f64>, RowDVector<f64>, DMatrix<f64>, RowDVector<f64>) {
    let mut s = Stream::new(17);
    let w1 = s.matrix(2, 100, 1.0);
    let w2 = s.matrix(100, 3, 1.0);
    let b2 = s.row(3, 1.0);
    (w1, RowDVector::zeros(100), w2, b2)
}

/// W6's reduced fixture (`benches/peers/fixture_w6.py`).
pub fn w6_fixture() -> W6 {
    let x = read("w6s_x").1;
    let y = DVector::from_vec(read("w6s_y").1);
    let t = read("w6s_theta").1;
    W6::new(&x, y, [t[0], t[1], t[2]])
}
