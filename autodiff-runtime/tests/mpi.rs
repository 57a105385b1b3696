//! Training over MPI (`distributed`, feature `mpi`) under `mpirun -np 2`: two ranks, each on
//! its half of the data, reach the parameters of one process on the whole batch to rounding
//! and the same bits as each other; a rank that hangs or leaves makes the other abort with a
//! message instead of waiting forever.
//!
//! This file is its own launcher (a test without libtest's harness, since MPI is initialized
//! once per process): run by `cargo test -p autodiff-runtime --features mpi --test mpi`, it
//! starts `mpirun -np 2` on its own executable once per scenario, the scenario in the
//! environment, and checks what the job printed and how it ended. `MPIRUN` names another
//! launcher than `mpirun`.

use autodiff_runtime::data::{spiral, Dataset};
use autodiff_runtime::distributed::{self, Cluster};
use autodiff_runtime::init::{seeded_rng, Init};
use autodiff_runtime::nn::{Activation, Loss, Mlp};
use autodiff_runtime::optim::{Adam, Momentum, Optimizer, Sgd};
use autodiff_runtime::train::{train, History, Progress, TrainConfig, TrainError};
use nalgebra::DMatrix;
use std::fs::File;
use std::process::{Command, ExitStatus};
use std::time::{Duration, Instant};

/// The scenario a rank runs; unset in the launcher.
const SCENARIO: &str = "AUTODIFF_MPI_TEST_SCENARIO";

fn main() {
    match std::env::var(SCENARIO) {
        Ok(scenario) => rank(&scenario),
        Err(_) => launcher(),
    }
}

// ---------------------------------------------------------------------------------------
// The launcher.

fn launcher() {
    // Three ranks: a ring for every buffer (not a power of two), chunks of odd lengths.
    for ranks in [2, 1, 3] {
        let equal = job("equal", "60", ranks);
        assert!(equal.status.success(), "{ranks} ranks failed:\n{equal}");
        for r in 0..ranks {
            assert!(
                equal.stdout.contains(&format!("rank {r} of {ranks}: ok")),
                "{equal}"
            );
        }
        let plural = if ranks == 1 { "" } else { "s" };
        println!(
            "mpi: {ranks} rank{plural} equal one process on the whole batch, bit-identical to \
             each other"
        );
    }

    for scenario in ["hang", "leave"] {
        let job = job(scenario, "2", 2);
        assert!(
            !job.status.success(),
            "{scenario}: the job succeeded:\n{job}"
        );
        assert!(
            job.stderr.contains("rank 0 of 2: all-reduce 1")
                && job.stderr.contains("got nothing from rank 1 within 2s")
                && job.stderr.contains("AUTODIFF_MPI_TIMEOUT"),
            "{scenario}: no timeout message from rank 0:\n{job}"
        );
        assert!(!job.stdout.contains("returned"), "{job}");
        println!("mpi: a rank that {scenario}s makes the other abort with a message");
    }
}

/// What a job printed and how it ended.
struct Job {
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

impl std::fmt::Display for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (status, out, err) = (self.status, &self.stdout, &self.stderr);
        write!(f, "{status}\n--- stdout\n{out}--- stderr\n{err}")
    }
}

/// Runs `scenario` under `mpirun -np ranks` with `AUTODIFF_MPI_TIMEOUT=timeout`; a job that
/// has not ended after two minutes is killed, and that fails the test.
fn job(scenario: &str, timeout: &str, ranks: usize) -> Job {
    let mpirun = std::env::var("MPIRUN").unwrap_or_else(|_| "mpirun".into());
    let version = Command::new(&mpirun).arg("--version").output();
    let version = version.unwrap_or_else(|e| panic!("cannot run `{mpirun} --version`: {e}"));
    let mut command = Command::new(&mpirun);
    command.args(["-np", &ranks.to_string()]);
    if String::from_utf8_lossy(&version.stdout).contains("Open MPI") {
        // Open MPI refuses to start as root without the first, and more ranks than cores
        // without the second.
        command.args(["--allow-run-as-root", "--oversubscribe"]);
    }
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
    let (out, err) = (
        dir.join(format!("mpi-{scenario}-{ranks}.out")),
        dir.join(format!("mpi-{scenario}-{ranks}.err")),
    );
    let exe = std::env::current_exe().expect("the test's executable");
    let mut child = command
        .arg(exe)
        .env(SCENARIO, scenario)
        .env("AUTODIFF_MPI_TIMEOUT", timeout)
        .stdout(File::create(&out).expect("a file for stdout"))
        .stderr(File::create(&err).expect("a file for stderr"))
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start `{mpirun}`: {e}"));
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("the job's status") {
            break status;
        }
        if start.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "{scenario}: the job still ran after two minutes:\n{}\n{}",
                std::fs::read_to_string(&out).unwrap_or_default(),
                std::fs::read_to_string(&err).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Job {
        status,
        stdout: std::fs::read_to_string(&out).expect("stdout"),
        stderr: std::fs::read_to_string(&err).expect("stderr"),
    }
}

