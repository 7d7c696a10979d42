//! Command line: parses, then calls in (see `cli`). Nothing else lives here.

use std::io::Write as _;
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    match usercenter::cli::run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // Not eprintln!: after an SSH hangup stderr is gone, and a panic here would hide the exit code.
            let _ = writeln!(std::io::stderr(), "usercenter: {error:#}");
            ExitCode::FAILURE
        }
    }
}
