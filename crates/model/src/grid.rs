//! The fixed RK4 grid of the flows and how sample times sit on it (docs/theory.md §3.3): the grid
//! is t_k = k·h for k < N = ⌈T/h⌉ and t_N = T; a sample on a grid point (within [`GRID_SNAP`]·h)
//! is the grid state, a sample between grid points is a separate short step from the grid point
//! before it that never feeds back. `flow`, `reduced` and the lemmas' reduced trajectories walk
//! the same grid through [`walk`], so sample times never change a solution.

/// A sample within this fraction of h of a grid point is taken at that grid point.
pub const GRID_SNAP: f64 = 1e-9;

/// Number of equal steps of length ≤ h covering an interval of length `delta` > 0 (the slack
/// keeps Δ = k·h, up to rounding, at k steps instead of k + 1).
pub fn steps_for(delta: f64, h: f64) -> usize {
    ((delta / h) * (1.0 - 1e-12)).ceil().max(1.0) as usize
}

/// One move of a walk over the grid, in order.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Move {
    /// A sample strictly between grid points: a step of `tau` from the grid point `from`, on a
    /// copy of the state.
    Between {
        /// Index of the sample time.
        index: usize,
        /// The sample time.
        t: f64,
        /// The grid point before it.
        from: f64,
        /// t − from.
        tau: f64,
    },
    /// A grid step (the state moves by to − from).
    Step {
        /// Where it starts.
        from: f64,
        /// Where it lands.
        to: f64,
    },
    /// A sample on the grid point just reached.
    OnGrid {
        /// Index of the sample time.
        index: usize,
        /// The sample time.
        t: f64,
    },
}

/// The moves of a run with step h over `times` (strictly increasing, starting at 0, the last
/// being T; sample 0 is the initial state and is not listed), in order, generated lazily (a run
/// of 10⁹ steps holds no list).
pub fn walk(h: f64, times: &[f64]) -> Walk<'_> {
    let t_end = times.last().copied().unwrap_or(0.0);
    let n = if t_end > 0.0 { steps_for(t_end, h) } else { 0 };
    Walk { h, times, t_end, n, k: 0, next: 1, pending: None }
}

/// The iterator of [`walk`].
#[derive(Debug, Clone)]
pub struct Walk<'a> {
    h: f64,
    times: &'a [f64],
    t_end: f64,
    n: usize,
    k: usize,
    next: usize,
    /// An on-grid sample due after the step just returned.
    pending: Option<Move>,
}

impl Walk<'_> {
    fn grid(&self, k: usize) -> f64 {
        if k >= self.n { self.t_end } else { k as f64 * self.h }
    }
}

impl Iterator for Walk<'_> {
    type Item = Move;
    fn next(&mut self) -> Option<Move> {
        if let Some(m) = self.pending.take() {
            return Some(m);
        }
        if self.k >= self.n {
            return None;
        }
        let (t, t_next) = (self.grid(self.k), self.grid(self.k + 1));
        let snap = GRID_SNAP * self.h;
        let times = self.times;
        if self.next < times.len() && times[self.next] < t_next - snap {
            let index = self.next;
            self.next += 1;
            return Some(Move::Between { index, t: times[index], from: t, tau: times[index] - t });
        }
        self.k += 1;
        if self.next < times.len() && (times[self.next] - t_next).abs() <= snap {
            self.pending = Some(Move::OnGrid { index: self.next, t: times[self.next] });
            self.next += 1;
        }
        Some(Move::Step { from: t, to: t_next })
    }
}

/// The moves of `count` iterations of a discrete method with step η: iteration k goes from kη to
/// (k + 1)η, and iterate k is a sample when k is a multiple of `every` (≥ 1) or the last one
/// (sample indices count the samples; iterate 0 is sample 0 and is not listed).
pub fn iterations(eta: f64, count: usize, every: usize) -> impl Iterator<Item = Move> {
    let every = every.max(1);
    let mut index = 0;
    (0..count).flat_map(move |k| {
        let step = Move::Step { from: k as f64 * eta, to: (k + 1) as f64 * eta };
        let done = k + 1;
        let sample = (done.is_multiple_of(every) || done == count).then(|| {
            index += 1;
            Move::OnGrid { index, t: done as f64 * eta }
        });
        std::iter::once(step).chain(sample)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_between_grid_points_never_move_the_grid() {
        let steps = |m: &[Move]| {
            m.iter()
                .filter_map(|m| if let Move::Step { from, to } = m { Some((*from, *to - *from)) } else { None })
                .collect::<Vec<_>>()
        };
        let on: Vec<Move> = walk(0.1, &[0.0, 0.1, 0.2, 0.25]).collect();
        let off: Vec<Move> = walk(0.1, &[0.0, 0.05, 0.25]).collect();
        assert_eq!(steps(&on), steps(&off));
        assert_eq!(steps(&on).len(), 3);
        assert!((steps(&on)[2].1 - 0.05).abs() < 1e-15, "the last step lands on T");
        assert_eq!(off[0], Move::Between { index: 1, t: 0.05, from: 0.0, tau: 0.05 });
        assert!(matches!(off.last(), Some(Move::OnGrid { index: 2, .. })));
        assert_eq!(on.iter().filter(|m| matches!(m, Move::OnGrid { .. })).count(), 3);
    }

    #[test]
    fn iterations_sample_every_stride_and_the_last() {
        let moves: Vec<Move> = iterations(0.5, 5, 2).collect();
        let samples: Vec<(usize, f64)> = moves
            .iter()
            .filter_map(|m| if let Move::OnGrid { index, t } = m { Some((*index, *t)) } else { None })
            .collect();
        assert_eq!(samples, vec![(1, 1.0), (2, 2.0), (3, 2.5)]);
        assert_eq!(moves.iter().filter(|m| matches!(m, Move::Step { .. })).count(), 5);
        assert_eq!(moves[0], Move::Step { from: 0.0, to: 0.5 });
    }
}