// ---------------------------------------------------------------------------------------
// The ranks.

fn rank(scenario: &str) {
    let mut cluster = Cluster::init().expect("MPI starts");
    let (rank, size) = (cluster.rank(), cluster.size());
    match scenario {
        "equal" => equal(&mut cluster),
        "hang" if rank == 1 => loop {
            std::thread::sleep(Duration::from_secs(1));
        },
        "leave" if rank == 1 => return,
        _ => {
            cluster.all_reduce_sum(&mut [1.0]);
            println!("rank {rank}: the all-reduce returned");
            return;
        }
    }
    println!("rank {rank} of {size}: ok");
}

/// The largest difference between `a` and `b`, relative to the largest magnitude in `b`.
fn relative_error(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    let scale = b.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let diff = a
        .iter()
        .zip(b)
        .fold(0.0f64, |m, (x, y)| m.max((x - y).abs()));
    diff / scale.max(f64::MIN_POSITIVE)
}

fn equal(cluster: &mut Cluster) {
    let data = spiral(60, 3, &mut seeded_rng(0));
    let rows: Vec<usize> = cluster.shard(data.len()).collect();
    let mine = data.select(&rows);
    let model = Mlp::new(
        &[2, 32, 16, 3],
        Activation::Relu,
        Init::He,
        &mut seeded_rng(1),
    );
    all_reduce_sums(cluster);
    one_step(cluster, &model, &data, &mine);
    a_rank_without_samples(cluster);
    full_batch_training(cluster, &model, &data, &mine);
    minibatches(cluster, &model, &mine);
    owned_chunks(cluster, &data, &mine);
    if cluster.size() > 1 {
        different_models_are_refused(cluster, &mine);
    }
}

/// Buffers small enough for recursive doubling (on two ranks) and larger ones (the ring),
/// of lengths the ranks do not divide: the sum over the ranks, the same bits on every rank.
fn all_reduce_sums(cluster: &mut Cluster) {
    let (r, n) = (cluster.rank(), cluster.size());
    let value =
        |rank: usize, i: usize| ((i * 7 + rank * 13) % 101) as f64 / 3.0 + 0.1 * rank as f64;
    for len in [1, 7, 32_768, 32_769, 100_003] {
        let mut buf: Vec<f64> = (0..len).map(|i| value(r, i)).collect();
        cluster.all_reduce_sum(&mut buf);
        for (i, b) in buf.iter().enumerate() {
            let expected: f64 = (0..n).map(|rank| value(rank, i)).sum();
            assert!(
                (b - expected).abs() <= 1e-14 * expected,
                "length {len}, element {i}: {b} against {expected}"
            );
        }
        assert!(cluster.agree(&buf), "length {len}: the ranks differ");
    }
}

/// One gradient: the ranks' means summed by `mean_of_slices` against the whole batch's
/// gradient (1e-12 relative), every loss; `mean_of` on structured parameters likewise.
fn one_step(cluster: &mut Cluster, model: &Mlp, data: &Dataset, mine: &Dataset) {
    for loss in [Loss::SoftmaxCrossEntropy, Loss::Hinge, Loss::SumOfSquares] {
        let (value, whole) = model.loss_and_grad(&data.x, &data.labels, loss, 0.0);
        let (v, mut grad) = model.loss_and_grad(&mine.x, &mine.labels, loss, 0.0);
        let (v, total) = cluster.mean_of_slices(mine.len(), v, &mut grad.parameters_mut());
        assert_eq!(total, data.len());
        assert!(
            (v - value).abs() <= 1e-12 * value.abs(),
            "{loss:?}: {v} against {value}"
        );
        for (i, (g, w)) in grad.parameters().iter().zip(whole.parameters()).enumerate() {
            let err = relative_error(g, w);
            assert!(
                err <= 1e-12,
                "{loss:?}: parameter {i}: relative error {err:e}"
            );
        }
        assert!(
            cluster.agree(&grad.parameters().concat()),
            "{loss:?}: the ranks differ"
        );

        // The same through `mean_of`, on the weight matrices as a `Vec<DMatrix>`.
        let (_, grad) = model.loss_and_grad(&mine.x, &mine.labels, loss, 0.0);
        let mut weights: Vec<DMatrix<f64>> = grad.weights.clone();
        cluster.mean_of(mine.len(), v, &mut weights);
        for (g, w) in weights.iter().zip(whole.parameters().iter().step_by(2)) {
            assert!(
                relative_error(g.as_slice(), w) <= 1e-12,
                "{loss:?}: mean_of"
            );
        }
    }
}

