//! The one executor of the three dynamics: it walks the moves of a run (grid steps and samples),
//! applies the one divergence rule, calls the sample callback and ends the run with a [`Status`].
//!
//! A dynamics is a [`Stepper`] (first-layer or both-layers RK4 on a vector field, first-layer GD
//! or SGD, both-layers GD, in their own crates) on a state it advances in place; the moves come
//! from [`crate::grid::walk`] (flows: the grid fixed by h, with samples between grid points) or
//! [`crate::grid::iterations`] (discrete methods). [`execute`] owns everything else:
//!
//! - **Sampling.** The start state is sample 0. An on-grid sample shows the grid state; a sample
//!   between grid points shows a state the stepper makes from the grid point before it
//!   ([`Stepper::between`]), which never feeds back, so samples never change the solution.
//! - **Stopping.** The callback returns [`Control::Stop`] to end the run with
//!   [`Status::Stopped`] at the state it was shown (a between state then becomes the run's state).
//! - **Divergence** (one rule for every dynamics). A step, or a between state, whose loss is not
//!   finite ([`Divergence::NonFinite`]) or exceeds `divergence_factor` × L(0)
//!   ([`Divergence::LossGrowth`]) is not accepted: the run ends with [`Status::Diverged`] naming
//!   the last accepted state (its `t` and `step`), and the reason carries the failing loss. A
//!   stepper that keeps its previous state puts it back ([`Stepper::reject`]); one that updates in
//!   place without a copy (first-layer GD, the lazy kernel-space flow, the reduced solvers) leaves
//!   the failed state, and its driver reports what it was last shown (GD shows every iterate). Observers never see a state that failed the rule.

use super::{Control, Divergence, Status};
use crate::grid::Move;

/// Where a sample sits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct At {
    /// Its time (k·η for a discrete method).
    pub t: f64,
    /// Grid steps (iterations) accepted so far; a sample between grid points counts those to the
    /// grid point before it.
    pub step: usize,
    /// Its index among the samples (0: the start).
    pub index: usize,
}

/// One dynamics advanced step by step by [`execute`].
pub trait Stepper {
    /// What it advances.
    type State;
    /// Its error type.
    type Error;

    /// Prepares a run from `state` and returns its loss L(0) (not finite: the run ends at once).
    fn start(&mut self, state: &Self::State) -> Result<f64, Self::Error>;

    /// One step from time `from` to time `to`, in place; returns the loss of the new state (+∞ when
    /// anything in it is not finite). Both ends are the grid's own numbers (a stepper that keeps
    /// its time stores `to`, never `from + (to − from)`).
    fn step(&mut self, state: &mut Self::State, from: f64, to: f64) -> Result<f64, Self::Error>;

    /// The last step was refused by the divergence rule: put the state it started from back, if
    /// the stepper kept it (default: leave the state as it is).
    fn reject(&mut self, _state: &mut Self::State) {}

    /// The state at the sample time `to` from the grid state at `from` (a step of `to − from`,
    /// shorter than the grid step), never fed back, with its loss (+∞ when not finite). Default:
    /// none (a discrete method samples iterates only, and [`crate::grid::iterations`] never asks).
    fn between(
        &mut self,
        _state: &Self::State,
        _from: f64,
        _to: f64,
    ) -> Result<Option<(Self::State, f64)>, Self::Error> {
        Ok(None)
    }

    /// Takes back a state the executor no longer needs (default: drop it).
    fn recycle(&mut self, _state: Self::State) {}
}

/// How a run went: the status, and the time and step count of the state left in place.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Run {
    /// How it ended.
    pub status: Status,
    /// Time of the run's state.
    pub t: f64,
    /// Steps accepted to it.
    pub steps: usize,
}

