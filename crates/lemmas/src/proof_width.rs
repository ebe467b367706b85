//! The `proof-width` profile: Lem 2.5, Thm 2.1 and Thm 3.1 at widths that meet their own proof widths.
//!
//! They run on the reduced solver (docs/theory.md §5).
//! Inputs: n = d = 2 correlated points (|x_1ᵀx_2| between 0.3 and 0.9, so K is far from
//! diagonal and no pair is near parallel), labels y_i ~ N(0, 1), drawn from the master seed among
//! the first [`MASTER_SEEDS_SCANNED`] whose data make the proofs' widths smallest (the factor
//! (‖y‖² + n/2)/λ0⁴ that every width here carries: small labels, λ0 as large as the correlation
//! allows); horizons λ0·T ≥ 8 and ηλ0k/2 ≥ 8. The widths are computed from the data: Lem 2.5 at
//! 4 × the width where R′ < R holds for the mean ‖y − u(0)‖ (a seed is live when its ‖y − u(0)‖
//! is below twice the mean, nearly always), Thm 2.1 at ⌈m₂.₁⌉ and Thm 3.1 at ⌈m₃.₁⌉ with
//! c_η = 1/4 (each at least Lem 2.2's m₂.₂). δ = 0.1 (Lem 2.5's target 1 − 2δ = 0.8, Thm 2.1's
//! 1 − 3δ = 0.7, Thm 3.1's 1 − 4δ = 0.6). Seeds: the fewest for which all-successes would be
//! *supported* by the anytime-valid lower bound at 95% ([`seeds_to_support`]), plus room for a
//! vacuous seed or two where the claim has a per-seed premise.

use crate::config::Solver;
use crate::{CheckConfig, DataKind, make_data};

/// Master seeds scanned by [`master_seed`].
pub const MASTER_SEEDS_SCANNED: u64 = 64;

/// The data of the profile before its master seed is chosen.
fn unseeded() -> CheckConfig {
    CheckConfig {
        n: 2,
        d: 2,
        data: DataKind::Correlated,
        delta: 0.1,
        horizon: 1.0,
        step: 0.25,
        bisection_steps: 0,
        solver: Solver::Reduced,
        ..CheckConfig::default()
    }
}

/// The master seed among 0..[`MASTER_SEEDS_SCANNED`] whose correlated n = d = 2 draw has the
/// smallest (‖y‖² + n/2)/λ0⁴, the data factor of every proof width of the profile. The theorems
/// hold for every data set: choosing the data is choosing where the proofs' widths are cheapest to
/// reach, and the record says which seed was taken and why.
pub fn master_seed() -> u64 {
    static SEED: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *SEED.get_or_init(|| {
        (0..MASTER_SEEDS_SCANNED)
            .filter_map(|s| {
                let (n, lambda0, y2) = data_constants(&CheckConfig { master_seed: s, ..unseeded() }).ok()?;
                Some((s, (y2 + n as f64 / 2.0) / lambda0.powi(4)))
            })
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map_or(0, |(s, _)| s)
    })
}

/// The base of the claims' configurations.
pub fn base() -> CheckConfig {
    CheckConfig { master_seed: master_seed(), ..unseeded() }
}

/// The data of `proof-width-hard`: the profile's inputs, with their labels rescaled to ‖y‖² = n
/// (the label scale of the structured families), as given data. The proof widths carry
/// (‖y‖² + n/2): at ‖y‖² = 0.028 the profile's labels were chosen to make them small.
pub fn hard_base() -> CheckConfig {
    let cfg = base();
    // The profile's own data, valid by construction (see `constants`).
    let data = make_data(&cfg).expect("the proof-width profile's data are valid");
    let n = data.n() as f64;
    let scale = n.sqrt() / data.y().norm_l2();
    let mut given = crate::GivenData::of(&data, "the proof-width inputs, labels rescaled to ‖y‖² = n", 0);
    given.y.iter_mut().for_each(|v| *v *= scale);
    CheckConfig { data: DataKind::Given(given), ..cfg }
}

/// Seconds one seed takes on one thread under the forecasts' cost model (the claim's flops at
/// [`crate::cost::FORECAST_FLOPS_PER_THREAD`], as `scaling::seed_seconds`).
fn seed_seconds(claim: crate::ClaimId, cfg: &CheckConfig, lambda0: f64, m: usize) -> f64 {
    claim.claim().seed_flops(cfg, lambda0, m) / crate::cost::FORECAST_FLOPS_PER_THREAD
}

/// What a reader of a profile's record needs beside its claims, computed: for `proof-width-hard`,
/// what it leaves out would cost; nothing for the other profiles.
pub fn notes(profile: crate::Profile) -> Vec<String> {
    match profile {
        crate::Profile::ProofWidthHard => hard_notes(),
        _ => Vec::new(),
    }
}

