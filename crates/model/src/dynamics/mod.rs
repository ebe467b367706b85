//! The words the three dynamics share: how a run ended ([`Status`], [`Divergence`]) and what an
//! observer wants after a sample ([`Control`]).
//!
//! `flow` (first-layer and both-layers RK4 gradient flow), `descent` (first-layer GD/SGD) and
//! `both-layers` (both-layers GD) all end their runs with a [`Status`], and their observers all
//! return a [`Control`]; an observer returning [`Control::Stop`] ends the run with
//! [`Status::Stopped`] at the state it was just shown. Positions are given both as a time `t` and
//! a step count `step`: for a flow, t is the time and `step` the RK4 steps taken; for gradient
//! descent, `step` is the iteration k and t = kη (the flow time the iterate approximates).
//!
//! [`execute`] is the one executor: every run of every dynamics walks its moves through it, under
//! one divergence rule and one stopping rule (module [`execute`](self::execute)).

mod execute;

pub use execute::{At, Run, Stepper, execute};

/// The multiple of the initial loss past which a run counts as diverged, unless a caller asks for
/// another: the one default of every dynamics (flow, descent, both layers, the reduced solver).
pub const DEFAULT_DIVERGENCE_FACTOR: f64 = 1e6;

/// Why a run was declared divergent.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Divergence {
    /// The state, the loss or the predictions became NaN or ±∞.
    NonFinite,
    /// The loss exceeded `factor` × the initial loss.
    LossGrowth {
        /// The loss that tripped the check.
        loss: f64,
        /// The loss at the start of the run.
        initial_loss: f64,
        /// The configured divergence factor.
        factor: f64,
    },
}

impl Divergence {
    /// The loss that tripped the check: +∞ for [`Divergence::NonFinite`] (never NaN).
    pub fn loss(&self) -> f64 {
        match self {
            Divergence::NonFinite => f64::INFINITY,
            Divergence::LossGrowth { loss, .. } => *loss,
        }
    }
}

/// How a run ended. `t` and `step` name the state the run returns (the last finite one).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Status {
    /// Reached the end time (or the last iteration).
    Completed,
    /// An observer returned [`Control::Stop`] after seeing the state at `t`, `step`.
    Stopped {
        /// Time of that state (kη for gradient descent).
        t: f64,
        /// Steps (iterations) taken to it.
        step: usize,
    },
    /// The dynamics blew up; the returned state is the last one kept, at `t`, `step`.
    Diverged {
        /// Time of the returned (last good) state (kη for gradient descent).
        t: f64,
        /// Steps (iterations) taken to it.
        step: usize,
        /// What was detected.
        reason: Divergence,
    },
}

impl Status {
    /// True when the run diverged.
    pub fn diverged(&self) -> bool {
        matches!(self, Status::Diverged { .. })
    }

    /// True when an observer stopped the run.
    pub fn stopped(&self) -> bool {
        matches!(self, Status::Stopped { .. })
    }
}

/// What an observer wants after a sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Control {
    /// Keep going.
    #[default]
    Continue,
    /// End the run now (status [`Status::Stopped`]).
    Stop,
}

impl Control {
    /// [`Control::Stop`] if either asks to stop: how observers called in turn combine.
    pub fn or(self, other: Control) -> Control {
        if self == Control::Stop || other == Control::Stop { Control::Stop } else { Control::Continue }
    }
}

/// Something a run shows its samples to, and that may stop it: the one observer trait of every
/// dynamics. `V` is what a sample shows (flow's and both-layers' `Snapshot`, descent's `View`),
/// `E` the run's error type (an observer error ends the run and is returned).
///
/// `&mut O`, pairs `(A, B)` (both see every sample; the run stops if either asks), `()` (does
/// nothing), `Vec<Box<O>>` (each in order, e.g. boxed `dyn` observers) and a closure wrapped in
/// [`FnObserver`] are observers too.
pub trait Observer<V: ?Sized, E> {
    /// Looks at one sample; return [`Control::Stop`] to end the run there.
    fn observe(&mut self, sample: &V) -> Result<Control, E>;
}

impl<V: ?Sized, E, O: Observer<V, E> + ?Sized> Observer<V, E> for &mut O {
    fn observe(&mut self, sample: &V) -> Result<Control, E> {
        (**self).observe(sample)
    }
}

impl<V: ?Sized, E, A: Observer<V, E>, B: Observer<V, E>> Observer<V, E> for (A, B) {
    fn observe(&mut self, sample: &V) -> Result<Control, E> {
        let first = self.0.observe(sample)?;
        let second = self.1.observe(sample)?;
        Ok(first.or(second))
    }
}

impl<V: ?Sized, E> Observer<V, E> for () {
    fn observe(&mut self, _sample: &V) -> Result<Control, E> {
        Ok(Control::Continue)
    }
}

/// A closure as an observer: `FnObserver(|sample| Ok(Control::Continue))`.
pub struct FnObserver<F>(pub F);

impl<V: ?Sized, E, F: FnMut(&V) -> Result<Control, E>> Observer<V, E> for FnObserver<F> {
    fn observe(&mut self, sample: &V) -> Result<Control, E> {
        (self.0)(sample)
    }
}

impl<V: ?Sized, E, O: Observer<V, E> + ?Sized> Observer<V, E> for Vec<Box<O>> {
    fn observe(&mut self, sample: &V) -> Result<Control, E> {
        self.iter_mut().try_fold(Control::Continue, |control, o| Ok(control.or(o.observe(sample)?)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn divergence_loss_is_never_nan() {
        assert_eq!(Divergence::NonFinite.loss(), f64::INFINITY);
        let growth = Divergence::LossGrowth { loss: 3.0, initial_loss: 1.0, factor: 2.0 };
        assert_eq!(growth.loss(), 3.0);
    }

    #[test]
    fn combined_observers_all_see_the_sample_and_stop_wins() {
        struct Count(usize, Control);
        impl Observer<f64, ()> for Count {
            fn observe(&mut self, _: &f64) -> Result<Control, ()> {
                self.0 += 1;
                Ok(self.1)
            }
        }
        let (mut a, mut b) = (Count(0, Control::Continue), Count(0, Control::Stop));
        assert_eq!((&mut a, &mut b).observe(&1.0), Ok(Control::Stop));
        let mut all: Vec<Box<dyn Observer<f64, ()>>> = vec![Box::new(Count(0, Control::Continue)), Box::new(())];
        assert_eq!(all.observe(&1.0), Ok(Control::Continue));
        assert_eq!((a.0, b.0), (1, 1));
    }

    #[test]
    fn stop_wins() {
        use Control::{Continue, Stop};
        assert_eq!(
            [Continue.or(Continue), Continue.or(Stop), Stop.or(Continue), Stop.or(Stop)],
            [Continue, Stop, Stop, Stop]
        );
    }
}
