//! The kernels of a data set: H∞ and G∞ in closed form, and the eigenvalues the theory reads.

use faer::Mat;
use model::Dataset;

use crate::TrainError;

/// H∞, G∞ and the eigenvalues the theorems read.
#[derive(Debug, Clone)]
pub struct Kernels {
    /// H∞ (first layer).
    pub h: Mat<f64>,
    /// G∞ (second layer).
    pub g: Mat<f64>,
    /// The eigenvalues of H∞, ascending (λ0 first).
    pub h_eigenvalues: Vec<f64>,
    /// λmin(G∞).
    pub g_lambda_min: f64,
    /// λmin(H∞ + G∞), the both-layers rate.
    pub hg_lambda_min: f64,
}

/// Computes the kernels of `data`, telling `stage` what it starts (the O(n³) parts take minutes at n = 10⁴).
pub fn kernels(data: &Dataset, stage: &mut dyn FnMut(&'static str)) -> Result<Kernels, TrainError> {
    stage("H∞ and G∞ (closed forms, O(n²))");
    let h = model::h_infinity(data.input_gram());
    let g = model::g_infinity(data.input_gram());
    stage("eigenvalues of H∞ (O(n³))");
    let h_eigenvalues = model::symmetric_eigenvalues(h.as_ref())?;
    stage("λmin(G∞) (O(n³))");
    let g_lambda_min = model::lambda_min(g.as_ref())?;
    stage("λmin(H∞ + G∞) (O(n³))");
    let hg_lambda_min = model::lambda_min((&h + &g).as_ref())?;
    Ok(Kernels { h, g, h_eigenvalues, g_lambda_min, hg_lambda_min })
}
