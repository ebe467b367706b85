//! Plain gradient descent on both layers: (W, a)(k+1) = (W, a)(k) − η (∂L/∂W, ∂L/∂a), ending with the shared
//! [`model::Status`] (completed, stopped by an observer, or diverged), as the flows do.
//!
//! Observers see the same [`Snapshot`] as for the flows, with t = kη, `step` = k and
//! `learning_rate = Some(η)`, so a flow recorder doubles as a GD recorder (its
//! `discrete_bound_ratio` compares with (1 − ηλ0/2)^k, the rate slide Thm 3.1 = paper Thm 4.1
//! proves for the first layer).
//!
//! Where the flow runs in kernel space, GD does too ([`Space::Auto`]: d ≥ n): the same iteration
//! on (Z, C, a), Z ← Z − η K D, C ← C − η D, a ← a − η ∂L/∂a ([`KernelIterate`], one n×n×m GEMM
//! a step instead of two n×d×m), with W = W(0) + Cᵀ X made only for the samples and the end.
//! One stepper, [`BothLayersGd`], steps either iterate ([`GdIterate`]).

use std::borrow::Cow;

use faer::{Col, ColRef, Mat, MatRef};
use model::network::{grad_a, grad_w, predictions};
use model::{Dataset, Network, Status};

use flow::{FlowError, Observer, OdeState, Result, Snapshot, Space, VectorField, validate_network};

use crate::kernel::{KernelBothField, KernelBothState};

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
    /// (W, a), or kernel space (Z, C, a): [`Space::Auto`] takes kernel space when d ≥ n, as the
    /// flows do; the two are the same iteration to rounding.
    pub space: Space,
}

