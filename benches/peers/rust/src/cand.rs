//! candle (huggingface/candle: `candle-core` tensors with its tape-based `backward`, and
//! `candle-nn`'s `sigmoid`, `cross_entropy` and `SGD`), written as its documentation
//! writes a training step: `Var`s for the parameters, the loss built from tensor ops,
//! `SGD::backward_step(&loss)`. CPU device; matrix products go through the `gemm` crate,
//! which uses rayon's threads.

use crate::data::{self, relative_error};
use crate::timing::{emit, measure};
use candle_core::{DType, Device, Result, Tensor, Var};
use candle_nn::optim::{Optimizer, SGD};

fn dev() -> Device {
    Device::Cpu
}

fn var(shape: &[usize], values: &[f64], dtype: DType) -> Result<Var> {
    Var::from_tensor(&Tensor::from_slice(values, shape, &dev())?.to_dtype(dtype)?)
}

/// A fixture or generated matrix as a row-major candle tensor.
fn fixture(name: &str, dtype: DType) -> Result<Var> {
    let (shape, values) = data::read(name);
    var(&shape, &values, dtype)
}

fn nalg(m: &autodiff::prelude::DMatrix<f64>, dtype: DType) -> Result<Var> {
    var(&[m.nrows(), m.ncols()], &data::row_major(m), dtype)
}

fn nalg_row(m: &autodiff::prelude::RowDVector<f64>, dtype: DType) -> Result<Var> {
    var(&[m.len()], &m.iter().copied().collect::<Vec<_>>(), dtype)
}

fn labels(l: &[usize]) -> Result<Tensor> {
    Tensor::from_vec(l.iter().map(|&v| v as u32).collect::<Vec<_>>(), l.len(), &dev())
}

fn flat(t: &Tensor) -> Result<Vec<f64>> {
    t.to_dtype(DType::F64)?.flatten_all()?.to_vec1::<f64>()
}

fn scalar(t: &Tensor) -> Result<f64> {
    t.to_dtype(DType::F64)?.to_scalar::<f64>()
}

fn name(dtype: DType) -> &'static str {
    if dtype == DType::F64 {
        "f64"
    } else {
        "f32"
    }
}

/// max relative error of the loss and of each gradient against the fixtures.
fn check(loss: &Tensor, vars: &[&Var], fixtures: &[&str], loss_name: &str) -> Result<f64> {
    let grads = loss.backward()?;
    let want = data::scalar(loss_name);
    let mut err = ((scalar(loss)? - want) / want).abs();
    for (v, f) in vars.iter().zip(fixtures) {
        let g = grads.get(v.as_tensor()).expect("a gradient for every parameter");
        err = err.max(relative_error(&flat(g)?, &data::read(f).1));
    }
    Ok(err)
}

fn w1(dtype: DType, threads: usize, budget: f64) -> Result<()> {
    let x = var(&[], &[-2.0], dtype)?;
    let y = var(&[], &[5.0], dtype)?;
    let z = var(&[], &[-4.0], dtype)?;
    let f = |x: &Var, y: &Var, z: &Var| (x.as_tensor() + y.as_tensor())? * z.as_tensor();
    let out = f(&x, &y, &z)?;
    let g = out.backward()?;
    let got: Vec<f64> = [&x, &y, &z]
        .iter()
        .map(|v| scalar(g.get(v.as_tensor()).unwrap()))
        .collect::<Result<_>>()?;
    let err = ((scalar(&out)? + 12.0) / 12.0)
        .abs()
        .max(relative_error(&got, &[-4.0, -4.0, 3.0]));
    let t = measure(
        || {
            let out = f(&x, &y, &z).unwrap();
            let g = out.backward().unwrap();
            std::hint::black_box(&g);
            scalar(&out).unwrap()
        },
        budget,
    );
    emit("candle", name(dtype), "W1", threads, err, &t);
    Ok(())
}

fn w2_loss(x: &Tensor, y: &Tensor, w1: &Var, w2: &Var) -> Result<Tensor> {
    let h = candle_nn::ops::sigmoid(&x.matmul(w1.as_tensor())?)?;
    let y_pred = h.matmul(w2.as_tensor())?;
    (y_pred - y)?.sqr()?.sum_all()
}

fn w2(dtype: DType, threads: usize, budget: f64) -> Result<()> {
    let (x, y) = (
        fixture("w2s_x", dtype)?.into_inner(),
        fixture("w2s_y", dtype)?.into_inner(),
    );
    let (w1, w2) = (fixture("w2s_w1", dtype)?, fixture("w2s_w2", dtype)?);
    let loss = w2_loss(&x, &y, &w1, &w2)?;
    let mut err = check(&loss, &[&w1, &w2], &["w2s_grad_w1", "w2s_grad_w2"], "w2s_loss")?;
    let mut sgd = SGD::new(vec![w1.clone(), w2.clone()], 1e-4)?;
    sgd.backward_step(&loss)?;
    let after = data::scalar("w2s_loss_after_1_step");
    err = err.max(((scalar(&w2_loss(&x, &y, &w1, &w2)?)? - after) / after).abs());

    let [x, y, w1, w2] = data::w2_full();
    let (x, y) = (nalg(&x, dtype)?.into_inner(), nalg(&y, dtype)?.into_inner());
    let (w1, w2) = (nalg(&w1, dtype)?, nalg(&w2, dtype)?);
    let mut sgd = SGD::new(vec![w1.clone(), w2.clone()], 1e-4)?;
    let t = measure(
        || {
            let loss = w2_loss(&x, &y, &w1, &w2).unwrap();
            sgd.backward_step(&loss).unwrap();
            scalar(&loss).unwrap()
        },
        budget,
    );
    emit("candle", name(dtype), "W2", threads, err, &t);
    Ok(())
}

