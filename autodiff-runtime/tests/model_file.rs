//! Saving and loading a model: bit-identical reloads, atomic writes, and a clear error (never
//! a panic) for a missing, truncated, corrupt or mismatched file.

use autodiff_runtime::init::{seeded_rng, Init};
use autodiff_runtime::nn::{Activation, Layer, Mlp, ModelFileError};
use nalgebra::DMatrix;
use std::path::{Path, PathBuf};

/// A fresh, empty directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("model_file")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// A model with values that a careless format would not read back exactly.
fn awkward_model(activation: Activation) -> Mlp {
    let mut mlp = Mlp::new(&[3, 5, 4, 2], activation, Init::He, &mut seeded_rng(1));
    let specials = [
        0.1 + 0.2,
        -0.0,
        5e-324,
        1.7976931348623157e308 / 1e300,
        1.0 / 3.0,
        -2.2250738585072014e-308,
    ];
    for (p, s) in mlp
        .parameters_mut()
        .into_iter()
        .zip(specials.iter().cycle())
    {
        p[0] = *s;
    }
    mlp
}

fn bits(mlp: &Mlp) -> Vec<u64> {
    mlp.parameters()
        .into_iter()
        .flatten()
        .map(|v| v.to_bits())
        .collect()
}

#[test]
fn a_reloaded_model_is_bit_identical() {
    let dir = scratch("roundtrip");
    let x = DMatrix::from_fn(7, 3, |i, j| (i as f64 * 0.37 - j as f64 * 1.1).sin());
    for activation in Activation::ALL {
        let mlp = awkward_model(activation);
        let path = dir.join("model.json");
        mlp.save(&path).unwrap();
        let back = Mlp::load(&path).unwrap();
        assert_eq!(bits(&back), bits(&mlp), "{}", activation.name());
        assert_eq!(back.sizes(), mlp.sizes());
        let (a, b) = (mlp.forward(&x), back.forward(&x));
        assert!(a
            .iter()
            .zip(b.iter())
            .all(|(a, b)| a.to_bits() == b.to_bits()));
        assert_eq!(back, mlp);
    }
}

#[test]
fn the_file_is_the_documented_json() {
    let mlp = Mlp::new(
        &[2, 3, 2],
        Activation::LeakyRelu { alpha: 0.01 },
        Init::He,
        &mut seeded_rng(2),
    );
    let json: serde_json::Value = serde_json::from_str(&mlp.to_json().unwrap()).unwrap();
    assert_eq!(json["format"], "autodiff-mlp");
    assert_eq!(json["version"], 1);
    assert_eq!(json["sizes"], serde_json::json!([2, 3, 2]));
    let layer = &json["layers"][0];
    assert_eq!(layer["kind"], "dense");
    assert_eq!(
        layer["activation"],
        serde_json::json!({"kind": "leaky_relu", "alpha": 0.01})
    );
    assert_eq!(
        (layer["w"]["rows"].as_u64(), layer["w"]["cols"].as_u64()),
        (Some(2), Some(3))
    );
    // Row-major: the second number is w[(0, 1)].
    let Layer::Dense { w, .. } = &mlp.layers()[0] else {
        unreachable!()
    };
    assert_eq!(layer["w"]["data"][1].as_f64(), Some(w[(0, 1)]));
    assert_eq!(json["layers"][1]["activation"]["kind"], "identity");
}

