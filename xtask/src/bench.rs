//! `cargo xtask bench [--quick] [--runs N]`: builds the `bench` crate in
//! release mode and runs it, passing the arguments on. The comparison with
//! kube-rs lives in that crate, so this one keeps no dependencies.

use crate::cargo;

/// The fewest runs `bench` takes (it reports medians and spreads).
const MIN_RUNS: usize = 5;

/// The arguments `bench` accepts; anything else is refused here, before a
/// release build starts.
fn check(args: &[String]) -> Result<(), String> {
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--quick" | "-h" | "--help" => {}
            "--runs" => {
                it.next()
                    .filter(|n| n.parse::<usize>().is_ok_and(|n| n >= MIN_RUNS))
                    .ok_or_else(|| {
                        format!("bench: --runs needs a number of at least {MIN_RUNS}")
                    })?;
            }
            other => {
                return Err(format!(
                    "bench: unknown argument `{other}` (expected --quick, --runs N)"
                ));
            }
        }
    }
    Ok(())
}

/// The cargo arguments that build and run the benchmark.
fn cargo_args(args: &[String]) -> Vec<String> {
    ["run", "--release", "-p", "bench", "--"]
        .into_iter()
        .map(str::to_owned)
        .chain(args.iter().cloned())
        .collect()
}

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    check(args)?;
    println!("==> building and running the benchmark (release)");
    cargo::run("bench", cargo_args(args))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn arguments_are_checked_and_passed_on() {
        assert!(check(&strings(&["--quick", "--runs", "7"])).is_ok());
        assert!(check(&strings(&["--runs"])).is_err());
        assert!(check(&strings(&["--runs", "many"])).is_err());
        assert!(check(&strings(&["--runs", "2"])).is_err());
        assert!(check(&strings(&["--runs", "5"])).is_ok());
        assert!(check(&strings(&["--fast"])).is_err());
        assert_eq!(
            cargo_args(&strings(&["--quick"])),
            strings(&["run", "--release", "-p", "bench", "--", "--quick"])
        );
    }
}
