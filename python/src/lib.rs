//! The native module `overparam._native`: the workspace's kernels, dynamics and claim checks behind NumPy arrays.
//!
//! The arrays are float64.
//! Every function copies its NumPy inputs into faer matrices, then computes with the GIL released.
//! Long calls (`train`, `check`) run on a worker thread while the calling thread waits in slices of
//! 100 ms and calls `py.check_signals()` between them: Ctrl-C (or any pending signal whose handler
//! raises) returns the exception to Python within one slice, and a cancel flag tells the worker to
//! stop — `train` at its next sample or iteration (the flow observer returns `Control::Stop`, the
//! descent observer unwinds), `check` before its next seed starts (its seed store and progress
//! callback unwind).
//! Errors of the library become `ValueError` with the library's one-line message.
//!
//! Every computation runs on the module's own thread pool, never rayon's global one, so that a
//! `fork()` (Python's `multiprocessing` on Linux) cannot leave a child waiting on workers that were
//! not copied: the pool remembers the process that built it, and a child builds its own.

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::{Arc, Mutex};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::Duration;

use faer::{Col, Mat};
use model::{Dataset, Network, RowNorms};
use numpy::ndarray::{Array1, Array2};
use numpy::{IntoPyArray, PyArray1, PyArray2, PyReadonlyArray1, PyReadonlyArray2};
use pyo3::exceptions::{PyMemoryError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;

/// How often the waiting thread looks for signals.
const SIGNAL_POLL: Duration = Duration::from_millis(100);

/// Why a computation did not return a value.
#[derive(Debug)]
enum Failure {
    /// Bad input: `ValueError`.
    Value(String),
    /// Anything else: `RuntimeError`.
    Runtime(String),
    /// A request larger than the memory there is: `MemoryError`, raised before allocating.
    Memory(String),
}

impl Failure {
    fn into_py(self) -> PyErr {
        match self {
            Failure::Value(m) => PyValueError::new_err(m),
            Failure::Runtime(m) => PyRuntimeError::new_err(m),
            Failure::Memory(m) => PyMemoryError::new_err(m),
        }
    }
}

/// The memory a call may take: the model's per-array limit, and on Linux no more than the
/// machine's available memory (`MemAvailable` of /proc/meminfo).
fn memory_budget() -> u64 {
    let available = std::fs::read_to_string("/proc/meminfo").ok().and_then(|t| {
        t.lines()
            .find_map(|l| l.strip_prefix("MemAvailable:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map(|kib| kib.saturating_mul(1024))
    });
    available.map_or(model::network::MEMORY_LIMIT_BYTES, |a| a.min(model::network::MEMORY_LIMIT_BYTES))
}

/// Refuses, before anything is allocated, a call whose arrays (`f64` counts, multiplied with
/// checked arithmetic) would not fit the budget: the same up-front guard the command line has.
fn ensure_memory(what: &str, counts: &[&[usize]]) -> Result<(), Failure> {
    let elements = counts.iter().try_fold(0u64, |acc, dims| {
        dims.iter().try_fold(1u64, |p, &d| p.checked_mul(d as u64)).and_then(|n| acc.checked_add(n))
    });
    let bytes = elements.and_then(|e| e.checked_mul(8));
    let budget = memory_budget();
    match bytes {
        Some(b) if b <= budget => Ok(()),
        _ => Err(Failure::Memory(format!(
            "{what} would need about {} MiB, more than the {} MiB this machine can give it: use fewer rows or a smaller width",
            bytes.map_or("more than 2^64 bytes".to_string(), |b| (b >> 20).to_string()),
            budget >> 20
        ))),
    }
}

fn value(e: impl std::fmt::Display) -> Failure {
    Failure::Value(e.to_string())
}

/// The payload a cancelled worker unwinds with (never shown: the caller has already returned).
struct Cancelled;

/// Stops the worker by unwinding when the caller has gone (used where there is no observer to say Stop).
fn unwind_if_cancelled(cancel: &AtomicBool) {
    if cancel.load(Ordering::Relaxed) {
        resume_unwind(Box::new(Cancelled));
    }
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

type WorkerResult<T> = std::thread::Result<Result<T, Failure>>;

/// Runs `work` on a worker thread; the calling thread waits with the GIL released, checking for
/// signals every [`SIGNAL_POLL`]. On a signal the cancel flag is set and the signal's exception
/// (KeyboardInterrupt for Ctrl-C) is returned at once; the worker stops at its next check.
fn run_interruptible<T, F>(py: Python<'_>, work: F) -> PyResult<T>
where
    T: Send + 'static,
    F: FnOnce(&AtomicBool) -> Result<T, Failure> + Send + 'static,
{
    let cancel = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&cancel);
    let (tx, rx) = mpsc::channel::<WorkerResult<T>>();
    std::thread::Builder::new()
        .name("overparam-worker".into())
        .spawn(move || {
            let result = catch_unwind(AssertUnwindSafe(|| in_pool(|| work(&flag))));
            // After an interrupt nobody listens any more: dropping the result is what we want.
            let _ = tx.send(result);
        })
        .map_err(|e| PyRuntimeError::new_err(format!("cannot start a worker thread: {e}")))?;
    let mut rx: Receiver<WorkerResult<T>> = rx;
    loop {
        let (received, back) = py.detach(move || {
            let r = rx.recv_timeout(SIGNAL_POLL);
            (r, rx)
        });
        rx = back;
        match received {
            Ok(Ok(result)) => return result.map_err(Failure::into_py),
            Ok(Err(payload)) => {
                return Err(PyRuntimeError::new_err(format!(
                    "internal error in overparam: {}",
                    panic_message(payload.as_ref())
                )));
            }
            Err(RecvTimeoutError::Timeout) => {
                if let Err(signal) = py.check_signals() {
                    cancel.store(true, Ordering::Relaxed);
                    return Err(signal);
                }
            }
            Err(RecvTimeoutError::Disconnected) => {
                return Err(PyRuntimeError::new_err("internal error in overparam: the worker ended without a result"));
            }
        }
    }
}

/// The module's thread pool and the process that built it.
static POOL: Mutex<Option<(u32, Arc<rayon::ThreadPool>)>> = Mutex::new(None);

/// The thread pool of this process: built on first use, and built again in a child after
/// `fork()`, whose copy of the parent's pool has no threads behind it (a job sent there would wait
/// for ever). The parent's pool is then leaked, not dropped: its threads do not exist here.
fn pool() -> Result<Arc<rayon::ThreadPool>, Failure> {
    let pid = std::process::id();
    // A poisoned lock only means a panic elsewhere while it was held; the value is still whole.
    let mut slot = POOL.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((owner, p)) = slot.as_ref()
        && *owner == pid
    {
        return Ok(Arc::clone(p));
    }
    let built = rayon::ThreadPoolBuilder::new()
        .thread_name(|i| format!("overparam-{i}"))
        .build()
        .map_err(|e| Failure::Runtime(format!("cannot start the thread pool: {e}")))?;
    let built = Arc::new(built);
    if let Some(stale) = slot.replace((pid, Arc::clone(&built))) {
        std::mem::forget(stale);
    }
    Ok(built)
}

/// Runs `work` inside the module's thread pool (see [`pool`]).
fn in_pool<T: Send>(work: impl FnOnce() -> Result<T, Failure> + Send) -> Result<T, Failure> {
    pool()?.install(work)
}

/// Runs a short computation with the GIL released.
fn run_released<T, F>(py: Python<'_>, work: F) -> PyResult<T>
where
    T: Send,
    F: FnOnce() -> Result<T, Failure> + Send,
{
    py.detach(|| in_pool(work)).map_err(Failure::into_py)
}

fn mat_from(a: &PyReadonlyArray2<'_, f64>) -> Mat<f64> {
    let v = a.as_array();
    // i, j range over v's own dimensions.
    Mat::from_fn(v.nrows(), v.ncols(), |i, j| v[[i, j]])
}

fn col_from(a: &PyReadonlyArray1<'_, f64>) -> Col<f64> {
    let v = a.as_array();
    // i ranges over v's own length.
    Col::from_fn(v.len(), |i| v[i])
}

fn mat_to_py<'py>(py: Python<'py>, m: &Mat<f64>) -> Bound<'py, PyArray2<f64>> {
    Array2::from_shape_fn((m.nrows(), m.ncols()), |(i, j)| m[(i, j)]).into_pyarray(py)
}

fn vec_to_py<'py>(py: Python<'py>, v: Vec<f64>) -> Bound<'py, PyArray1<f64>> {
    Array1::from_vec(v).into_pyarray(py)
}

/// A validated data set: unit rows (or normalised), finite, no two rows parallel.
fn dataset(x: Mat<f64>, y: Option<Col<f64>>, normalise: bool) -> Result<Dataset, Failure> {
    let n = x.nrows();
    let y = y.unwrap_or_else(|| Col::zeros(n));
    let norms = if normalise { RowNorms::Normalise } else { RowNorms::default() };
    Dataset::new(x, y, norms).map_err(value)
}

/// A validated network that can run on `data`.
fn network(data: &Dataset, w: Mat<f64>, a: Col<f64>) -> Result<Network, Failure> {
    let net = Network::new(w, a).map_err(value)?;
    net.validate_against(data).map_err(value)?;
    Ok(net)
}

/// H∞ of the rows of X (n × n): H∞_ij = c(π − θ)/(2π), c = x_iᵀx_j, θ = arccos c (docs/theory.md §1.2).
#[pyfunction]
#[pyo3(signature = (x, normalise = false))]
fn h_infinity<'py>(
    py: Python<'py>,
    x: PyReadonlyArray2<'py, f64>,
    normalise: bool,
) -> PyResult<Bound<'py, PyArray2<f64>>> {
    let n = x.as_array().nrows();
    ensure_memory(&format!("H∞ of {n} rows"), &[&[n, n], &[n, n]]).map_err(Failure::into_py)?;
    let x = mat_from(&x);
    let h = run_released(py, move || Ok(model::h_infinity(dataset(x, None, normalise)?.input_gram())))?;
    Ok(mat_to_py(py, &h))
}

