//! Test builds only: how the property tests choose their seed and report a failure, in one place.
//!
//! `cargo test` runs each property with a fixed seed, so it is repeatable. With
//! `USERCENTER_PROPTEST_SEED=random` a run with a random seed follows (the seed is printed first, so a
//! failure can be replayed); `USERCENTER_PROPTEST_SEED=<64 hex digits>` runs only that seed.
//! `USERCENTER_PROPTEST_CASES=N` changes how many cases each run tries.

use std::fmt::Debug;

use proptest::strategy::Strategy;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};

/// Checks `property` on `cases` values of `strategy` (shrunk to a smallest failing one on failure) for
/// each seed; panics naming the seed, what broke, and the value.
pub fn check<S>(
    name: &str,
    fixed_seed: u8,
    cases: u32,
    strategy: S,
    property: impl Fn(S::Value) -> Result<(), String>,
) where
    S: Strategy,
    S::Value: Debug,
{
    let cases = std::env::var("USERCENTER_PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(cases);
    for (label, seed) in seeds([fixed_seed; 32]) {
        eprintln!("{name}: seed {label} (replay with USERCENTER_PROPTEST_SEED={})", hex(&seed));
        let config = Config { cases, failure_persistence: None, ..Config::default() };
        let mut runner = TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &seed));
        match runner.run(&strategy, |value| property(value).map_err(TestCaseError::fail)) {
            Ok(()) => {}
            Err(TestError::Fail(why, value)) => panic!("{name}, seed {label}: {why}\n{value:#?}"),
            Err(TestError::Abort(why)) => panic!("{name}, seed {label}: aborted: {why}"),
        }
    }
}

/// The fixed seed, then the one USERCENTER_PROPTEST_SEED asks for.
fn seeds(fixed: [u8; 32]) -> Vec<(String, [u8; 32])> {
    let mut seeds = vec![("fixed".to_owned(), fixed)];
    match std::env::var("USERCENTER_PROPTEST_SEED").as_deref() {
        Ok("random") => {
            let seed: [u8; 32] = rand::random();
            seeds.push((hex(&seed), seed));
        }
        Ok(given) if given.len() == 64 => {
            let bytes: Option<Vec<u8>> =
                (0..32).map(|i| u8::from_str_radix(&given[2 * i..2 * i + 2], 16).ok()).collect();
            if let Some(seed) = bytes.and_then(|b| <[u8; 32]>::try_from(b).ok()) {
                seeds = vec![(given.to_owned(), seed)];
            }
        }
        _ => {}
    }
    seeds
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