/// Runs `stepper` on `state` over `moves` (see the module docs); `on_sample` sees every sample,
/// the start first, with the stepper (for what it tracks, such as error estimates).
pub fn execute<S, M, C>(
    stepper: &mut S,
    state: &mut S::State,
    moves: M,
    divergence_factor: f64,
    mut on_sample: C,
) -> Result<Run, S::Error>
where
    S: Stepper,
    M: IntoIterator<Item = Move>,
    C: FnMut(&mut S, &S::State, At) -> Result<Control, S::Error>,
{
    let loss0 = stepper.start(state)?;
    if !loss0.is_finite() {
        return Ok(Run {
            status: Status::Diverged { t: 0.0, step: 0, reason: Divergence::NonFinite },
            t: 0.0,
            steps: 0,
        });
    }
    let limit = divergence_factor * loss0.max(f64::MIN_POSITIVE);
    let refused = |loss: f64| {
        if !loss.is_finite() {
            Some(Divergence::NonFinite)
        } else if loss > limit {
            Some(Divergence::LossGrowth { loss, initial_loss: loss0, factor: divergence_factor })
        } else {
            None
        }
    };
    let (mut t, mut steps) = (0.0, 0usize);
    if on_sample(stepper, state, At { t, step: 0, index: 0 })? == Control::Stop {
        return Ok(Run { status: Status::Stopped { t, step: 0 }, t, steps });
    }
    for mv in moves {
        match mv {
            Move::Step { from, to } => {
                let loss = stepper.step(state, from, to)?;
                if let Some(reason) = refused(loss) {
                    stepper.reject(state);
                    return Ok(Run { status: Status::Diverged { t, step: steps, reason }, t, steps });
                }
                steps += 1;
                t = to;
            }
            Move::OnGrid { index, t: ts } => {
                if on_sample(stepper, state, At { t: ts, step: steps, index })? == Control::Stop {
                    return Ok(Run { status: Status::Stopped { t: ts, step: steps }, t: ts, steps });
                }
            }
            Move::Between { index, t: ts, from, .. } => {
                let Some((between, loss)) = stepper.between(state, from, ts)? else {
                    continue;
                };
                if let Some(reason) = refused(loss) {
                    stepper.recycle(between);
                    return Ok(Run { status: Status::Diverged { t, step: steps, reason }, t, steps });
                }
                if on_sample(stepper, &between, At { t: ts, step: steps, index })? == Control::Stop {
                    let grid_state = std::mem::replace(state, between);
                    stepper.recycle(grid_state);
                    return Ok(Run { status: Status::Stopped { t: ts, step: steps }, t: ts, steps });
                }
                stepper.recycle(between);
            }
        }
    }
    Ok(Run { status: Status::Completed, t, steps })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grid::{iterations, walk};

    /// x' = λx by explicit Euler with loss x²/2: exact arithmetic to check the executor's rules.
    struct Euler {
        lambda: f64,
        previous: Option<f64>,
    }

    impl Stepper for Euler {
        type State = f64;
        type Error = ();
        fn start(&mut self, x: &f64) -> Result<f64, ()> {
            Ok(0.5 * x * x)
        }
        fn step(&mut self, x: &mut f64, from: f64, to: f64) -> Result<f64, ()> {
            self.previous = Some(*x);
            *x += (to - from) * self.lambda * *x;
            Ok(0.5 * *x * *x)
        }
        fn reject(&mut self, x: &mut f64) {
            *x = self.previous.expect("a step was taken");
        }
        fn between(&mut self, x: &f64, from: f64, to: f64) -> Result<Option<(f64, f64)>, ()> {
            let y = x + (to - from) * self.lambda * x;
            Ok(Some((y, 0.5 * y * y)))
        }
    }

    fn seen(stepper: &mut Euler, moves: Vec<Move>, factor: f64, stop_at: Option<usize>) -> (Run, f64, Vec<(At, f64)>) {
        let mut x = 1.0;
        let mut shown = Vec::new();
        let run = execute(stepper, &mut x, moves, factor, |_, x, at| {
            shown.push((at, *x));
            Ok(if Some(at.index) == stop_at { Control::Stop } else { Control::Continue })
        })
        .unwrap();
        (run, x, shown)
    }

    #[test]
    fn samples_between_grid_points_do_not_move_the_grid_and_stop_keeps_the_state_shown() {
        let mut e = Euler { lambda: -1.0, previous: None };
        let (run, x, shown) = seen(&mut e, walk(0.5, &[0.0, 0.25, 1.0]).collect(), 10.0, None);
        assert_eq!(run, Run { status: Status::Completed, t: 1.0, steps: 2 });
        assert_eq!(x, 0.25, "two Euler steps of 0.5 at λ = −1, untouched by the sample at 0.25");
        assert_eq!(shown[1], (At { t: 0.25, step: 0, index: 1 }, 0.75));
        let (run, x, _) = seen(&mut e, walk(0.5, &[0.0, 0.25, 1.0]).collect(), 10.0, Some(1));
        assert_eq!(run, Run { status: Status::Stopped { t: 0.25, step: 0 }, t: 0.25, steps: 0 });
        assert_eq!(x, 0.75, "a run stopped at a between sample returns that state");
    }

    #[test]
    fn a_step_past_the_limit_is_refused_and_the_last_accepted_state_is_named() {
        // x doubles per step: losses 0.5, 2, 8, 32, …; the limit is 10 × 0.5 = 5.
        let mut e = Euler { lambda: 1.0, previous: None };
        let (run, x, shown) = seen(&mut e, iterations(1.0, 10, 1).collect(), 10.0, None);
        let reason = Divergence::LossGrowth { loss: 8.0, initial_loss: 0.5, factor: 10.0 };
        assert_eq!(run, Run { status: Status::Diverged { t: 1.0, step: 1, reason }, t: 1.0, steps: 1 });
        assert_eq!(x, 2.0, "the refused iterate 2 is put back");
        assert_eq!(shown.len(), 2, "the refused iterate is never shown");
        let mut blow = Euler { lambda: f64::MAX, previous: None };
        let (run, x, _) = seen(&mut blow, iterations(1.0, 3, 1).collect(), 10.0, None);
        let nonfinite = Status::Diverged { t: 0.0, step: 0, reason: Divergence::NonFinite };
        assert_eq!((run.status, x), (nonfinite, 1.0));
    }
}