/// The notes of `proof-width-hard`: what the profile leaves out would cost, by the cost model of
/// the forecasts (one thread per seed, two threads).
fn hard_notes() -> Vec<String> {
    let mut notes = Vec::new();
    let cost = |claim: crate::ClaimId, cfg: &CheckConfig| -> Option<(f64, f64, f64)> {
        let lambda0 = claim.claim().prepare(cfg).ok()?.lambda0();
        let m = *cfg.widths.first()?;
        let seconds = cfg.seeds as f64 * seed_seconds(claim, cfg, lambda0, m) / 2.0;
        Some((m as f64, lambda0, seconds))
    };
    if let Some((m, _, seconds)) = cost(crate::ClaimId::Thm31, &thm31_on(hard_base())) {
        notes.push(format!(
            "Thm 3.1 is not run on these labels: its proof width is m₃.₁ = {m:.4e}, and the cost model puts its {} seeds at about {:.0} min on 2 threads.",
            thm31_on(hard_base()).seeds,
            seconds / 60.0
        ));
    }
    // The hardest data of the hardest-data study at its smallest n (docs/hardest): near-duplicate
    // clusters at n = 4, d = 3, ε = 0.05.
    let params = model::FamilyParams { d: 3, epsilon: 0.05, ..model::FamilyParams::default() };
    if let Ok(data) = model::families::generate(model::Family::Clusters, 4, &params, 0, 0)
        && let Ok(lambda0) = model::lambda0(&data)
    {
        let y2 = data.y().squared_norm_l2();
        let m21 = crate::bounds::thm21_proof_width(4, y2, 0.1, lambda0);
        // The cost model at m = 10⁸ on these data, scaled linearly in m (the reduced solver's
        // passes draw every neuron): m₂.₁ is beyond usize.
        let family = crate::FamilyName(model::Family::Clusters);
        let cfg = CheckConfig {
            n: 4,
            d: 3,
            data: DataKind::Family { family, epsilon: 0.05, clusters: 2 },
            widths: vec![100_000_000],
            seeds: seeds_to_support(0.7),
            ..base()
        };
        let per_seed = seed_seconds(crate::ClaimId::Thm21, &cfg, lambda0, 100_000_000) * m21 / 1e8;
        notes.push(format!(
            "On the hardest data found at the smallest n (`clusters` at n = 4, d = 3, ε = 0.05, λ0 = {lambda0:.3e}, ‖y‖² = {y2:.0}), Thm 2.1's proof width would be m₂.₁ = {m21:.3e}: out of reach of any run here (the cost model puts its {} seeds at about {:.1e} years on 2 threads).",
            cfg.seeds,
            cfg.seeds as f64 * per_seed / 2.0 / (365.25 * 86_400.0)
        ));
    }
    notes
}

/// The fewest seeds k for which k successes of k have a 95% anytime-valid lower bound (each side
/// at 0.025, docs/theory.md §3.1) ≥ `target` (1 for a target the bounds cannot reach).
pub fn seeds_to_support(target: f64) -> u64 {
    inference::sequence::seeds_to_support(target, 0.025, 1 << 20).unwrap_or(1)
}

/// n, λ0 and ‖y‖² of a configuration's data (the data are drawn from the configuration alone).
fn data_constants(cfg: &CheckConfig) -> Result<(usize, f64, f64), crate::LemmaError> {
    let data = make_data(cfg)?;
    let lambda0 = model::lambda0(&data)?;
    Ok((data.n(), lambda0, data.y().squared_norm_l2()))
}

fn constants(cfg: &CheckConfig) -> (usize, f64, f64) {
    // cfg is this profile's constant config (n = d = 2, correlated) with master_seed(), which is picked
    // among the seeds whose data_constants succeeded.
    data_constants(cfg).expect("the proof-width profile's data are valid")
}

/// Lem 2.5 at 4 × its premise width for the mean residual.
pub fn lem25() -> CheckConfig {
    lem25_on(base())
}

/// [`lem25`] on the data of `base`.
pub fn lem25_on(base: CheckConfig) -> CheckConfig {
    // 1 − 2δ = 0.8 needs 27 seeds that all hold; two more leave room for vacuous seeds.
    lem25_at(CheckConfig { seeds: seeds_to_support(0.8) + 2, ..base }, 4.0)
}

/// `cfg` (on the profile's data) at one width: `multiple` × the width at which Lem 2.5's R′ < R
/// holds for the mean ‖y − u(0)‖ = √(‖y‖² + n/2). Also the tiny profile's Lem 2.5.
pub fn lem25_at(cfg: CheckConfig, multiple: f64) -> CheckConfig {
    let (n, lambda0, y2) = constants(&cfg);
    let m = multiple * crate::bounds::premise_width(n, (y2 + n as f64 / 2.0).sqrt(), cfg.delta, lambda0);
    CheckConfig { widths: vec![m.ceil() as usize], ..cfg }
}

/// Thm 2.1 at its proof width m₂.₁ (and Lem 2.2's m₂.₂ if larger).
pub fn thm21() -> CheckConfig {
    thm21_on(base())
}