/// G∞ of the rows of X (n × n): G∞_ij = (sin θ + (π − θ)c)/(2π) (docs/theory.md §1.2).
#[pyfunction]
#[pyo3(signature = (x, normalise = false))]
fn g_infinity<'py>(
    py: Python<'py>,
    x: PyReadonlyArray2<'py, f64>,
    normalise: bool,
) -> PyResult<Bound<'py, PyArray2<f64>>> {
    let n = x.as_array().nrows();
    ensure_memory(&format!("G∞ of {n} rows"), &[&[n, n], &[n, n]]).map_err(Failure::into_py)?;
    let x = mat_from(&x);
    let g = run_released(py, move || Ok(model::g_infinity(dataset(x, None, normalise)?.input_gram())))?;
    Ok(mat_to_py(py, &g))
}

/// λ0 = λmin(H∞) of the rows of X (docs/theory.md §1.2).
#[pyfunction]
#[pyo3(signature = (x, normalise = false))]
fn lambda0(py: Python<'_>, x: PyReadonlyArray2<'_, f64>, normalise: bool) -> PyResult<f64> {
    let n = x.as_array().nrows();
    ensure_memory(&format!("λ0 of {n} rows (H∞ and its eigenvalues)"), &[&[n, n], &[n, n], &[n, n]])
        .map_err(Failure::into_py)?;
    let x = mat_from(&x);
    run_released(py, move || model::lambda0(&dataset(x, None, normalise)?).map_err(value))
}

