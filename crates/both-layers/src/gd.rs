//! Plain gradient descent on both layers: (W, a)(k+1) = (W, a)(k) − η (∂L/∂W, ∂L/∂a), ending with the shared
//! [`model::Status`] (completed, stopped by an observer, or diverged), as the flows do.
//!
//! Observers see the same [`Snapshot`] as for the flows, with t = kη, `step` = k and
//! `gd_step_size = Some(η)`, so a flow recorder doubles as a GD recorder (its
//! `discrete_bound_ratio` compares with (1 − ηλ0/2)^k, the rate slide Thm 3.1 = paper Thm 4.1
//! proves for the first layer).

use faer::Col;
use model::network::{grad_a, grad_w};
use model::{Control, Dataset, Divergence, Network, Status};

use flow::{FlowError, Observer, OdeState, Result, Snapshot, validate_network};

/// Configuration of [`descend`]. Plain data with [`Default`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GdConfig {
    /// Step η > 0.
    pub eta: f64,
    /// Number of iterations K.
    pub iterations: usize,
    /// Observers are called at k = 0, every `sample_every` iterations, and at the end (≥ 1).
    pub sample_every: usize,
    /// Diverged when the loss exceeds this × the initial loss (> 1), or anything is not finite.
    pub divergence_factor: f64,
}

impl Default for GdConfig {
    /// η = 0.01, 1000 iterations, a sample every 10, divergence at 10⁶ × the initial loss.
    fn default() -> Self {
        GdConfig { eta: 0.01, iterations: 1000, sample_every: 10, divergence_factor: 1e6 }
    }
}

impl GdConfig {
    /// Checks every field.
    pub fn validate(&self) -> Result<()> {
        let invalid = |name, value: f64, reason: &str| FlowError::InvalidConfig {
            name,
            value: value.to_string(),
            reason: reason.into(),
        };
        if !(self.eta.is_finite() && self.eta > 0.0) {
            return Err(invalid("eta", self.eta, "the step η must be finite and positive"));
        }
        if self.sample_every == 0 {
            return Err(invalid("sample_every", 0.0, "sample at least every iteration (≥ 1)"));
        }
        if !(self.divergence_factor.is_finite() && self.divergence_factor > 1.0) {
            return Err(invalid("divergence_factor", self.divergence_factor, "must be finite and > 1"));
        }
        Ok(())
    }
}

/// The outcome of [`descend`]: plain data.
#[derive(Debug, Clone)]
pub struct GdOutcome {
    /// How the run ended: `model::Status`, the one status of flow, descent and both-layers
    /// (`step` = k and `t` = kη of the returned state).
    pub status: Status,
    /// Iterations performed (k of the returned state).
    pub iterations: usize,
    /// Final (last finite) weights.
    pub network: Network,
    /// Final predictions u (empty only if the initial ones overflow).
    pub u: Vec<f64>,
    /// Final loss ½‖u − y‖² (+∞ only if the initial one overflows).
    pub loss: f64,
}

/// Full-batch gradient descent on (W, a) from `net`.
///
/// Divergence (non-finite weights, predictions or loss, or a loss above `divergence_factor` × the
/// initial loss) ends the run with [`Status::Diverged`]; the returned state is the last one
/// whose weights and loss are finite, so no NaN leaves this function.
pub fn descend<O: Observer + ?Sized>(
    data: &Dataset,
    net: &Network,
    config: &GdConfig,
    observer: &mut O,
) -> Result<GdOutcome> {
    validate_network(data, net)?;
    config.validate()?;
    let eta = config.eta;
    let mut net = net.clone();
    let mut fw = net.forward(data)?;
    let mut r: Col<f64> = &fw.u - data.y();
    let mut loss = 0.5 * r.squared_norm_l2();
    let loss0 = loss;
    let limit = config.divergence_factor * loss0.max(f64::MIN_POSITIVE);
    let mut status = Status::Completed;
    if !loss.is_finite() {
        let status = Status::Diverged { t: 0.0, step: 0, reason: Divergence::NonFinite };
        return Ok(GdOutcome { status, iterations: 0, network: net, u: Vec::new(), loss: f64::INFINITY });
    }
    let mut sample_index = 0;
    let mut k: usize = 0;
    loop {
        if k.is_multiple_of(config.sample_every) || k == config.iterations {
            let snapshot = Snapshot {
                t: k as f64 * eta,
                step: k,
                sample_index,
                data,
                w: net.w.as_ref(),
                a: net.a.as_ref(),
                z: fw.z.as_ref(),
                u: fw.u.as_ref(),
                residual: r.as_ref(),
                loss,
                error: None,
                gd_step_size: Some(eta),
            };
            sample_index += 1;
            if observer.observe(&snapshot)? == Control::Stop {
                status = Status::Stopped { t: k as f64 * eta, step: k };
                break;
            }
        }
        if k == config.iterations {
            break;
        }
        let mut next = net.clone();
        next.w.axpy(-eta, &grad_w(data.x(), fw.z.as_ref(), net.a.as_ref(), r.as_ref()));
        next.a.axpy(-eta, &grad_a(fw.z.as_ref(), r.as_ref()));
        let diverged_here = Status::Diverged { t: k as f64 * eta, step: k, reason: Divergence::NonFinite };
        if !next.is_finite() {
            status = diverged_here;
            break;
        }
        let next_fw = next.forward(data)?;
        let next_r: Col<f64> = &next_fw.u - data.y();
        let next_loss = 0.5 * next_r.squared_norm_l2();
        if !next_loss.is_finite() {
            status = diverged_here;
            break;
        }
        (net, fw, r, loss) = (next, next_fw, next_r, next_loss);
        k += 1;
        if loss > limit {
            let reason = Divergence::LossGrowth { loss, initial_loss: loss0, factor: config.divergence_factor };
            status = Status::Diverged { t: k as f64 * eta, step: k, reason };
            break;
        }
    }
    Ok(GdOutcome { status, iterations: k, u: fw.u.iter().copied().collect(), network: net, loss })
}