/// Rank 1 has no samples: what it passes (NaN) does not reach the mean of the others.
fn a_rank_without_samples(cluster: &mut Cluster) {
    let r = cluster.rank();
    let count = |r: usize| if r == 1 { 0 } else { r + 1 };
    let (value, mut grad) = if r == 1 {
        (f64::NAN, vec![f64::NAN; 3])
    } else {
        (1.0, vec![r as f64 + 10.0; 3])
    };
    let (mean, total) = cluster.mean_of_slices(count(r), value, &mut [grad.as_mut_slice()]);
    let weights: Vec<usize> = (0..cluster.size()).map(count).collect();
    let expected_total: usize = weights.iter().sum();
    let expected = (0..cluster.size())
        .filter(|&r| r != 1)
        .map(|r| weights[r] as f64 * (r as f64 + 10.0))
        .sum::<f64>()
        / expected_total as f64;
    assert_eq!(total, expected_total);
    assert_eq!(mean, 1.0);
    assert!(
        grad.iter()
            .all(|g| (g - expected).abs() <= 1e-15 * expected),
        "{grad:?}"
    );
}

fn config(batch_size: usize, shards: usize) -> TrainConfig {
    TrainConfig {
        epochs: 25,
        batch_size,
        lambda: 1e-3,
        seed: 3,
        progress: Progress::Silent,
        shards,
        ..TrainConfig::default()
    }
}

/// Full-batch training on the ranks against one process on the whole data: the same to
/// rounding; the ranks' parameters and histories the same bits.
fn full_batch_training(cluster: &mut Cluster, start: &Mlp, data: &Dataset, mine: &Dataset) {
    let mut alone = start.clone();
    let reference = train(&mut alone, data, &mut Adam::new(0.01), &config(0, 1)).unwrap();
    for shards in [1, 2] {
        let mut model = start.clone();
        let history = distributed::train(
            cluster,
            &mut model,
            mine,
            &mut Adam::new(0.01),
            &config(0, shards),
        )
        .unwrap();
        let (first, reference_first) = (history.step_losses[0], reference.step_losses[0]);
        assert!((first - reference_first).abs() <= 1e-12 * reference_first);
        for (x, y) in history.step_losses.iter().zip(&reference.step_losses) {
            assert!(
                (x - y).abs() <= 1e-9 * y.abs(),
                "{shards} shards: loss {x} against {y}"
            );
        }
        assert_eq!(history.step_losses.len(), reference.step_losses.len());
        for (i, (p, q)) in model
            .parameters()
            .iter()
            .zip(alone.parameters())
            .enumerate()
        {
            let err = relative_error(p, q);
            assert!(
                err < 1e-9,
                "{shards} shards: parameter {i}: relative error {err:e}"
            );
        }
        let last = history.last().unwrap();
        assert_eq!(last.accuracy, reference.last().unwrap().accuracy);
        assert!(
            cluster.agree(&model.parameters().concat()),
            "the ranks' parameters differ"
        );
        assert!(
            cluster.agree(&losses(&history)),
            "the ranks' histories differ"
        );
    }
}

fn losses(history: &History) -> Vec<f64> {
    history.step_losses.clone()
}

/// Minibatches: two runs give the same bits, the ranks agree, the loss goes down.
fn minibatches(cluster: &mut Cluster, start: &Mlp, mine: &Dataset) {
    let run = |cluster: &mut Cluster| {
        let mut model = start.clone();
        let config = config(40, 2);
        let history =
            distributed::train(cluster, &mut model, mine, &mut Adam::new(0.01), &config).unwrap();
        (model, history)
    };
    let (a, history) = run(cluster);
    let (b, again) = run(cluster);
    assert_eq!(a, b);
    assert_eq!(history, again);
    assert_eq!(history.step_losses.len(), 25 * 5); // 180 samples in batches of 40: 5 steps
    assert!(cluster.agree(&a.parameters().concat()));
    let epochs = &history.epochs;
    assert!(epochs[24].loss < 0.8 * epochs[0].loss, "{:?}", epochs);
}

/// An optimizer that does not say it is elementwise: every rank updates every parameter
/// after summing the whole gradient.
#[derive(Clone)]
struct Whole<O>(O);

impl<O: Optimizer> Optimizer for Whole<O> {
    fn step(&mut self, params: Vec<&mut [f64]>, grads: Vec<&[f64]>) {
        self.0.step(params, grads);
    }
}

fn bits(model: &Mlp) -> Vec<u64> {
    let values = model.parameters().concat();
    values.iter().map(|v| v.to_bits()).collect()
}

