//! The both-layer gradient flow d(W, a)/dt = −(∂L/∂W, ∂L/∂a), integrated with flow's RK4 driver.
//!
//! Under this flow du/dt = (H(t) + G(t))(y − u), with H carrying the weights a_r(t)²:
//! H_ij = (1/m) x_iᵀx_j Σ_r a_r² 1{w_rᵀx_i ≥ 0} 1{w_rᵀx_j ≥ 0}, G_ij = (1/m) Σ_r σ(w_rᵀx_i) σ(w_rᵀx_j)
//! (slide Thm 2.6 = paper Thm 3.3).

use model::network::grad_a;
use model::{Dataset, Network};

use crate::kernel::{KernelBothField, KernelBothState};

use faer::Col;
use flow::{
    ErrorParts, Evaluation, FirstLayerTerms, FlowConfig, FlowError, Observer, Result, RunOutcome, Snapshot, Space,
    VectorField,
};

/// d(W, a)/dt = −(∂L/∂W, ∂L/∂a), with the loss at (W, a).
#[derive(Debug, Clone, Copy)]
pub struct BothLayersField<'a> {
    /// The data set.
    pub data: &'a Dataset,
}

impl VectorField for BothLayersField<'_> {
    type State = Network;
    fn evaluate(&self, _t: f64, x: &Network) -> Result<Evaluation<Network>> {
        let t = FirstLayerTerms::of(self.data, x);
        let ga = grad_a(t.z.as_ref(), t.residual.as_ref());
        let a = Col::from_fn(ga.nrows(), |k| -ga[k]);
        Ok(Evaluation { derivative: Network { w: t.minus_grad_w, a }, loss: t.loss })
    }

    fn error_parts(&self, x: &Network, delta: &Network) -> Result<ErrorParts> {
        flow::network_error_parts(self.data, x, delta)
    }
}

/// Gradient flow of both layers from `net` (slide Thm 2.6 = paper Thm 3.3), with flow's RK4 driver:
/// same [`FlowConfig`], error estimate, divergence status and [`Observer`]s as [`flow::run`].
///
/// In kernel space on (Z, C, a) ([`crate::kernel`], one n×n×m GEMM per evaluation instead of two
/// n×d×m) where the first-layer flow would be: [`Space::Auto`] when d ≥ n, or when asked for with
/// [`Space::Kernel`] / [`Space::KernelFused`]; on (W, a) otherwise. The two are the same flow in
/// other coordinates, equal to rounding.
pub fn run<O: for<'s> Observer<Snapshot<'s>, FlowError> + ?Sized>(
    data: &Dataset,
    net: &Network,
    config: &FlowConfig,
    observer: &mut O,
) -> Result<RunOutcome> {
    if config.space.kernel(data) {
        flow::validate_network(data, net)?;
        let x0 = KernelBothState::initial(data, net);
        let w0 = &net.w;
        let view = |x: &KernelBothState| Ok(x.network(data, w0));
        flow::run_with_view(&KernelBothField::new(data, net.m()), data, x0, config, Space::Kernel, observer, view)
    } else {
        flow::run_with_field(&BothLayersField { data }, data, net, config, observer)
    }
}