/// H(W) (n × n) at finite width: (1/m) x_iᵀx_j Σ_r a_r² 1{w_rᵀx_i ≥ 0} 1{w_rᵀx_j ≥ 0} (docs/theory.md §1.2).
#[pyfunction]
fn gram_h<'py>(
    py: Python<'py>,
    x: PyReadonlyArray2<'py, f64>,
    w: PyReadonlyArray2<'py, f64>,
    a: PyReadonlyArray1<'py, f64>,
) -> PyResult<Bound<'py, PyArray2<f64>>> {
    let (x, w, a) = (mat_from(&x), mat_from(&w), col_from(&a));
    let h = run_released(py, move || {
        let data = dataset(x, None, false)?;
        let net = network(&data, w, a)?;
        let fwd = net.forward(&data).map_err(value)?;
        Ok(model::gram_h(data.input_gram(), fwd.z.as_ref(), net.a.as_ref()))
    })?;
    Ok(mat_to_py(py, &h))
}

/// G(W) (n × n) at finite width: (1/m) Σ_r σ(w_rᵀx_i) σ(w_rᵀx_j) (docs/theory.md §1.2); a is
/// validated against W but G does not depend on it.
#[pyfunction]
fn gram_g<'py>(
    py: Python<'py>,
    x: PyReadonlyArray2<'py, f64>,
    w: PyReadonlyArray2<'py, f64>,
    a: PyReadonlyArray1<'py, f64>,
) -> PyResult<Bound<'py, PyArray2<f64>>> {
    let (x, w, a) = (mat_from(&x), mat_from(&w), col_from(&a));
    let g = run_released(py, move || {
        let data = dataset(x, None, false)?;
        let net = network(&data, w, a)?;
        let fwd = net.forward(&data).map_err(value)?;
        Ok(model::gram_g(fwd.z.as_ref()))
    })?;
    Ok(mat_to_py(py, &g))
}

