//! The checks can refute, are deterministic across thread counts, and their JSON is snapshot-tested.

use lemmas::engine::{EventSpec, SeedOutcome, measure};
use lemmas::result::{Observation, Target};
use lemmas::{CheckConfig, ClaimId, NoProgress, Verdict, check};

fn tiny() -> CheckConfig {
    lemmas::Profile::Tiny.config(ClaimId::Lem22)
}

/// Rounds every float in a JSON tree to 6 significant digits, so snapshots survive last-bit noise.
fn rounded(v: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match v {
        Value::Number(n) if n.is_f64() => {
            let x = n.as_f64().unwrap();
            let r = if x == 0.0 { 0.0 } else { format!("{x:.5e}").parse::<f64>().unwrap() };
            serde_json::json!(r)
        }
        Value::Array(a) => Value::Array(a.into_iter().map(rounded).collect()),
        Value::Object(o) => Value::Object(o.into_iter().map(|(k, v)| (k, rounded(v))).collect()),
        other => other,
    }
}

fn on_threads<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap().install(f)
}

/// Lem 2.2's event at a width far too small for a tight δ: refuted, with the worst seed as witness.
#[test]
fn lemma_2_2_event_at_a_tiny_width_is_refuted_with_a_witness() {
    let cfg =
        CheckConfig { n: 8, d: 8, widths: vec![10], seeds: 40, delta: 0.01, bisection_steps: 0, ..Default::default() };
    let res = check(ClaimId::Lem22, &cfg, &NoProgress).unwrap();
    let row = &res.events[0].rows[0];
    assert_eq!(row.verdict, Verdict::Refuted, "{row:?}");
    assert!(row.witness.measured > row.witness.bound && row.witness.slack > 1.0);
    assert!(!row.premise_met, "m = 10 cannot meet the premise");
    // The claim itself is not refuted by a width below its premise.
    assert_eq!(res.verdict, Verdict::Inconclusive);
    assert!(!res.premise_met);
}

/// A false claim — Hoeffding's entrywise radius scaled by 0.1 — is refuted by the engine.
#[test]
fn a_bound_scaled_down_is_refuted() {
    let cfg =
        CheckConfig { n: 5, d: 5, widths: vec![1000], seeds: 30, delta: 0.1, bisection_steps: 0, ..Default::default() };
    let data = lemmas::make_data(&cfg).unwrap();
    let hinf = model::h_infinity(data.input_gram());
    let events =
        [EventSpec { key: "scaled", description: "0.1 × Hoeffding radius".into(), target: Target::Probability(0.9) }];
    let eval = |m: usize, trial: u64| {
        let net = model::Network::init(m, 5, cfg.master_seed, trial)?;
        let z = model::network::preactivations(data.x(), net.w.as_ref());
        let h = model::gram_h(data.input_gram(), z.as_ref(), net.a.as_ref());
        let worst = (0..5)
            .flat_map(|i| (0..5).map(move |j| (i, j)))
            .fold(0.0f64, |a, (i, j)| a.max((h[(i, j)] - hinf[(i, j)]).abs()));
        let bound = 0.1 * lemmas::lem22::hoeffding_radius(5, 0.1, m);
        Ok(SeedOutcome { events: vec![Observation::at_most(worst, bound)], values: vec![] })
    };
    let out = measure(ClaimId::Lem22, &cfg, &events, &[], &|_| true, &eval, &NoProgress).unwrap();
    assert_eq!(out.events[0].rows[0].verdict, Verdict::Refuted);
    // The unscaled radius is not refuted on the same seeds.
    let res = check(ClaimId::Lem22, &cfg, &NoProgress).unwrap();
    let hoeffding = res.events.iter().find(|e| e.key == "hoeffding-entrywise").unwrap();
    assert_ne!(hoeffding.rows[0].verdict, Verdict::Refuted);
}

/// Lem 2.2 at its proof width on a small problem is supported (the premise is met).
#[test]
fn lemma_2_2_at_its_proof_width_is_supported() {
    let base =
        CheckConfig { n: 3, d: 3, data: lemmas::DataKind::Orthonormal, seeds: 60, delta: 0.2, ..Default::default() };
    let m = lemmas::lem22::proof_width_spec(3, 0.2, 0.5).ceil() as usize;
    let cfg = CheckConfig { widths: vec![m], bisection_steps: 0, ..base };
    let res = check(ClaimId::Lem22, &cfg, &NoProgress).unwrap();
    assert!(res.premise_met);
    assert_eq!(res.verdict, Verdict::Supported, "{:?}", res.events[0].rows);
    assert_eq!(res.lambda0, 0.5);
}

