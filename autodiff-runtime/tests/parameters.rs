//! The `Parameters` trait: its implementations for scalars, matrices and `Vec`s, the derive
//! on structs (nested, with skipped fields), the optimizers' `update` against their slice API,
//! and `GradCheck::wrt_params`.

use autodiff_runtime::gradcheck::GradCheck;
use autodiff_runtime::optim::{Adam, Momentum, Optimizer, Sgd};
use autodiff_runtime::Parameters;
use nalgebra::{DMatrix, DVector, RowDVector, SMatrix, SVector};

#[derive(Parameters, Clone, Debug, PartialEq)]
#[parameters(crate = autodiff_runtime)]
struct Inner {
    b: RowDVector<f64>,
    scale: f64,
}

#[derive(Parameters, Clone, Debug, PartialEq)]
#[parameters(crate = autodiff_runtime)]
struct Model {
    w: DMatrix<f64>,
    #[parameters(skip)]
    label: String,
    inner: Inner,
    layers: Vec<SMatrix<f64, 2, 2>>,
}

fn model() -> Model {
    Model {
        w: DMatrix::from_fn(2, 3, |i, j| i as f64 - 0.5 * j as f64),
        label: "net".into(),
        inner: Inner {
            b: RowDVector::from_row_slice(&[0.5, -1.5, 2.0]),
            scale: 3.0,
        },
        layers: vec![
            SMatrix::from_fn(|i, j| (i + 2 * j) as f64),
            SMatrix::from_fn(|i, j| -((i * j) as f64)),
        ],
    }
}

/// Every scalar of `p`, leaf after leaf.
fn flat<P: Parameters>(p: &P) -> Vec<P::Scalar> {
    let mut out = Vec::new();
    p.for_each_leaf(&mut |leaf| out.extend_from_slice(leaf));
    out
}

#[test]
fn leaves_are_visited_in_declaration_order() {
    let p = model();
    let mut lengths = Vec::new();
    p.for_each_leaf(&mut |leaf| lengths.push(leaf.len()));
    assert_eq!(lengths, [6, 3, 1, 4, 4]);
    assert_eq!(p.scalar_count(), 18);
    let values = flat(&p);
    assert_eq!(&values[..6], p.w.as_slice());
    assert_eq!(&values[6..9], p.inner.b.as_slice());
    assert_eq!(values[9], 3.0);
    assert_eq!(&values[10..14], p.layers[0].as_slice());
    let mut paths = Vec::new();
    p.describe_leaves(&mut "p".to_string(), &mut |path, dims| {
        paths.push(format!("{path} {}x{}", dims.0, dims.1))
    });
    assert_eq!(
        paths,
        [
            "p.w 2x3",
            "p.inner.b 1x3",
            "p.inner.scale 1x1",
            "p.layers[0] 2x2",
            "p.layers[1] 2x2"
        ]
    );
}

#[test]
fn zeros_keep_the_structure_and_the_skipped_fields() {
    let p = model();
    let z = p.zeros_like();
    assert_eq!(z.w, DMatrix::zeros(2, 3));
    assert_eq!(z.inner.b, RowDVector::zeros(3));
    assert_eq!(z.inner.scale, 0.0);
    assert_eq!(z.layers, vec![SMatrix::<f64, 2, 2>::zeros(); 2]);
    assert_eq!(z.label, "net");
    let except = p.zeros_except(&["w", "layers"]);
    assert_eq!((except.w.shape(), except.layers.len()), ((0, 0), 0));
    assert_eq!(except.inner, p.inner.zeros_like());
}

#[test]
fn add_scaled_is_an_axpy_on_every_leaf() {
    let mut p = model();
    let g = model();
    let before = flat(&p);
    p.add_scaled(-0.25, &g);
    let after = flat(&p);
    for (a, b) in after.iter().zip(&before) {
        assert_eq!(*a, b - 0.25 * b);
    }
    assert_eq!(p.label, "net");
}

#[test]
#[should_panic(expected = "different shapes")]
fn add_scaled_refuses_another_shape() {
    let mut p = DMatrix::<f64>::zeros(2, 2);
    p.add_scaled(1.0, &DMatrix::zeros(2, 3));
}

#[test]
#[should_panic(expected = "different lengths")]
fn add_scaled_refuses_another_length() {
    let mut p = vec![1.0f64, 2.0];
    p.add_scaled(1.0, &vec![1.0]);
}

#[test]
fn f32_leaves_and_static_vectors() {
    let mut p: Vec<SVector<f32, 3>> = vec![SVector::from_element(1.0); 2];
    assert_eq!(p.scalar_count(), 6);
    p.for_each_leaf_mut(&mut |leaf| leaf[0] = 5.0);
    assert_eq!(p[1][0], 5.0f32);
    let mut s = 2.0f32;
    s.add_scaled(0.5, &4.0);
    assert_eq!(s, 4.0);
    let v = DVector::<f32>::from_element(4, 1.0);
    assert_eq!(v.zeros_like(), DVector::zeros(4));
}

