//! Command line: parses, then calls in. Nothing else lives here.

use std::io::Write as _;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "usercenter", version, about = "Two-factor authentication from your terminal")]
struct Cli {
    /// Base URL of the platform API, such as https://platform.example.com
    #[arg(long, env = "USERCENTER_API_URL")]
    api: Option<String>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Start a throwaway server with a demo account and open the app against it
    Demo,
    /// Run the platform API server
    Serve(usercenter::server::cli::ServeArgs),
    /// Manage accounts on the server's database
    User {
        #[command(subcommand)]
        command: usercenter::server::cli::UserCommand,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        None => usercenter::tui::run(usercenter::tui::Options { api_url: cli.api, demo: None }).await,
        Some(Command::Demo) => usercenter::demo::run().await,
        Some(Command::Serve(args)) => usercenter::server::cli::serve(args).await,
        Some(Command::User { command }) => usercenter::server::cli::user(command).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // Not eprintln!: after an SSH hangup stderr is gone, and a panic here would hide the exit code.
            let _ = writeln!(std::io::stderr(), "usercenter: {error:#}");
            ExitCode::FAILURE
        }
    }
}
