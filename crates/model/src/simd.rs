//! Runtime choice of instruction set for the crate's elementwise and bit kernels (and those of crates above it).
//!
//! A kernel is written once, in portable Rust, as a [`SimdKernel`] whose `run` is
//! `#[inline(always)]`; [`dispatch`] runs it inside a function compiled with the best instruction
//! set this CPU supports, so the compiler may vectorise it with AVX2 or AVX-512. The arithmetic
//! is the same on every path (no fused multiply-add is introduced implicitly: Rust never
//! contracts `a * b + c`), so the bits do not depend on the path either.

/// Which instruction set a kernel runs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Isa {
    /// Compiled for the baseline target only.
    Portable,
    /// `avx2`, `fma` and `popcnt`.
    #[cfg(target_arch = "x86_64")]
    Avx2,
    /// `avx512f`, `avx512bw`, `avx512vl` and `avx512vpopcntdq` (with AVX2's).
    #[cfg(target_arch = "x86_64")]
    Avx512,
}

impl Isa {
    /// The best instruction set this CPU supports.
    pub fn detect() -> Isa {
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::is_x86_feature_detected as has;
            let avx2 = has!("avx2") && has!("fma") && has!("popcnt");
            if avx2 && has!("avx512f") && has!("avx512bw") && has!("avx512vl") && has!("avx512vpopcntdq") {
                return Isa::Avx512;
            }
            if avx2 {
                return Isa::Avx2;
            }
        }
        Isa::Portable
    }

    /// Every instruction set this CPU supports, baseline first (for tests of every path).
    pub fn all_supported() -> Vec<Isa> {
        let mut out = vec![Isa::Portable];
        #[cfg(target_arch = "x86_64")]
        {
            match Isa::detect() {
                Isa::Avx512 => out.extend([Isa::Avx2, Isa::Avx512]),
                Isa::Avx2 => out.push(Isa::Avx2),
                Isa::Portable => {}
            }
        }
        out
    }
}

/// A kernel for [`dispatch`]: its `run` must be `#[inline(always)]` so that it is compiled
/// inside the instruction-set-specific caller.
pub trait SimdKernel {
    /// What the kernel returns.
    type Output;
    /// The work.
    fn run(self) -> Self::Output;
}

/// Runs `kernel` compiled for the best instruction set of this CPU ([`Isa::detect`]).
pub fn dispatch<K: SimdKernel>(kernel: K) -> K::Output {
    dispatch_with(Isa::detect(), kernel)
}

/// Runs `kernel` compiled for `isa`; panics if this CPU does not support `isa`.
pub fn dispatch_with<K: SimdKernel>(isa: Isa, kernel: K) -> K::Output {
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vpopcntdq,avx2,fma,popcnt")]
        fn avx512<K: SimdKernel>(kernel: K) -> K::Output {
            kernel.run()
        }
        #[target_feature(enable = "avx2,fma,popcnt")]
        fn avx2<K: SimdKernel>(kernel: K) -> K::Output {
            kernel.run()
        }
        match isa {
            Isa::Avx512 => {
                assert_eq!(Isa::detect(), Isa::Avx512, "dispatch_with: AVX-512 is not supported here");
                // SAFETY: the CPU supports every feature enabled on `avx512` (checked just above).
                unsafe { avx512(kernel) }
            }
            Isa::Avx2 => {
                assert!(Isa::detect() != Isa::Portable, "dispatch_with: AVX2 is not supported here");
                // SAFETY: `detect` found at least `avx2`, `fma` and `popcnt` (checked just above).
                unsafe { avx2(kernel) }
            }
            Isa::Portable => kernel.run(),
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = isa;
        kernel.run()
    }
}