/// (W, a) as NumPy arrays.
type Weights<'py> = (Bound<'py, PyArray2<f64>>, Bound<'py, PyArray1<f64>>);

/// The seeded initialisation w_r ~ N(0, I_d), a_r ~ unif{−1, +1} (docs/theory.md §1.1): (W, a).
#[pyfunction]
#[pyo3(signature = (n_width, d, seed = 0))]
fn init<'py>(py: Python<'py>, n_width: usize, d: usize, seed: u64) -> PyResult<Weights<'py>> {
    if d == 0 {
        return Err(PyValueError::new_err("d = 0: the input dimension must be positive"));
    }
    let net = run_released(py, move || Network::init(n_width, d, seed, 0).map_err(value))?;
    Ok((mat_to_py(py, &net.w), vec_to_py(py, net.a.iter().copied().collect())))
}

/// Options of `train` besides the arrays.
#[derive(Debug, Clone)]
struct TrainOptions {
    run: training::Options,
    width: usize,
    seed: u64,
    normalise: bool,
}

/// A recorded trajectory, column by column (NaN where a value was not recorded).
#[derive(Debug, Default)]
struct Columns {
    step: Vec<f64>,
    t: Vec<f64>,
    loss: Vec<f64>,
    residual_sq: Vec<f64>,
    bound_ratio: Vec<f64>,
    lambda_min: Vec<f64>,
    pattern_change_fraction: Vec<f64>,
    distance: Vec<f64>,
    status: String,
    eta: Option<f64>,
}

/// Stops a run (flow, both-layers GD or first-layer GD) at its next step once cancelled.
struct Cancel<'a>(&'a AtomicBool);

impl training::Watch for Cancel<'_> {
    fn at_step(&mut self, _: usize) -> model::Control {
        if self.0.load(Ordering::Relaxed) { model::Control::Stop } else { model::Control::Continue }
    }
}

fn train_columns(
    x: Mat<f64>,
    y: Col<f64>,
    weights: Option<(Mat<f64>, Col<f64>)>,
    o: &TrainOptions,
    cancel: &AtomicBool,
) -> Result<Columns, Failure> {
    // The options first, as on the command line (the door checks them again).
    o.run.validate(training::Spelling::Python).map_err(value)?;
    let data = dataset(x, Some(y), o.normalise)?;
    let net = match weights {
        Some((w, a)) => network(&data, w, a)?,
        None => Network::init(o.width, data.d(), o.seed, 0).map_err(value)?,
    };
    let trained = training::train(&data, &net, &o.run, &mut Cancel(cancel)).map_err(value)?;
    let mut c = Columns { status: trained.status, eta: trained.eta, ..Columns::default() };
    for r in &trained.rows {
        c.step.push(r.step as f64);
        c.t.push(r.t);
        c.loss.push(r.loss);
        c.residual_sq.push(r.residual_sq);
        c.bound_ratio.push(r.bound_ratio.unwrap_or(f64::NAN));
        c.lambda_min.push(r.lambda_min_h.unwrap_or(f64::NAN));
        c.pattern_change_fraction.push(r.pattern_change_fraction);
        c.distance.push(r.max_weight_distance);
    }
    Ok(c)
}

