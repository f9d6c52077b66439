//! `cargo xtask soak [--minutes N] [--seed S] [--cases N]`: the long runs.
//! First the property-based model of the Recorder with many more cases than
//! `ci` runs (`MODEL_CASES`, default 20,000), then 10,000 live keys past a
//! cache of 1,000 against the API double, then the `soak` program of the
//! `e2e` crate: the Recorder against the local API double with random
//! faults and a churning key set, printing memory and counters over time
//! and the count invariant at the end. Both in release mode.

use crate::cargo;

/// The soak program's arguments, and the model's number of cases.
fn split(args: &[String]) -> Result<(Vec<String>, String), String> {
    let mut program = Vec::new();
    let mut cases = "20000".to_owned();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--cases" => {
                cases = it
                    .next()
                    .filter(|n| n.parse::<u32>().is_ok())
                    .cloned()
                    .ok_or("soak: --cases needs a whole number")?;
            }
            "--minutes" => {
                let value = it
                    .next()
                    .filter(|n| {
                        n.parse::<f64>().is_ok_and(|m| {
                            m > 0.0 && std::time::Duration::try_from_secs_f64(m * 60.0).is_ok()
                        })
                    })
                    .ok_or("soak: --minutes needs a number above 0")?;
                program.push(arg.clone());
                program.push(value.clone());
            }
            "--seed" => {
                let value = it
                    .next()
                    .filter(|n| n.parse::<u64>().is_ok())
                    .ok_or("soak: --seed needs a whole number")?;
                program.push(arg.clone());
                program.push(value.clone());
            }
            other => {
                return Err(format!(
                    "soak: unknown argument `{other}` (expected --minutes N, --seed S, --cases N)"
                ));
            }
        }
    }
    Ok((program, cases))
}

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let (program, cases) = split(args)?;
    println!("==> the Recorder's model, {cases} cases (release)");
    let model = [
        "test",
        "--release",
        "-p",
        "event-core",
        "--test",
        "model",
        "--",
        "--nocapture",
    ];
    cargo::run_with_env(
        "soak",
        model.iter().map(|s| (*s).to_owned()).collect(),
        &[("MODEL_CASES", cases.as_str())],
    )?;
    println!("==> 10,000 live keys past a cache of 1,000 against the local API double (release)");
    let identity = [
        "test",
        "--release",
        "-p",
        "kube-apiserver-double",
        "--test",
        "identity",
        "--",
        "--include-ignored",
    ];
    cargo::run("soak", identity.iter().map(|s| (*s).to_owned()).collect())?;
    println!("==> the soak run against the local API double (release)");
    let mut run = vec![
        "run",
        "--release",
        "--quiet",
        "-p",
        "e2e",
        "--bin",
        "soak",
        "--",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect::<Vec<_>>();
    run.extend(program);
    cargo::run("soak", run)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn arguments_are_checked_and_split() {
        assert_eq!(
            split(&strings(&["--minutes", "10", "--cases", "500"])).unwrap(),
            (strings(&["--minutes", "10"]), "500".to_owned())
        );
        assert_eq!(split(&[]).unwrap(), (vec![], "20000".to_owned()));
        assert!(split(&strings(&["--cases", "many"])).is_err());
        assert!(split(&strings(&["--minutes"])).is_err());
        assert!(split(&strings(&["--fast"])).is_err());
        // What the soak program would refuse only after the release build.
        assert!(split(&strings(&["--seed", "1.5"])).is_err());
        assert!(split(&strings(&["--minutes", "-1"])).is_err());
        assert!(split(&strings(&["--minutes", "0"])).is_err());
        assert!(split(&strings(&["--minutes", "NaN"])).is_err());
        assert!(split(&strings(&["--minutes", "1e300"])).is_err());
        assert_eq!(
            split(&strings(&["--minutes", "0.5", "--seed", "9"]))
                .unwrap()
                .0,
            strings(&["--minutes", "0.5", "--seed", "9"])
        );
    }
}
