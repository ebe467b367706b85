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
/// being T; sample 0 is the initial state and is not listed).
pub fn walk(h: f64, times: &[f64]) -> Vec<Move> {
    let t_end = times.last().copied().unwrap_or(0.0);
    let n = if t_end > 0.0 { steps_for(t_end, h) } else { 0 };
    let grid = |k: usize| if k >= n { t_end } else { k as f64 * h };
    let snap = GRID_SNAP * h;
    let mut moves = Vec::with_capacity(n + times.len());
    let mut next = 1;
    for k in 0..n {
        let (t, t_next) = (grid(k), grid(k + 1));
        while next < times.len() && times[next] < t_next - snap {
            moves.push(Move::Between { index: next, t: times[next], from: t, tau: times[next] - t });
            next += 1;
        }
        moves.push(Move::Step { from: t, to: t_next });
        if next < times.len() && (times[next] - t_next).abs() <= snap {
            moves.push(Move::OnGrid { index: next, t: times[next] });
            next += 1;
        }
    }
    moves
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
        let on = walk(0.1, &[0.0, 0.1, 0.2, 0.25]);
        let off = walk(0.1, &[0.0, 0.05, 0.25]);
        assert_eq!(steps(&on), steps(&off));
        assert_eq!(steps(&on).len(), 3);
        assert!((steps(&on)[2].1 - 0.05).abs() < 1e-15, "the last step lands on T");
        assert_eq!(off[0], Move::Between { index: 1, t: 0.05, from: 0.0, tau: 0.05 });
        assert!(matches!(off.last(), Some(Move::OnGrid { index: 2, .. })));
        assert_eq!(on.iter().filter(|m| matches!(m, Move::OnGrid { .. })).count(), 3);
    }
}