/// Trains the network on (X, y) and returns its trajectory as a dict of arrays plus "status".
#[pyfunction]
#[pyo3(signature = (
    x, y, w = None, a = None, method = "gd", width = 1000, seed = 0, eta = None, iterations = 100,
    horizon = 5.0, step = 0.01, every = 1, lambda_min = false, normalise = false
))]
#[allow(clippy::too_many_arguments)]
fn train<'py>(
    py: Python<'py>,
    x: PyReadonlyArray2<'py, f64>,
    y: PyReadonlyArray1<'py, f64>,
    w: Option<PyReadonlyArray2<'py, f64>>,
    a: Option<PyReadonlyArray1<'py, f64>>,
    method: &str,
    width: usize,
    seed: u64,
    eta: Option<f64>,
    iterations: usize,
    horizon: f64,
    step: f64,
    every: usize,
    lambda_min: bool,
    normalise: bool,
) -> PyResult<Bound<'py, PyDict>> {
    let method = training::Method::parse(method).map_err(value).map_err(Failure::into_py)?;
    let weights = match (&w, &a) {
        (Some(w), Some(a)) => Some((mat_from(w), col_from(a))),
        (None, None) => None,
        _ => {
            return Err(PyValueError::new_err(
                "give both W and a, or neither (then width and seed initialise the network)",
            ));
        }
    };
    let (n, d) = x.as_array().dim();
    let m = weights.as_ref().map_or(width, |(w, _)| w.nrows());
    // The state and the RK4 stages (about six copies of W), and the n × m pre-activations, patterns
    // and gradients of an evaluation (about four).
    ensure_memory(&format!("training at width m = {m}"), &[&[6, m, d], &[4, n, m]]).map_err(Failure::into_py)?;
    let run = training::Options { method, eta, iterations, horizon, step, every, lambda_min };
    let options = TrainOptions { run, width, seed, normalise };
    let (x, y) = (mat_from(&x), col_from(&y));
    let c = run_interruptible(py, move |cancel| train_columns(x, y, weights, &options, cancel))?;
    let out = PyDict::new(py);
    out.set_item("step", vec_to_py(py, c.step))?;
    out.set_item("t", vec_to_py(py, c.t))?;
    out.set_item("loss", vec_to_py(py, c.loss))?;
    out.set_item("residual_sq", vec_to_py(py, c.residual_sq))?;
    out.set_item("bound_ratio", vec_to_py(py, c.bound_ratio))?;
    out.set_item("lambda_min", vec_to_py(py, c.lambda_min))?;
    out.set_item("pattern_change_fraction", vec_to_py(py, c.pattern_change_fraction))?;
    out.set_item("distance", vec_to_py(py, c.distance))?;
    out.set_item("eta", c.eta)?;
    out.set_item("status", c.status)?;
    Ok(out)
}

/// Unwinds out of a check once cancelled (the engine has no stop signal): the engine asks the
/// seed store before it evaluates a seed and reports progress after, so once the flag is set no
/// new seed starts and the seeds in flight end at their next report.
struct CancelCheck<'a>(&'a AtomicBool);

impl lemmas::Progress for CancelCheck<'_> {
    fn seed_done(&self, _: lemmas::ClaimId, _: usize, _: u64) {
        unwind_if_cancelled(self.0);
    }
}

impl lemmas::SeedStore for CancelCheck<'_> {
    fn get(&self, _: lemmas::ClaimId, _: usize, _: u64) -> Option<lemmas::SeedOutcome> {
        unwind_if_cancelled(self.0);
        None
    }
    fn put(&self, _: lemmas::ClaimId, _: usize, _: u64, _: &lemmas::SeedOutcome) -> Result<(), lemmas::LemmaError> {
        Ok(())
    }
}