#[test]
fn results_are_identical_on_one_and_two_threads() {
    for claim in ClaimId::ALL {
        let cfg = lemmas::Profile::Tiny.config(claim);
        let one = on_threads(1, || serde_json::to_string(&check(claim, &cfg, &NoProgress).unwrap()).unwrap());
        let two = on_threads(2, || serde_json::to_string(&check(claim, &cfg, &NoProgress).unwrap()).unwrap());
        assert_eq!(one, two, "{}", claim.slide());
    }
}

#[test]
fn bad_configurations_are_named_errors() {
    let e = check(ClaimId::Lem22, &CheckConfig { delta: 1.5, ..tiny() }, &NoProgress).unwrap_err();
    assert!(e.to_string().contains("δ must lie in (0, 1)"), "{e}");
    let e = check(ClaimId::Lem22, &CheckConfig { widths: vec![10, 0], ..tiny() }, &NoProgress).unwrap_err();
    assert!(e.to_string().contains("widths"), "{e}");
    let e = check(ClaimId::Lem23, &CheckConfig { seeds: 0, ..tiny() }, &NoProgress).unwrap_err();
    assert!(e.to_string().contains("seeds"), "{e}");
}

fn snapshot(claim: ClaimId) -> serde_json::Value {
    let res = check(claim, &lemmas::Profile::Tiny.config(claim), &NoProgress).unwrap();
    rounded(serde_json::to_value(&res).unwrap())
}

#[test]
fn snapshot_lemma_2_2() {
    insta::assert_json_snapshot!(snapshot(ClaimId::Lem22));
}

#[test]
fn snapshot_lemma_2_3() {
    insta::assert_json_snapshot!(snapshot(ClaimId::Lem23));
}

#[test]
fn snapshot_lemma_2_4() {
    insta::assert_json_snapshot!(snapshot(ClaimId::Lem24));
}

#[test]
fn snapshot_lemma_2_5() {
    insta::assert_json_snapshot!(snapshot(ClaimId::Lem25));
}

#[test]
fn snapshot_theorem_2_1() {
    insta::assert_json_snapshot!(snapshot(ClaimId::Thm21));
}

#[test]
fn snapshot_theorem_2_6() {
    insta::assert_json_snapshot!(snapshot(ClaimId::Thm26));
}

#[test]
fn snapshot_theorem_3_1() {
    insta::assert_json_snapshot!(snapshot(ClaimId::Thm31));
}

/// Thm 3.1 with a step far past the stability limit: the runs diverge, and the results say so
/// (the `no-divergence` event is refuted, the statement fails) without a NaN anywhere.
#[test]
fn a_divergent_step_is_reported_as_divergence() {
    let cfg = CheckConfig { c_eta: 20_000.0, bisection_steps: 0, ..lemmas::Profile::Tiny.config(ClaimId::Thm31) };
    let res = check(ClaimId::Thm31, &cfg, &NoProgress).unwrap();
    let no_div = res.events.iter().find(|e| e.key == "no-divergence").unwrap();
    assert!(no_div.rows.iter().all(|r| r.verdict == Verdict::Refuted && r.successes == 0), "{:?}", no_div.rows);
    assert!(res.events[0].rows.iter().all(|r| r.successes == 0));
    let json = serde_json::to_string(&res).unwrap();
    assert!(!json.contains("NaN") && !json.contains("null,\"bound\""), "{json}");
}

/// A deterministic claim with a false bound — Lem 2.4's distance bound with R′ replaced by R′/100 —
/// is refuted on the first violating seed, with the time of the violation as witness.
#[test]
fn a_deterministic_bound_scaled_down_is_refuted() {
    let cfg = lemmas::Profile::Tiny.config(ClaimId::Lem24);
    let data = lemmas::make_data(&cfg).unwrap();
    let reference = flow::InfiniteWidth::first_layer(&data).unwrap();
    let flow_cfg = lemmas::trajectory::flow_config(&cfg);
    let events = [EventSpec { key: "scaled", description: "distance ≤ R′/100".into(), target: Target::Always }];
    let eval = |m: usize, trial: u64| {
        let net = model::Network::init(m, data.d(), cfg.master_seed, trial)?;
        let run = lemmas::trajectory::run(&data, &net, &reference, &flow_cfg, false)?;
        let last = run.points.last().unwrap();
        Ok(SeedOutcome {
            events: vec![Observation::at_most(last.max_distance, run.r_prime / 100.0).at_time(last.t)],
            values: vec![],
        })
    };
    let cfg1 = CheckConfig { widths: vec![400], seeds: 3, ..cfg.clone() };
    let out = measure(ClaimId::Lem24, &cfg1, &events, &[], &|_| true, &eval, &NoProgress).unwrap();
    let row = &out.events[0].rows[0];
    assert_eq!(row.verdict, Verdict::Refuted, "{row:?}");
    assert!(row.witness.slack > 1.0 && row.witness.time == Some(cfg.horizon));
}