/// A model whose gradient goes by the ring (33,243 parameters, an odd number, above the
/// buffers that go by recursive doubling): with an elementwise optimizer each rank updates
/// its chunk only, and the parameters are those of every rank updating all of them, bit for
/// bit on one or two ranks (on more, some sums are added in another order: to rounding),
/// also when a second run goes on with the optimizer's state; the losses equal to rounding;
/// the full batch equals one process.
fn owned_chunks(cluster: &mut Cluster, data: &Dataset, mine: &Dataset) {
    let start = Mlp::new(
        &[2, 200, 160, 3],
        Activation::Relu,
        Init::He,
        &mut seeded_rng(2),
    );
    for batch in [0, 40] {
        owned_against_whole(cluster, &start, data, mine, Sgd::new(0.1), batch);
        owned_against_whole(cluster, &start, data, mine, Momentum::new(0.05, 0.9), batch);
        owned_against_whole(cluster, &start, data, mine, Adam::new(0.01), batch);
    }
    diverging(cluster, &start, mine);
}

/// A step that overflows stops every rank at the same step with the same error, with the
/// owned chunks as with the whole buffer, and leaves the ranks' parameters the same.
fn diverging(cluster: &mut Cluster, start: &Mlp, mine: &Dataset) {
    let mut run =
        |optimizer: &mut dyn FnMut(&mut Cluster, &mut Mlp) -> Result<History, TrainError>| {
            let mut model = start.clone();
            let error = optimizer(cluster, &mut model).unwrap_err();
            assert!(cluster.agree(&model.parameters().concat()));
            match error {
                TrainError::NonFinite {
                    what, step, epoch, ..
                } => (what, step, epoch),
                other => panic!("expected a non-finite step, got {other:?}"),
            }
        };
    let config = config(40, 1);
    let owned = run(&mut |cluster, model| {
        distributed::train(cluster, model, mine, &mut Sgd::new(1e200), &config)
    });
    let whole = run(&mut |cluster, model| {
        distributed::train(cluster, model, mine, &mut Whole(Sgd::new(1e200)), &config)
    });
    assert_eq!(owned, whole);
}

fn owned_against_whole<O: Optimizer + Clone>(
    cluster: &mut Cluster,
    start: &Mlp,
    data: &Dataset,
    mine: &Dataset,
    optimizer: O,
    batch: usize,
) {
    assert!(optimizer.elementwise());
    let config = TrainConfig {
        epochs: 3,
        ..config(batch, 1)
    };
    let (mut owned, mut owned_optimizer) = (start.clone(), optimizer.clone());
    let (mut whole, mut whole_optimizer) = (start.clone(), Whole(optimizer.clone()));
    let mut losses = Vec::new();
    for _ in 0..2 {
        let history =
            distributed::train(cluster, &mut owned, mine, &mut owned_optimizer, &config).unwrap();
        let reference =
            distributed::train(cluster, &mut whole, mine, &mut whole_optimizer, &config).unwrap();
        if cluster.size() <= 2 {
            assert_eq!(bits(&owned), bits(&whole), "batch {batch}");
        } else {
            let err = relative_error(&owned.parameters().concat(), &whole.parameters().concat());
            assert!(err < 1e-9, "batch {batch}: relative error {err:e}");
        }
        for (x, y) in history.step_losses.iter().zip(&reference.step_losses) {
            assert!(
                (x - y).abs() <= 1e-12 * y.abs(),
                "batch {batch}: {x} against {y}"
            );
        }
        assert!(cluster.agree(&owned.parameters().concat()));
        assert!(cluster.agree(&history.step_losses));
        losses.extend(history.step_losses);
    }
    if batch == 0 {
        let (mut alone, mut optimizer) = (start.clone(), optimizer);
        let reference = train(&mut alone, data, &mut optimizer, &config).unwrap();
        let reference = [reference.step_losses.clone(), {
            train(&mut alone, data, &mut optimizer, &config)
                .unwrap()
                .step_losses
        }]
        .concat();
        for (x, y) in losses.iter().zip(&reference) {
            assert!((x - y).abs() <= 1e-9 * y.abs(), "loss {x} against {y}");
        }
        let err = relative_error(&owned.parameters().concat(), &alone.parameters().concat());
        assert!(err < 1e-9, "relative error {err:e}");
    }
}

/// Ranks that start from different models get an error, all of them, and no step.
fn different_models_are_refused(cluster: &mut Cluster, mine: &Dataset) {
    let seed = cluster.rank() as u64;
    let mut model = Mlp::new(
        &[2, 8, 3],
        Activation::Relu,
        Init::He,
        &mut seeded_rng(seed),
    );
    let error = distributed::train(
        cluster,
        &mut model,
        mine,
        &mut Adam::new(0.01),
        &config(0, 1),
    );
    match error {
        Err(TrainError::Data(message)) => assert!(message.contains("different parameters")),
        other => panic!("expected an error, got {other:?}"),
    }
}