fn w3_loss(x: &Tensor, labels: &Tensor, w1: &Var, b1: &Var, w2: &Var, b2: &Var) -> Result<Tensor> {
    let hidden = x.matmul(w1.as_tensor())?.broadcast_add(b1.as_tensor())?.relu()?;
    let scores = hidden.matmul(w2.as_tensor())?.broadcast_add(b2.as_tensor())?;
    let data_loss = candle_nn::loss::cross_entropy(&scores, labels)?;
    let reg_loss = ((w1.as_tensor().sqr()?.sum_all()? + w2.as_tensor().sqr()?.sum_all()?)? * (0.5 * 1e-3))?;
    data_loss + reg_loss
}

fn w3(dtype: DType, threads: usize, budget: f64) -> Result<()> {
    let start = || -> Result<[Var; 4]> {
        Ok([
            fixture("w3_W1", dtype)?,
            fixture("w3_b1", dtype)?,
            fixture("w3_W2", dtype)?,
            fixture("w3_b2", dtype)?,
        ])
    };
    let x = fixture("w3_X", dtype)?.into_inner();
    let y = labels(&data::labels("w3_y"))?;
    let [w1, b1, w2, b2] = start()?;
    let loss = w3_loss(&x, &y, &w1, &b1, &w2, &b2)?;
    let mut err = check(
        &loss,
        &[&w1, &b1, &w2, &b2],
        &["w3_grad_W1", "w3_grad_b1", "w3_grad_W2", "w3_grad_b2"],
        "w3_loss",
    )?;
    let trace = data::matrix("w3_loss_trace");
    let mut sgd = SGD::new(vec![w1.clone(), b1.clone(), w2.clone(), b2.clone()], 1.0)?;
    for k in 0..3 {
        let loss = w3_loss(&x, &y, &w1, &b1, &w2, &b2)?;
        err = err.max(((scalar(&loss)? - trace[(k, 1)]) / trace[(k, 1)]).abs());
        sgd.backward_step(&loss)?;
    }

    let [w1, b1, w2, b2] = start()?;
    let mut sgd = SGD::new(vec![w1.clone(), b1.clone(), w2.clone(), b2.clone()], 1.0)?;
    let t = measure(
        || {
            let loss = w3_loss(&x, &y, &w1, &b1, &w2, &b2).unwrap();
            sgd.backward_step(&loss).unwrap();
            scalar(&loss).unwrap()
        },
        budget,
    );
    emit("candle", name(dtype), "W3", threads, err, &t);
    Ok(())
}

fn w4_loss(x: &Tensor, labels: &Tensor, p: &[Var; 6]) -> Result<Tensor> {
    let h1 = x
        .matmul(p[0].as_tensor())?
        .broadcast_add(p[1].as_tensor())?
        .relu()?;
    let h2 = h1
        .matmul(p[2].as_tensor())?
        .broadcast_add(p[3].as_tensor())?
        .relu()?;
    let scores = h2.matmul(p[4].as_tensor())?.broadcast_add(p[5].as_tensor())?;
    candle_nn::loss::cross_entropy(&scores, labels)
}

fn w4(dtype: DType, threads: usize, budget: f64) -> Result<()> {
    let x = fixture("w4s_x", dtype)?.into_inner();
    let y = labels(&data::labels("w4s_y"))?;
    let names = ["W1", "b1", "W2", "b2", "W3", "b3"];
    let p: Vec<Var> = names
        .iter()
        .map(|n| fixture(&format!("w4s_{n}"), dtype))
        .collect::<Result<_>>()?;
    let p: [Var; 6] = p.try_into().unwrap();
    let loss = w4_loss(&x, &y, &p)?;
    let grads: Vec<String> = names.iter().map(|n| format!("w4s_grad_{n}")).collect();
    let err = check(
        &loss,
        &p.iter().collect::<Vec<_>>(),
        &grads.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
        "w4s_loss",
    )?;

    let full = data::w4_full();
    let x = nalg(&full.x, dtype)?.into_inner();
    let y = labels(&full.labels)?;
    let p = [
        nalg(&full.w[0], dtype)?,
        nalg_row(&full.b[0], dtype)?,
        nalg(&full.w[1], dtype)?,
        nalg_row(&full.b[1], dtype)?,
        nalg(&full.w[2], dtype)?,
        nalg_row(&full.b[2], dtype)?,
    ];
    let mut sgd = SGD::new(p.to_vec(), 0.01)?;
    let t = measure(
        || {
            let loss = w4_loss(&x, &y, &p).unwrap();
            sgd.backward_step(&loss).unwrap();
            scalar(&loss).unwrap()
        },
        budget,
    );
    emit("candle", name(dtype), "W4", threads, err, &t);
    Ok(())
}

pub fn run(workloads: &[String], dtypes: &[String], budget: f64) {
    let threads = candle_core::utils::get_num_threads();
    for d in dtypes {
        let dtype = if d == "f64" { DType::F64 } else { DType::F32 };
        for w in workloads {
            let r = match w.as_str() {
                "W1" => w1(dtype, threads, budget),
                "W2" => w2(dtype, threads, budget),
                "W3" => w3(dtype, threads, budget),
                "W4" => w4(dtype, threads, budget),
                _ => continue,
            };
            if let Err(e) = r {
                eprintln!("candle {d} {w} failed: {e}");
            }
        }
    }
}
