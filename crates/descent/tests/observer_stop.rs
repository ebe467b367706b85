//! An observer returning `Control::Stop` ends a GD run exactly as it ends a flow run: status
//! `Stopped` at the iterate the observer was just shown, and the outcome describes that iterate.

mod common;

use common::KeepAll;
use descent::{Control, DescentConfig, LearningRate, Method, Problem, Status};
use model::{Dataset, Network};

const ITERATIONS: usize = 20;

/// Asks to stop once it has seen iteration `at`, and counts the iterates it saw.
struct StopAt {
    at: usize,
    seen: Vec<usize>,
}

impl descent::Observer<descent::View<'_>, descent::DescentError> for StopAt {
    fn observe(&mut self, view: &descent::View<'_>) -> descent::Result<Control> {
        let (_, state) = (view.problem, view.state);
        self.seen.push(state.iteration());
        Ok(if state.iteration() == self.at { Control::Stop } else { Control::Continue })
    }
}

fn setup() -> (Dataset, Network) {
    (Dataset::sphere(6, 4, 17, 0).unwrap(), Network::init(200, 4, 17, 0).unwrap())
}

fn config(method: Method) -> DescentConfig {
    DescentConfig { learning_rate: LearningRate::Fixed(0.5), iterations: ITERATIONS, method, ..Default::default() }
}

#[test]
fn stop_at_k_ends_the_run_at_iterate_k() {
    let (data, net) = setup();
    for method in [Method::KernelSpace, Method::WeightSpace] {
        let config = config(method);
        let problem = Problem::new(&data, &net, &config).unwrap();
        let mut full = KeepAll::default();
        let complete = problem.run(&mut full).unwrap();
        assert_eq!((complete.status, complete.iterations), (Status::Completed, ITERATIONS));
        for k in [0, 1, 7, ITERATIONS] {
            // The stopping observer first, then one that records: both see iterate k.
            let mut observers = (StopAt { at: k, seen: Vec::new() }, KeepAll::default());
            let o = problem.run(&mut observers).unwrap();
            let (stop, keep) = observers;
            // Even at the last iterate a stop is reported as such, as the flow drivers do.
            let expected = Status::Stopped { t: k as f64 * o.eta, step: k };
            assert_eq!(o.status, expected, "{method:?}, stop at {k}");
            assert_eq!(o.iterations, k, "{method:?}: the outcome is iterate {k}");
            assert_eq!(stop.seen, (0..=k).collect::<Vec<_>>(), "{method:?}: nothing is shown after the stop");
            assert_eq!(keep.snapshots.len(), k + 1, "{method:?}: the other observer saw iterate {k} too");
            // Iterate k, bit for bit as in the run that did not stop.
            let reference = &full.snapshots[k];
            assert_eq!(o.final_loss.to_bits(), reference.loss.to_bits(), "{method:?}, k = {k}");
            assert_eq!(o.final_predictions, reference.u, "{method:?}, k = {k}");
            let max_distance = reference.squared_distances.iter().copied().fold(0.0, f64::max).sqrt();
            assert_eq!(o.final_max_weight_distance, max_distance, "{method:?}, k = {k}");
            assert_eq!(o.peak_loss, full.snapshots[..=k].iter().map(|s| s.loss).fold(f64::MIN, f64::max));
        }
    }
}

/// Any observer of a list can stop the run; all of them still see the iterate it stops at.
#[test]
fn any_observer_in_a_list_can_stop() {
    let (data, net) = setup();
    let mut observers: descent::Observers = vec![
        Box::new(StopAt { at: usize::MAX, seen: Vec::new() }),
        Box::new(StopAt { at: 3, seen: Vec::new() }),
        Box::new(KeepAll::default()),
    ];
    let o = descent::run(&data, &net, &config(Method::KernelSpace), &mut observers).unwrap();
    assert_eq!((o.status, o.iterations), (Status::Stopped { t: 3.0 * o.eta, step: 3 }, 3));
}