/// The configuration of a check: the profile's for the claim, with `overrides` (a JSON object)
/// applied field by field.
fn check_config(claim: lemmas::ClaimId, profile: &str, overrides: &str) -> Result<lemmas::CheckConfig, Failure> {
    let profile = lemmas::Profile::parse(profile)
        .ok_or_else(|| {
            let names: Vec<String> = lemmas::Profile::ALL.iter().map(|p| format!("{:?}", p.name())).collect();
            Failure::Value(format!("profile {profile:?}: expected one of {}", names.join(", ")))
        })?;
    let mut base = serde_json::to_value(profile.config(claim)).map_err(|e| Failure::Runtime(e.to_string()))?;
    let overrides: serde_json::Value = serde_json::from_str(overrides).map_err(value)?;
    let (Some(fields), Some(given)) = (base.as_object_mut(), overrides.as_object()) else {
        return Err(Failure::Value("the configuration must be keyword arguments".into()));
    };
    for (key, v) in given {
        if !fields.contains_key(key) {
            let mut known: Vec<&str> = fields.keys().map(String::as_str).collect();
            known.sort_unstable();
            return Err(Failure::Value(format!("unknown setting {key:?} (known: {})", known.join(", "))));
        }
        fields.insert(key.clone(), v.clone());
    }
    let cfg: lemmas::CheckConfig =
        serde_json::from_value(base).map_err(|e| Failure::Value(format!("invalid configuration: {e}")))?;
    Ok(cfg)
}

/// Runs the check of one claim and returns its result as JSON text (the results JSON's content).
#[pyfunction]
#[pyo3(signature = (claim, profile = "quick", config_json = "{}"))]
fn check_json(py: Python<'_>, claim: &str, profile: &str, config_json: &str) -> PyResult<String> {
    let id = lemmas::ClaimId::parse(claim).ok_or_else(|| {
        let keys: Vec<&str> = lemmas::ClaimId::ALL.iter().map(|c| c.key()).collect();
        PyValueError::new_err(format!("unknown claim {claim:?} (known: {})", keys.join(", ")))
    })?;
    let cfg = check_config(id, profile, config_json).map_err(Failure::into_py)?;
    // H∞ and its eigen-solve (n × n) are made before the engine's own per-seed memory check.
    let widest = cfg.widths.iter().copied().max().unwrap_or(0);
    ensure_memory(&format!("{} at n = {}", id.slide(), cfg.n), &[&[3, cfg.n, cfg.n], &[cfg.n, cfg.d]])
        .map_err(Failure::into_py)?;
    let per_seed = lemmas::engine::seed_state_bytes(&cfg, widest) / 8;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(cfg.seeds.max(1) as usize);
    ensure_memory(&format!("{} at width m = {widest}", id.slide()), &[&[per_seed as usize, threads]])
        .map_err(Failure::into_py)?;
    run_interruptible(py, move |cancel| {
        let watch = CancelCheck(cancel);
        let ctx = lemmas::RunContext { progress: &watch, store: &watch, shard: None, plant_sanity_failure: None };
        let result = lemmas::check_with(id, &cfg, &ctx)
            .map_err(|e| match e {
                lemmas::LemmaError::Config { .. } | lemmas::LemmaError::Model(_) => value(e),
                other => Failure::Runtime(other.to_string()),
            })?
            .ok_or_else(|| Failure::Runtime("a check without a shard returned no result".into()))?;
        serde_json::to_string(&result).map_err(|e| Failure::Runtime(e.to_string()))
    })
}

/// The claims `check` knows, as (key, slide, paper, title).
#[pyfunction]
fn claims() -> Vec<(&'static str, &'static str, &'static str, &'static str)> {
    lemmas::ClaimId::ALL.iter().map(|c| (c.key(), c.slide(), c.paper(), c.title())).collect()
}

/// The module.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(h_infinity, m)?)?;
    m.add_function(wrap_pyfunction!(g_infinity, m)?)?;
    m.add_function(wrap_pyfunction!(lambda0, m)?)?;
    m.add_function(wrap_pyfunction!(gram_h, m)?)?;
    m.add_function(wrap_pyfunction!(gram_g, m)?)?;
    m.add_function(wrap_pyfunction!(init, m)?)?;
    m.add_function(wrap_pyfunction!(train, m)?)?;
    m.add_function(wrap_pyfunction!(check_json, m)?)?;
    m.add_function(wrap_pyfunction!(claims, m)?)?;
    Ok(())
}