/// [`thm21`] on the data of `base`.
pub fn thm21_on(base: CheckConfig) -> CheckConfig {
    let cfg = CheckConfig { seeds: seeds_to_support(0.7), ..base };
    let (n, lambda0, y2) = constants(&cfg);
    let m = crate::bounds::thm21_proof_width(n, y2, cfg.delta, lambda0)
        .max(crate::bounds::proof_width_spec(n, cfg.delta, lambda0));
    CheckConfig { widths: vec![m.ceil() as usize], ..cfg }
}

/// Thm 3.1 at its proof width m₃.₁ (and Lem 2.2's m₂.₂ if larger), with c_η = 1/4, the largest
/// step of the explicit route.
pub fn thm31() -> CheckConfig {
    thm31_on(base())
}

/// [`thm31`] on the data of `base`.
pub fn thm31_on(base: CheckConfig) -> CheckConfig {
    let cfg = CheckConfig {
        c_eta: crate::bounds::C_ETA_ROUTE,
        iterations: 1,
        seeds: seeds_to_support(1.0 - f64::from(crate::bounds::THM31_EVENTS_CHAINED) * 0.1) + 1,
        ..base
    };
    let (n, lambda0, y2) = constants(&cfg);
    let m = crate::bounds::thm31_proof_width(n, y2, cfg.delta, lambda0)
        .max(crate::bounds::proof_width_spec(n, cfg.delta, lambda0));
    CheckConfig { widths: vec![m.ceil() as usize], ..cfg }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ClaimId, Profile};

    /// The hard variant: the same inputs, labels rescaled to ‖y‖² = n, so every proof width grows
    /// by (n + n/2)/(‖y‖² + n/2); its notes state what it leaves out and what that would cost.
    #[test]
    fn the_hard_variant_takes_the_same_inputs_with_labels_at_norm_n() {
        let (easy, hard) = (make_data(&base()).unwrap(), make_data(&hard_base()).unwrap());
        assert_eq!(easy.x(), hard.x());
        assert!((hard.y().squared_norm_l2() - 2.0).abs() < 1e-12);
        let cosine = easy.y().transpose() * hard.y() / (easy.y().norm_l2() * hard.y().norm_l2());
        assert!((cosine - 1.0).abs() < 1e-12, "the labels keep their direction");
        let y2 = easy.y().squared_norm_l2();
        let grow = (2.0 + 1.0) / (y2 + 1.0);
        let (m, m_hard) = (thm21().widths[0] as f64, Profile::ProofWidthHard.config(ClaimId::Thm21).widths[0] as f64);
        assert!((m_hard / m / grow - 1.0).abs() < 1e-6, "{m_hard} / {m} against {grow}");
        let said = notes(Profile::ProofWidthHard);
        assert_eq!(said.len(), 2, "{said:?}");
        assert!(said[0].starts_with("Thm 3.1 is not run") && said[0].contains("min on 2 threads"), "{said:?}");
        assert!(said[1].contains("`clusters` at n = 4") && said[1].contains("years on 2 threads"), "{said:?}");
        assert!(notes(Profile::ProofWidth).is_empty());
    }

    /// Each claim of the profile is configured at a width that meets its own proof width, on the
    /// reduced solver, with data far from diagonal and a target that means something.
    #[test]
    fn the_profile_runs_at_the_proof_widths() {
        assert_eq!(Profile::ProofWidth.claims(), Some(&[ClaimId::Lem25, ClaimId::Thm21, ClaimId::Thm31][..]));
        assert_eq!(Profile::ProofWidthHard.claims(), Some(&[ClaimId::Lem25, ClaimId::Thm21][..]));
        assert_eq!((seeds_to_support(0.8), seeds_to_support(0.7), seeds_to_support(0.6)), (27, 16, 11));
        let runs = [ClaimId::Lem25, ClaimId::Thm21, ClaimId::Thm31].map(|c| (Profile::ProofWidth, c));
        let hard = [ClaimId::Lem25, ClaimId::Thm21].map(|c| (Profile::ProofWidthHard, c));
        for (profile, id) in runs.into_iter().chain(hard) {
            let cfg = profile.config(id);
            cfg.validate().unwrap();
            let prep = id.claim().prepare(&cfg).unwrap();
            let needed = prep.proof_widths()[0].width;
            let statement = prep.events().into_iter().find(|e| e.role == crate::result::Role::Statement).unwrap();
            assert!(statement.premise.met_at(cfg.widths[0]), "{id:?}: {:?}", statement.premise);
            if let crate::result::Target::Probability(p) = statement.target {
                assert!(cfg.seeds >= seeds_to_support(p), "{id:?}: {} seeds cannot support {p}", cfg.seeds);
            }
            assert!(cfg.widths[0] as f64 >= needed, "{id:?}: width {} below the proof's {needed}", cfg.widths[0]);
            assert!(crate::reduced_flow::use_reduced(&cfg, cfg.widths[0], cfg.n));
            let data = make_data(&cfg).unwrap();
            let (_, hi) = crate::off_diagonal_range(&data);
            assert!((0.3..=0.9).contains(&hi));
            assert!(8.0 / prep.lambda0() >= 1.0);
            println!("{id:?}: width {} (proof {needed:.4e}), λ0 = {:.4}", cfg.widths[0], prep.lambda0());
        }
    }
}
