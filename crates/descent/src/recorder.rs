//! Gradient descent's iterates as the one recorder sees them ([`View`] is [`model::Recordable`]),
//! and the loss trace.
//!
//! The recorder ([`Recorder`], its [`Sample`]s and [`Trajectory`]) is `model::record`'s, shared
//! with the flows and both-layer GD. A GD state tracks its own distances (from the kernel-space
//! coefficients, never materialising W) and its initial patterns, so the recorder keeps no
//! baseline; λmin(H(k)) is the problem's warm-started solve; u∞(k) is the GD prediction
//! y + (I − ηH∞)^k (u(0) − y) and the discrete ratio compares with (1 − ηλ0/2)^k ‖y − u(0)‖² (slide
//! Thm 3.1 = paper Thm 4.1). Which iterates are shown is [`crate::DescentConfig::sample_every`].

use faer::ColRef;
use model::{Baseline, Dataset, Movement, Recordable};

use crate::{Control, DescentError, Observer, Result, View};

pub use model::{Every, Recorder, RecorderOptions, Sample, Trajectory};

impl Recordable for View<'_> {
    type Error = DescentError;
    fn data(&self) -> &Dataset {
        self.problem.data()
    }
    fn t(&self) -> f64 {
        self.state.iteration() as f64 * self.problem.eta()
    }
    fn step(&self) -> usize {
        self.state.iteration()
    }
    fn sample_index(&self) -> usize {
        self.sample_index
    }
    fn u(&self) -> ColRef<'_, f64> {
        self.state.predictions()
    }
    fn residual_sq(&self) -> f64 {
        self.state.residual_norm_sq()
    }
    fn width(&self) -> usize {
        self.problem.m()
    }
    fn eta(&self) -> Option<f64> {
        Some(self.problem.eta())
    }
    fn initial_u(&self) -> Option<ColRef<'_, f64>> {
        Some(self.state.initial_predictions())
    }
    fn baseline(&self) -> Option<Baseline> {
        None
    }
    fn movement(&self, _: Option<&Baseline>) -> Result<Movement> {
        let state = self.state;
        Ok(Movement {
            pattern_change_fraction: if state.iteration() == 0 { 0.0 } else { state.pattern_change_fraction() },
            max_weight_distance: state.max_weight_distance(),
            weight_distance_frobenius: state.frobenius_distance(),
        })
    }
    fn lambda_min_h(&self) -> Result<f64> {
        self.problem.lambda_min_h(self.state)
    }
}

/// The loss at every observed iteration, in order: `losses[k] = L(k)` for a run observed from k = 0
/// at every iteration.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LossTrace {
    /// L(k) = ½ ‖y − u(k)‖².
    pub losses: Vec<f64>,
}

impl Observer<View<'_>, DescentError> for LossTrace {
    fn observe(&mut self, view: &View<'_>) -> Result<Control> {
        self.losses.push(view.state.loss());
        Ok(Control::Continue)
    }
}
