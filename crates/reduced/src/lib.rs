//! The exact lazy-neuron reduction (docs/theory.md §5): first-layer gradient flow (slide Thm 2.1 =
//! paper Thm 3.2) and first-layer GD (slide Thm 3.1 = paper Thm 4.1) at widths where W(0) cannot
//! be stored.
//!
//! A neuron whose activation pattern never changes evolves linearly: with the cumulative residual
//! c(t) = ∫₀ᵗ (u − y) ds (GD: c(k) = η Σ_{j<k} e(j)), z_r(t) = z_r(0) − (a_r/√m) K (s_r ⊙ c(t)).
//! All such *frozen* neurons together act through the n × n matrix H_F = K ⊙ (S_F S_Fᵀ)/m and the
//! vector u_F(0), so only the count of each pattern among them matters (at most 2ⁿ). The *active*
//! neurons — those whose pre-activation can reach 0 within the movement budget ρ̄ — are simulated
//! one by one. A rigorous bound keeps the split honest: a frozen neuron moves by at most
//! ρ_i(t) = (1/√m)(|K| b(t))_i on input i, with b = ∫|e| (GD: η Σ|e|), checked at every RK4
//! stage; when ρ reaches ρ̄ the budget grows and a new pass over the seeded stream moves the newly
//! reachable neurons from frozen to active at their exact current state.
//!
//! Shape: a *problem* [`System`] (data, K, the neuron source), a *state* [`State`] (c, b, the
//! budget, the frozen summary and the active neurons), the *stepper* [`Dynamics`] (RK4 at a fixed
//! step, the scheme of the `flow` crate, or GD: a `model::Stepper`, so every run goes through the
//! one executor `model::execute` under its one divergence rule), [`ShadowedFlow`] (the flow with
//! its h/2 shadow, for error bands), and the *drivers* [`run_flow`] and [`run_gd`], whose
//! `model::Observer` sees an exact [`Sample`] at each sample point and whose [`Outcome`] carries
//! the one `model::Status`.
//!
//! W(0) never exists in memory: a [`NeuronSource`] streams (z_r(0), a_r) in chunks.
//! [`SeededInit`] gives the very draws of `model::Network::init` for the same seed (stream
//! positions are recorded on the first pass, so later passes seek and run in parallel);
//! [`GivenNetwork`] wraps a stored network (tests, planted neurons).

pub mod error;
pub mod memory;
pub mod solver;
pub mod source;

pub use error::{ReducedError, Result};
pub use memory::{MemoryEstimate, expected_active};
pub use solver::{
    BudgetPolicy, Control, Dynamics, Outcome, Sample, ShadowedFlow, State, System, run_flow, run_gd, steps_for,
};
pub use source::{CHUNK_NEURONS, Chunk, GivenNetwork, NeuronSource, SeededInit};
