//! `train --solver`: the reduced solver writes the full solver's trajectory to rounding on the same seeded network.
//!
//! The reduced solver also refuses what it cannot run.

mod common;

use common::{arg, assert_user_error, stdout, temp, write_sphere, xtask};

fn losses(path: &str) -> Vec<(f64, f64, f64)> {
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    v["samples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["loss"].as_f64().unwrap(),
                s["pattern_change_fraction"].as_f64().unwrap(),
                s["max_weight_distance"].as_f64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn reduced_and_full_train_write_the_same_trajectory() {
    let dir = temp("solver");
    write_sphere(&dir, 3, 3);
    let (x, y) = (arg(&dir, "x.npy"), arg(&dir, "y.npy"));
    for method in ["gd", "flow"] {
        let mut runs = Vec::new();
        for solver in ["full", "reduced"] {
            let out = arg(&dir, &format!("{method}-{solver}.json"));
            let o = xtask(&[
                "train",
                "--x",
                &x,
                "--y",
                &y,
                "--width",
                "20000",
                "--method",
                method,
                "--eta",
                "0.5",
                "--iterations",
                "40",
                "--horizon",
                "4",
                "--step",
                "0.05",
                "--solver",
                solver,
                "--out",
                &out,
            ]);
            assert!(o.status.success(), "{method} {solver}: {}", common::stderr(&o));
            if solver == "reduced" {
                assert!(stdout(&o).contains("reduced solver"), "{}", stdout(&o));
            }
            runs.push(losses(&out));
        }
        let (full, red) = (&runs[0], &runs[1]);
        assert_eq!(full.len(), red.len());
        let l0 = full[0].0;
        for (f, r) in full.iter().zip(red) {
            // |ΔL| ≤ 1e-12 (L + ‖e‖‖e(0)‖): see crates/reduced/tests/against_full.rs.
            assert!((f.0 - r.0).abs() <= 1e-12 * (f.0 + 2.0 * (f.0 * l0).sqrt()), "{method}: {f:?} vs {r:?}");
            assert_eq!(f.1, r.1, "{method}: pattern changes");
            assert!((f.2 - r.2).abs() <= 1e-12 * f.2.max(1e-300), "{method}: distance {f:?} vs {r:?}");
        }
        assert!(full.last().unwrap().1 > 0.0, "{method}: no pattern changed, the comparison is vacuous");
    }
    assert_user_error(
        &xtask(&[
            "train",
            "--x",
            &x,
            "--y",
            &y,
            "--method",
            "both-gd",
            "--solver",
            "reduced",
            "--out",
            &arg(&dir, "b.json"),
        ]),
        "first-layer dynamics",
    );
}
