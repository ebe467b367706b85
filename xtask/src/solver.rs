//! `train --solver full|reduced|auto`: the reduced solver of docs/theory.md §5 behind the `train` command.
//!
//! `auto` (the default) takes the reduced solver for first-layer dynamics (flow, gd) on a seeded
//! init when the width is large against n (m ≥ `train::AUTO_MIN_WIDTH` and n ≤
//! `train::AUTO_MAX_INPUTS`): it gives the full solver's numbers to rounding without storing W.
//! Both-layer methods always run the full solver (the reduction is first-layer only).

use std::process::ExitCode;

use train::{Init, Network};

use crate::CommandError;
use crate::data::{TrainArgs, write_trajectory};

/// Runs `train` on the reduced solver when `args` ask for it (or `auto` picks it); `None` means
/// the caller runs the full solver.
pub fn train_reduced(args: &TrainArgs) -> Result<Option<ExitCode>, CommandError> {
    if !train::reduced_applies(args.solver.solver, args.method, args.w.is_some(), args.width)? {
        return Ok(None);
    }
    let data = train::load(&args.x, &args.y, args.normalise)?;
    let given = match (&args.w, &args.a) {
        (Some(w), Some(a)) => {
            let net = Network::new(train::npy::read_matrix(w)?, train::npy::read_vector(a)?)
                .map_err(|e| CommandError::Input(format!("{} / {}: {e}", w.display(), a.display())))?;
            net.check_against(&data).map_err(|e| CommandError::Input(format!("{}: {e}", w.display())))?;
            Some(net)
        }
        (None, None) => None,
        _ => {
            return Err(CommandError::Input(
                "give both --w and --a, or neither (then --width and --seed init the network)".into(),
            ));
        }
    };
    let init = match &given {
        Some(net) => Init::Given(net),
        None => Init::Seeded { width: args.width, seed: args.seed },
    };
    if !(args.solver.solver == train::Solver::Auto && data.n() > train::AUTO_MAX_INPUTS) {
        let m = given.as_ref().map_or(args.width, |net| net.w.nrows());
        println!("train: {:?} on the reduced solver, n = {}, d = {}, m = {m}", args.method, data.n(), data.d());
    }
    match train::train_reduced(&data, init, &args.options(), args.solver.solver)? {
        Some(trained) => write_trajectory(&args.out, &trained).map(Some),
        None => Ok(None),
    }
}
