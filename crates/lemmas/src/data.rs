//! The data set of a check, drawn from its configuration alone.

use model::Dataset;

use crate::config::{self, CheckConfig, DataKind};
use crate::error::LemmaError;

/// Largest number of sphere draws tried for correlated data before giving up.
pub const CORRELATED_TRIES: u64 = 10_000;

/// The data set of a check (trial 0 of the data streams of `master_seed`; for correlated data the
/// first trial whose inputs qualify, see [`DataKind::Correlated`]).
pub fn make_data(cfg: &CheckConfig) -> Result<Dataset, LemmaError> {
    Ok(match &cfg.data {
        DataKind::Sphere => Dataset::sphere(cfg.n, cfg.d, cfg.master_seed, 0)?,
        DataKind::Orthonormal => Dataset::orthonormal(cfg.n, cfg.d, cfg.master_seed, 0)?,
        DataKind::Family { family, epsilon, clusters } => {
            let params = model::FamilyParams {
                d: cfg.d,
                epsilon: *epsilon,
                clusters: *clusters,
                scale: model::LabelScale::NormN,
            };
            model::families::generate(family.0, cfg.n, &params, cfg.master_seed, 0)?
        }
        DataKind::Given(g) => {
            cfg.validate()?;
            let x = faer::Mat::from_fn(cfg.n, cfg.d, |i, j| g.x[i * cfg.d + j]);
            let y = faer::Col::from_fn(cfg.n, |i| g.y[i]);
            Dataset::new(x, y, model::RowNorms::default())?
        }
        DataKind::Correlated => {
            for trial in 0..CORRELATED_TRIES {
                let data = Dataset::sphere(cfg.n, cfg.d, cfg.master_seed, trial)?;
                let (lo, hi) = off_diagonal_range(&data);
                if (config::CORRELATED_MIN..=config::CORRELATED_MAX).contains(&hi) && lo.is_finite() {
                    return Ok(data);
                }
            }
            return Err(LemmaError::Config {
                name: "data",
                value: "correlated".into(),
                reason: format!(
                    "no draw of {} points on the sphere in d = {} among {CORRELATED_TRIES} had a pair with |x_iᵀx_j| ≥ {} and none above {}: change n or d",
                    cfg.n,
                    cfg.d,
                    config::CORRELATED_MIN,
                    config::CORRELATED_MAX
                ),
            });
        }
    })
}

/// The smallest and largest |x_iᵀx_j| over pairs i < j (±∞ when n = 1).
pub fn off_diagonal_range(data: &Dataset) -> (f64, f64) {
    let k = data.input_gram();
    let mut range = (f64::INFINITY, f64::NEG_INFINITY);
    for i in 0..data.n() {
        for j in i + 1..data.n() {
            let c = k[(i, j)].abs();
            range = (range.0.min(c), range.1.max(c));
        }
    }
    range
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::FamilyName;

    /// A family is named in JSON, draws the data `model::families` draws, and seeds its checks
    /// apart from every other data kind and family.
    #[test]
    fn a_structured_family_is_a_data_kind() {
        let json = r#"{"family": {"family": "antipodal", "epsilon": 0.05}}"#;
        let kind: DataKind = serde_json::from_str(json).expect("a family in JSON");
        let antipodal = DataKind::Family { family: FamilyName(model::Family::Antipodal), epsilon: 0.05, clusters: 2 };
        assert_eq!(kind, antipodal);
        assert_eq!(
            serde_json::to_string(&kind).expect("serialises"),
            r#"{"family":{"family":"antipodal","epsilon":0.05,"clusters":2}}"#
        );
        let bad = serde_json::from_str::<DataKind>(r#"{"family": {"family": "spiral", "epsilon": 0.05}}"#);
        let message = bad.expect_err("an unknown family").to_string();
        assert!(message.contains("spiral") && message.contains("antipodal"), "{message}");
        let cfg = CheckConfig { n: 8, d: 3, data: kind, ..CheckConfig::default() };
        let data = make_data(&cfg).expect("antipodal data at n = 8, d = 3");
        let params = model::FamilyParams { d: 3, epsilon: 0.05, ..model::FamilyParams::default() };
        let direct = model::families::generate(model::Family::Antipodal, 8, &params, cfg.master_seed, 0).unwrap();
        assert_eq!(data.x(), direct.x());
        assert_eq!(data.y(), direct.y());
        let claim = crate::ClaimId::Lem22;
        let seed = |data| crate::engine::init_seed(&CheckConfig { data, ..cfg.clone() }, claim, 100);
        let xor = DataKind::Family { family: FamilyName(model::Family::Xor), epsilon: 0.05, clusters: 2 };
        let wider = DataKind::Family { family: FamilyName(model::Family::Antipodal), epsilon: 0.1, clusters: 2 };
        let seeds = [seed(DataKind::Sphere), seed(antipodal), seed(xor), seed(wider)];
        for (i, a) in seeds.iter().enumerate() {
            assert!(seeds[i + 1..].iter().all(|b| a != b), "{seeds:?}");
        }
        let nan = DataKind::Family { family: FamilyName(model::Family::Antipodal), epsilon: f64::NAN, clusters: 2 };
        assert!(make_data(&CheckConfig { data: nan, ..cfg }).is_err(), "a NaN ε is refused");
    }
}