impl Default for GdConfig {
    /// η = 0.01, 1000 iterations, a sample every 10, divergence at 10⁶ × the initial loss.
    fn default() -> Self {
        GdConfig {
            eta: 0.01,
            iterations: 1000,
            sample_every: 10,
            divergence_factor: model::DEFAULT_DIVERGENCE_FACTOR,
            space: Space::Auto,
        }
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

/// Full-batch gradient descent on both layers from `net`, through the one executor
/// `model::execute` with a [`BothLayersGd`] stepper: on (W, a) ([`Iterate`]), or in kernel space
/// on (Z, C, a) ([`KernelIterate`]) where `config.space` says so.
///
/// Divergence (non-finite weights, predictions or loss, or a loss above `divergence_factor` × the
/// initial loss) is the executor's rule: the failing iterate is refused and the run ends with
/// [`Status::Diverged`] and the last accepted iterate, so no NaN leaves this function.
pub fn descend<O: for<'s> Observer<Snapshot<'s>, FlowError> + ?Sized>(
    data: &Dataset,
    net: &Network,
    config: &GdConfig,
    observer: &mut O,
) -> Result<GdOutcome> {
    validate_network(data, net)?;
    config.validate()?;
    if config.space.kernel(data) {
        let start = KernelIterate::of(data, KernelBothState::initial(data, net));
        descend_from(data, &net.w, start, config, observer)
    } else {
        descend_from(data, &net.w, Iterate::of(data, net.clone())?, config, observer)
    }
}

/// [`descend`] from a given iterate (`w0` = W(0), for an iterate that keeps W − W(0) implicitly).
fn descend_from<I: GdIterate, O: for<'s> Observer<Snapshot<'s>, FlowError> + ?Sized>(
    data: &Dataset,
    w0: &Mat<f64>,
    mut state: I,
    config: &GdConfig,
    observer: &mut O,
) -> Result<GdOutcome> {
    let eta = config.eta;
    let mut stepper = BothLayersGd { data, eta, previous: None };
    let moves = model::grid::iterations(eta, config.iterations, config.sample_every);
    let run = model::execute(&mut stepper, &mut state, moves, config.divergence_factor, |_, it, at| {
        let shown = it.network(data, w0);
        let (z, u, r) = it.forward();
        let snapshot = Snapshot {
            t: at.t,
            step: at.step,
            sample_index: at.index,
            data,
            w: shown.w.as_ref(),
            a: shown.a.as_ref(),
            z,
            u,
            residual: r,
            loss: it.loss(),
            error: None,
            learning_rate: Some(eta),
        };
        observer.observe(&snapshot)
    })?;
    let network = state.network(data, w0).into_owned();
    if !state.loss().is_finite() {
        // Only the initial loss can be non-finite here (a refused iterate is never kept).
        return Ok(GdOutcome { status: run.status, iterations: 0, network, u: Vec::new(), loss: f64::INFINITY });
    }
    let u = state.forward().1.iter().copied().collect();
    Ok(GdOutcome { status: run.status, iterations: run.steps, network, u, loss: state.loss() })
}

/// What [`BothLayersGd`] steps: an iterate with its forward pass, which makes the next one.
pub trait GdIterate: Clone {
    /// ½‖u − y‖².
    fn loss(&self) -> f64;
    /// (Z, u, u − y).
    fn forward(&self) -> (MatRef<'_, f64>, ColRef<'_, f64>, ColRef<'_, f64>);
    /// (W, a), W made from W(0) = `w0` when the iterate keeps it implicitly.
    fn network(&self, data: &Dataset, w0: &Mat<f64>) -> Cow<'_, Network>;
    /// The iterate one GD step of η on, or `None` when that step leaves something non-finite.
    fn next(&self, data: &Dataset, eta: f64) -> Result<Option<Self>>;
}

/// An iterate of both-layers GD on (W, a) with its forward pass.
#[derive(Debug, Clone)]
pub struct Iterate {
    /// (W, a).
    pub net: Network,
    /// Z = X Wᵀ.
    pub z: Mat<f64>,
    /// u.
    pub u: Col<f64>,
    /// u − y.
    pub r: Col<f64>,
    /// ½‖u − y‖².
    pub loss: f64,
}

impl Iterate {
    /// `net` with its forward pass on `data`.
    pub fn of(data: &Dataset, net: Network) -> Result<Self> {
        let fw = net.forward(data)?;
        let r: Col<f64> = &fw.u - data.y();
        let loss = 0.5 * r.squared_norm_l2();
        Ok(Iterate { net, z: fw.z, u: fw.u, r, loss })
    }
}

impl GdIterate for Iterate {
    fn loss(&self) -> f64 {
        self.loss
    }
    fn forward(&self) -> (MatRef<'_, f64>, ColRef<'_, f64>, ColRef<'_, f64>) {
        (self.z.as_ref(), self.u.as_ref(), self.r.as_ref())
    }
    fn network(&self, _: &Dataset, _: &Mat<f64>) -> Cow<'_, Network> {
        Cow::Borrowed(&self.net)
    }
    /// (W, a) − η(∂L/∂W, ∂L/∂a): two n×d×m GEMMs (the gradient and the next Z).
    fn next(&self, data: &Dataset, eta: f64) -> Result<Option<Self>> {
        let mut next = self.net.clone();
        next.w.axpy(-eta, &grad_w(data.x(), self.z.as_ref(), self.net.a.as_ref(), self.r.as_ref()));
        next.a.axpy(-eta, &grad_a(self.z.as_ref(), self.r.as_ref()));
        if !next.is_finite() {
            return Ok(None);
        }
        Ok(Some(Iterate::of(data, next)?))
    }
}

/// An iterate of both-layers GD in kernel space, (Z, C, a) with W − W(0) = Cᵀ X, and its predictions.
#[derive(Debug, Clone)]
pub struct KernelIterate {
    /// (Z, C, a).
    pub x: KernelBothState,
    /// u.
    pub u: Col<f64>,
    /// u − y.
    pub r: Col<f64>,
    /// ½‖u − y‖².
    pub loss: f64,
}

impl KernelIterate {
    /// `x` with its predictions on `data`.
    pub fn of(data: &Dataset, x: KernelBothState) -> Self {
        let u = predictions(x.z.as_ref(), x.a.as_ref());
        let r: Col<f64> = &u - data.y();
        let loss = 0.5 * r.squared_norm_l2();
        KernelIterate { x, u, r, loss }
    }
}

impl GdIterate for KernelIterate {
    fn loss(&self) -> f64 {
        self.loss
    }
    fn forward(&self) -> (MatRef<'_, f64>, ColRef<'_, f64>, ColRef<'_, f64>) {
        (self.x.z.as_ref(), self.u.as_ref(), self.r.as_ref())
    }
    /// W = W(0) + Cᵀ X: one m×n×d GEMM, made only when a sample or the end shows it.
    fn network(&self, data: &Dataset, w0: &Mat<f64>) -> Cow<'_, Network> {
        Cow::Owned(self.x.network(data, w0))
    }
    /// The Euler step of the [`KernelBothField`]: (Z, C, a) + η (−K D, −D, −∂L/∂a), one n×n×m GEMM.
    fn next(&self, data: &Dataset, eta: f64) -> Result<Option<Self>> {
        let derivative = KernelBothField::new(data, self.x.a.nrows()).evaluate(0.0, &self.x)?.derivative;
        let mut next = self.x.clone();
        next.axpy(eta, &derivative);
        Ok(next.is_finite().then(|| KernelIterate::of(data, next)))
    }
}

/// Both-layers GD as a `model::Stepper` over either iterate ([`Iterate`] on (W, a) by default,
/// [`KernelIterate`] in kernel space); keeps the previous iterate so that a refused one is put back.
pub struct BothLayersGd<'a, I = Iterate> {
    /// The data set.
    pub data: &'a Dataset,
    /// The step η.
    pub eta: f64,
    previous: Option<I>,
}

impl<I: GdIterate> model::Stepper for BothLayersGd<'_, I> {
    type State = I;
    type Error = FlowError;

    fn start(&mut self, it: &I) -> Result<f64> {
        Ok(if it.loss().is_finite() { it.loss() } else { f64::INFINITY })
    }

    fn step(&mut self, it: &mut I, _from: f64, _to: f64) -> Result<f64> {
        let Some(next) = it.next(self.data, self.eta)? else {
            self.previous = None;
            return Ok(f64::INFINITY);
        };
        let loss = if next.loss().is_finite() { next.loss() } else { f64::INFINITY };
        self.previous = Some(std::mem::replace(it, next));
        Ok(loss)
    }

    fn reject(&mut self, it: &mut I) {
        if let Some(previous) = self.previous.take() {
            *it = previous;
        }
    }
}