#[test]
fn saving_replaces_the_file_atomically_and_leaves_no_temporary_file() {
    let dir = scratch("atomic");
    let path = dir.join("model.json");
    let first = Mlp::new(
        &[2, 3, 2],
        Activation::Tanh,
        Init::Xavier,
        &mut seeded_rng(3),
    );
    let second = Mlp::new(&[2, 4, 2], Activation::Relu, Init::He, &mut seeded_rng(4));
    first.save(&path).unwrap();
    second.save(&path).unwrap();
    assert_eq!(files_in(&dir), ["model.json"]);
    assert_eq!(Mlp::load(&path).unwrap(), second);

    // A model that cannot be saved leaves the old file as it was, and no temporary file.
    let before = std::fs::read(&path).unwrap();
    let mut broken = first.clone();
    broken.parameters_mut()[1][0] = f64::NAN;
    let err = broken.save(&path).unwrap_err();
    assert!(matches!(err, ModelFileError::NonFinite { .. }));
    assert!(
        err.to_string()
            .contains("parameter 1 of layer 0 has the non-finite element NaN"),
        "{err}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), before);
    assert_eq!(files_in(&dir), ["model.json"]);

    // A rename that fails (the destination is a directory) removes the temporary file.
    let occupied = dir.join("occupied");
    std::fs::create_dir(&occupied).unwrap();
    std::fs::write(occupied.join("keep"), b"x").unwrap();
    let err = first.save(&occupied).unwrap_err();
    assert!(
        matches!(
            err,
            ModelFileError::Io {
                action: "replace",
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(files_in(&dir), ["model.json", "occupied"]);

    // A missing directory is an I/O error naming the file.
    let err = first.save(dir.join("no/such/dir/model.json")).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("cannot create a temporary file for model file"),
        "{err}"
    );
}

/// Writes `contents` as a model file and loads it.
fn load_text(dir: &Path, contents: &[u8]) -> Result<Mlp, ModelFileError> {
    let path = dir.join("model.json");
    std::fs::write(&path, contents).unwrap();
    Mlp::load(&path)
}

fn saved_json() -> String {
    Mlp::new(&[2, 3, 2], Activation::Relu, Init::He, &mut seeded_rng(5))
        .to_json()
        .unwrap()
}

#[test]
fn a_missing_file_is_an_io_error() {
    let dir = scratch("missing");
    let err = Mlp::load(dir.join("absent.json")).unwrap_err();
    assert!(matches!(err, ModelFileError::Io { action: "read", .. }));
    assert!(
        err.to_string().starts_with("cannot read model file"),
        "{err}"
    );
    assert!(std::error::Error::source(&err).is_some());
}

#[test]
fn a_truncated_file_is_reported_as_truncated() {
    let dir = scratch("truncated");
    let json = saved_json();
    for cut in [0, 1, json.len() / 3, json.len() / 2, json.len() - 2] {
        let err = load_text(&dir, &json.as_bytes()[..cut]).unwrap_err();
        assert!(
            matches!(err, ModelFileError::Truncated { .. }),
            "cut at {cut}: {err}"
        );
        assert!(
            err.to_string()
                .ends_with("is truncated: it ends in the middle of its JSON"),
            "{err}"
        );
    }
}

#[test]
fn a_corrupt_file_is_reported_with_its_position() {
    let dir = scratch("corrupt");
    let json = saved_json();
    let garbled = json.replacen("\"rows\": 2", "\"rows\": two", 1);
    let err = load_text(&dir, garbled.as_bytes()).unwrap_err();
    assert!(matches!(err, ModelFileError::Corrupt { .. }), "{err:?}");
    assert!(err.to_string().contains("line "), "{err}");
    let err = load_text(&dir, b"\x89PNG\r\n\x1a\n\0\0\0").unwrap_err();
    assert!(matches!(err, ModelFileError::Corrupt { .. }), "{err:?}");
    let extra = json.replacen("\"sizes\"", "\"colour\": 1, \"sizes\"", 1);
    let err = load_text(&dir, extra.as_bytes()).unwrap_err();
    assert!(err.to_string().contains("unknown field `colour`"), "{err}");
    let activation = json.replacen("\"relu\"", "\"swish\"", 1);
    let err = load_text(&dir, activation.as_bytes()).unwrap_err();
    assert!(err.to_string().contains("swish"), "{err}");
}

#[test]
fn another_format_or_version_is_refused_by_name() {
    let dir = scratch("version");
    let json = saved_json();
    let v2 = json.replacen("\"version\": 1", "\"version\": 2", 1);
    let err = load_text(&dir, v2.as_bytes()).unwrap_err();
    assert!(
        matches!(err, ModelFileError::UnsupportedVersion { found: 2, .. }),
        "{err:?}"
    );
    assert!(err
        .to_string()
        .ends_with("has format version 2, but this version of autodiff reads version 1 only"));
    // A future version is refused even if the rest has changed beyond recognition.
    let err = load_text(
        &dir,
        br#"{"format": "autodiff-mlp", "version": 7, "graph": {}}"#,
    )
    .unwrap_err();
    assert!(
        matches!(err, ModelFileError::UnsupportedVersion { found: 7, .. }),
        "{err:?}"
    );
    let err = load_text(&dir, br#"{"name": "something else"}"#).unwrap_err();
    assert!(
        err.to_string().ends_with(
            "is not an autodiff model file: its format is \"\", expected \"autodiff-mlp\""
        ),
        "{err}"
    );
    let no_version = json.replacen("\"version\": 1,", "", 1);
    let err = load_text(&dir, no_version.as_bytes()).unwrap_err();
    assert!(
        err.to_string()
            .ends_with("is corrupt: the `version` field is missing"),
        "{err}"
    );
}

#[test]
fn parameters_of_the_wrong_shape_are_refused_with_the_layer_named() {
    let dir = scratch("shapes");
    let file = |sizes: &str, layers: &str| {
        format!(
            r#"{{"format": "autodiff-mlp", "version": 1, "sizes": {sizes}, "layers": [{layers}]}}"#
        )
    };
    let dense = |rows: usize, cols: usize, data: usize, bias: usize| {
        format!(
            r#"{{"kind": "dense", "activation": {{"kind": "relu"}}, "w": {{"rows": {rows}, "cols": {cols}, "data": {:?}}}, "b": {:?}}}"#,
            vec![0.5; data],
            vec![0.0; bias]
        )
    };
    let ok = file(
        "[2, 3, 1]",
        &format!("{}, {}", dense(2, 3, 6, 3), dense(3, 1, 3, 1)),
    );
    assert!(load_text(&dir, ok.as_bytes()).is_ok());
    let cases = [
        (
            file(
                "[2, 3, 1]",
                &format!("{}, {}", dense(2, 3, 5, 3), dense(3, 1, 3, 1)),
            ),
            "layer 0: w is declared 2x3 but holds 5 numbers",
        ),
        (
            file(
                "[2, 3, 1]",
                &format!("{}, {}", dense(2, 3, 6, 2), dense(3, 1, 3, 1)),
            ),
            "layer 0: the bias b has 2 elements but the weights have 3 columns",
        ),
        (
            file(
                "[2, 3, 1]",
                &format!("{}, {}", dense(2, 3, 6, 3), dense(4, 1, 4, 1)),
            ),
            "layer 1: takes 4 inputs but layer 0 has 3 outputs",
        ),
        (
            file(
                "[2, 3, 2]",
                &format!("{}, {}", dense(2, 3, 6, 3), dense(3, 1, 3, 1)),
            ),
            "the layers have sizes [2, 3, 1] but the file declares [2, 3, 2]",
        ),
        (file("[]", ""), "layer 0: an Mlp needs at least one layer"),
        (
            file("[0, 0]", &dense(0, 0, 0, 0)),
            "layer 0: the weights are 0x0",
        ),
        (
            file("[2, 3]", &dense(18446744073709551615, 2, 0, 2)),
            "holds 0 numbers",
        ),
    ];
    for (text, want) in cases {
        let err = load_text(&dir, text.as_bytes()).unwrap_err();
        assert!(matches!(err, ModelFileError::Shape { .. }), "{err:?}");
        assert!(err.to_string().contains(want), "{err}\nwanted {want}");
    }
}

#[test]
fn no_prefix_and_no_flipped_byte_makes_loading_panic() {
    let json = saved_json();
    let bytes = json.as_bytes();
    for cut in 0..bytes.len() {
        assert!(
            Mlp::from_json_bytes(&bytes[..cut], Path::new("m.json")).is_err(),
            "a prefix of {cut} bytes loaded"
        );
    }
    let mut rng = seeded_rng(6);
    for _ in 0..2000 {
        let mut copy = bytes.to_vec();
        let i = rand::Rng::random_range(&mut rng, 0..copy.len());
        copy[i] = rand::Rng::random(&mut rng);
        // Either an error or a model (a changed digit is still a model): never a panic.
        let _ = Mlp::from_json_bytes(&copy, Path::new("m.json"));
    }
}