/// The optimizers' `update` on a structure gives what their slice API gives on the same
/// leaves listed by hand, step after step (state kept per leaf).
#[test]
fn update_matches_the_slice_api() {
    fn compare(mut by_update: impl Optimizer, mut by_step: impl Optimizer) {
        let (mut p, mut q) = (model(), model());
        for step in 0..3 {
            let mut g = model();
            g.add_scaled(0.3 * step as f64 - 1.0, &model());
            by_update.update(&mut p, &g);
            let [l0, l1] = &mut q.layers[..] else {
                unreachable!()
            };
            by_step.step(
                vec![
                    q.w.as_mut_slice(),
                    q.inner.b.as_mut_slice(),
                    std::slice::from_mut(&mut q.inner.scale),
                    l0.as_mut_slice(),
                    l1.as_mut_slice(),
                ],
                vec![
                    g.w.as_slice(),
                    g.inner.b.as_slice(),
                    std::slice::from_ref(&g.inner.scale),
                    g.layers[0].as_slice(),
                    g.layers[1].as_slice(),
                ],
            );
            assert_eq!(p, q, "step {step}");
        }
        assert_ne!(p, model(), "the parameters moved");
    }
    compare(Sgd::new(0.1), Sgd::new(0.1));
    compare(Momentum::new(0.1, 0.9), Momentum::new(0.1, 0.9));
    compare(Adam::new(0.1), Adam::new(0.1));
}

/// A third-party optimizer gets `update` from its `step`.
#[test]
fn the_default_update_goes_through_step() {
    struct Halve;
    impl Optimizer for Halve {
        fn step(&mut self, params: Vec<&mut [f64]>, _grads: Vec<&[f64]>) {
            params.into_iter().flatten().for_each(|p| *p *= 0.5);
        }
    }
    let mut p = vec![
        DVector::from_vec(vec![2.0f32, 4.0]),
        DVector::from_vec(vec![8.0]),
    ];
    let g = p.zeros_like();
    Halve.update(&mut p, &g);
    assert_eq!(flat(&p), [1.0, 2.0, 4.0]);
}

#[test]
fn optimizers_update_f32_parameters() {
    let mut p = DVector::from_vec(vec![1.0f32, -1.0]);
    let g = DVector::from_vec(vec![0.5f32, -0.5]);
    let mut adam = Adam::new(0.1);
    adam.update(&mut p, &g);
    // The first step of Adam moves each parameter by about η against the sign of its gradient.
    assert!(
        (p[0] - 0.9).abs() < 1e-6 && (p[1] + 0.9).abs() < 1e-6,
        "{p}"
    );
    let mut momentum = Momentum::new(0.5, 0.9);
    momentum.update(&mut p, &g);
    assert!((p[0] - 0.65).abs() < 1e-6, "{p}");
}

#[test]
#[should_panic(expected = "different layout")]
fn update_refuses_a_changed_layout() {
    let mut adam = Adam::new(0.1);
    let mut p = vec![DVector::from_element(2, 1.0)];
    let g = p.clone();
    adam.update(&mut p, &g);
    let mut q = vec![DVector::from_element(2, 1.0), DVector::from_element(1, 1.0)];
    let g = q.clone();
    adam.update(&mut q, &g);
}

/// f(p) = scale·‖w·l₀ + b‖² summed, a function of every leaf but the skipped one.
fn loss(p: &Model) -> f64 {
    let l = DMatrix::from_fn(3, 2, |i, j| {
        p.layers[0][(i % 2, j)] + p.layers[1][(j, i % 2)]
    });
    let y = &p.w * l;
    p.inner.scale * (y.norm_squared() + p.inner.b.norm_squared())
}

/// The gradient of [`loss`], by hand.
fn loss_grad(p: &Model) -> Model {
    let l = DMatrix::from_fn(3, 2, |i, j| {
        p.layers[0][(i % 2, j)] + p.layers[1][(j, i % 2)]
    });
    let y = &p.w * &l;
    let dy = &y * (2.0 * p.inner.scale);
    let dl = p.w.transpose() * &dy;
    let mut g = p.zeros_like();
    g.w = &dy * l.transpose();
    g.inner.b = &p.inner.b * (2.0 * p.inner.scale);
    g.inner.scale = y.norm_squared() + p.inner.b.norm_squared();
    for i in 0..3 {
        for j in 0..2 {
            g.layers[0][(i % 2, j)] += dl[(i, j)];
            g.layers[1][(j, i % 2)] += dl[(i, j)];
        }
    }
    g
}

#[test]
fn gradcheck_checks_every_leaf_by_its_path() {
    let p = model();
    let report = GradCheck::new()
        .wrt_params("p", &p, &loss_grad(&p), loss)
        .run();
    report.assert_passed();
    let names: Vec<&str> = report.params.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "p.w",
            "p.inner.b",
            "p.inner.scale",
            "p.layers[0]",
            "p.layers[1]"
        ]
    );
    assert_eq!(report.params[0].dims, (2, 3));

    // A gradient wrong in one element of one leaf fails there, and only there.
    let mut wrong = loss_grad(&p);
    wrong.layers[1][(1, 0)] += 0.5;
    let report = GradCheck::new().wrt_params("p", &p, &wrong, loss).run();
    let failures: Vec<&str> = report.failures().iter().map(|c| c.name.as_str()).collect();
    assert_eq!(failures, ["p.layers[1]"]);
    assert_eq!(report.get("p.layers[1]").map(|c| c.worst_at), Some((1, 0)));
}
