//! `cargo xtask ci`: every check a change must pass, in order, stopping at
//! the first failure.

use std::path::PathBuf;
use std::time::Instant;

use crate::cargo;

/// One step: a name and a cargo invocation.
struct Step {
    name: &'static str,
    args: &'static [&'static str],
    env: &'static [(&'static str, &'static str)],
}

const STEPS: &[Step] = &[
    Step {
        name: "format",
        args: &["fmt", "--all", "--", "--check"],
        env: &[],
    },
    Step {
        name: "clippy",
        args: &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--all-features",
            "--",
            "-D",
            "warnings",
        ],
        env: &[],
    },
    Step {
        name: "tests",
        args: &["test", "--workspace", "--all-features"],
        env: &[],
    },
    Step {
        name: "quickstart",
        args: &[
            "run",
            "--quiet",
            "-p",
            "examples",
            "--example",
            "quickstart",
        ],
        env: &[],
    },
    Step {
        name: "e2e",
        args: &["run", "--quiet", "-p", "e2e", "--bin", "e2e"],
        env: &[],
    },
    Step {
        name: "docs",
        args: &["doc", "--workspace", "--no-deps", "--all-features"],
        env: &[("RUSTDOCFLAGS", "-D warnings")],
    },
];

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    if let Some(extra) = args.first() {
        return Err(format!("ci takes no arguments (got `{extra}`)"));
    }
    let started = Instant::now();
    for step in STEPS {
        println!("==> ci step `{}`: cargo {}", step.name, step.args.join(" "));
        let step_started = Instant::now();
        let status = cargo::command()
            .args(step.args)
            .envs(step.env.iter().copied())
            .status()
            .map_err(|e| format!("ci step `{}` could not start cargo: {e}", step.name))?;
        if !status.success() {
            return Err(format!("ci step `{}` failed ({status})", step.name));
        }
        println!(
            "==> ci step `{}` passed in {:.0?}",
            step.name,
            step_started.elapsed()
        );
    }
    println!("==> ci passed in {:.0?}", started.elapsed());
    Ok(())
}

/// The workspace root: the parent of this crate's manifest directory.
pub(crate) fn workspace_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(PathBuf::from).unwrap_or(manifest)
}
