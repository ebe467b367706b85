//! The flows' samples as the one recorder sees them: [`Snapshot`] is [`model::Recordable`].
//!
//! The recorder itself ([`Recorder`], its [`Sample`]s and [`Trajectory`]) is `model::record`'s,
//! shared with first-layer GD (descent's `View`) and both-layer GD (which shows a [`Snapshot`]
//! with t = kη). A snapshot keeps no memory of t = 0, so the recorder keeps W(0), a(0) and the
//! pattern of Z(0) as a [`model::Baseline`] and measures distances and pattern changes against it.

use faer::ColRef;
use model::{Baseline, Dataset, Movement, Recordable, SampleError, gram_h, lambda_min};

use crate::driver::Snapshot;
use crate::error::FlowError;

pub use model::{Recorder, RecorderOptions, Sample, SecondLayer, Trajectory, ratio_to_bound, safe_ratio};

fn no_baseline() -> FlowError {
    FlowError::Observer { reason: "a recorder was shown a sample before the start of its run".into() }
}

impl Recordable for Snapshot<'_> {
    type Error = FlowError;
    fn data(&self) -> &Dataset {
        self.data
    }
    fn t(&self) -> f64 {
        self.t
    }
    fn step(&self) -> usize {
        self.step
    }
    fn sample_index(&self) -> usize {
        self.sample_index
    }
    fn u(&self) -> ColRef<'_, f64> {
        self.u
    }
    fn residual_sq(&self) -> f64 {
        self.residual.squared_norm_l2()
    }
    fn width(&self) -> usize {
        self.w.nrows()
    }
    fn eta(&self) -> Option<f64> {
        self.learning_rate
    }
    fn error(&self) -> Option<SampleError> {
        self.error
    }
    fn baseline(&self) -> Option<Baseline> {
        Some(Baseline::new(self.w, self.a, self.z))
    }
    fn movement(&self, baseline: Option<&Baseline>) -> Result<Movement, FlowError> {
        Ok(baseline.ok_or_else(no_baseline)?.movement(self.w, self.z)?)
    }
    fn lambda_min_h(&self) -> Result<f64, FlowError> {
        Ok(lambda_min(gram_h(self.data.input_gram(), self.z, self.a).as_ref())?)
    }
    fn second_layer(&self, baseline: Option<&Baseline>, lambda_min: bool) -> Result<Option<SecondLayer>, FlowError> {
        Ok(Some(baseline.ok_or_else(no_baseline)?.second_layer(self.data, self.z, self.a, lambda_min)?))
    }
}
