//! The command line: every subcommand and its arguments, and what each one calls.
//!
//! `main.rs` only parses and reports the outcome; the definition lives here so that the man page, the
//! shell completions and the tests all see the same one.

use std::io::Write;

use anyhow::Context as _;
use clap::parser::ValueSource;
use clap::{ArgMatches, CommandFactory as _, FromArgMatches as _, Parser, Subcommand};

use crate::config::{self, Setting, Source};

/// `usercenter --version`: the version, and the commit it was built from when built from git.
pub const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), env!("USERCENTER_BUILD_COMMIT"));

/// The environment variable that gives the platform's address.
pub const API_URL_ENV: &str = "USERCENTER_API_URL";
/// The environment variable that chooses the app's colours.
pub const PALETTE_ENV: &str = "USERCENTER_PALETTE";

#[derive(Parser)]
#[command(
    name = "usercenter",
    version = VERSION,
    about = "Two-factor authentication from your terminal",
    after_help = "Examples:\n  usercenter demo                                   # try it: a demo server and account\n  usercenter --api https://platform.example.com     # sign in to a platform"
)]
pub struct Cli {
    /// Base URL of the platform API, such as https://platform.example.com
    #[arg(long, env = API_URL_ENV, value_name = "URL")]
    pub api: Option<String>,
    /// Colours for a dark or light terminal background; auto asks the terminal (OSC 11)
    #[arg(long, env = PALETTE_ENV, value_enum, value_name = "PALETTE")]
    pub palette: Option<config::PaletteChoice>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand)]
pub enum Command {
    /// Start a throwaway server with a demo account and open the app against it
    #[command(after_help = "Example:\n  usercenter demo")]
    Demo,
    /// Run the platform API server
    #[command(
        after_help = "Examples:\n  usercenter serve --listen localhost:8080 --database sqlite://~/usercenter.db --issuer Acme\n  usercenter serve --metrics-listen 127.0.0.1:9464 --log-format json\n  usercenter serve --events-log /var/log/usercenter/events.json --notify-webhook https://hooks.example/2fa"
    )]
    Serve(Box<crate::server::cli::ServeArgs>),
    /// Manage accounts on the server's database
    #[command(after_help = "Examples:\n  usercenter user add alice\n  usercenter user list --json")]
    User {
        #[command(subcommand)]
        command: crate::server::cli::UserCommand,
    },
    /// Print the security events of the accounts, newest first
    #[command(
        after_help = "Examples:\n  usercenter events --user alice --limit 20\n  usercenter events --json | jq 'select(.type == \"sign_in_failed\")'"
    )]
    Events(crate::server::cli::EventsArgs),
    /// Show or change the workspace policy (require two-factor authentication)
    #[command(
        after_help = "Examples:\n  usercenter policy set --require-2fa on\n  usercenter policy show --json"
    )]
    Policy {
        #[command(subcommand)]
        command: crate::server::cli::PolicyCommand,
    },
    /// Print the app's config file path and each effective setting with where it comes from
    #[command(
        after_help = "Example:\n  usercenter config\n  usercenter --api https://platform.example.com config"
    )]
    Config,
    /// Print a shell completion script to standard output
    #[command(
        after_help = "Examples:\n  usercenter completions bash > ~/.local/share/bash-completion/completions/usercenter\n  usercenter completions zsh > ~/.zfunc/_usercenter      # with fpath+=~/.zfunc before compinit\n  usercenter completions fish > ~/.config/fish/completions/usercenter.fish"
    )]
    Completions {
        /// The shell to complete for
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) to standard output
    #[command(
        after_help = "Example:\n  usercenter man > ~/.local/share/man/man1/usercenter.1 && man usercenter"
    )]
    Man,
}

/// Parses the command line and runs what it asks for.
pub async fn run() -> anyhow::Result<()> {
    let matches = Cli::command().get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    let api = given_api_url(&matches);
    let palette =
        given(&matches, "palette", "--palette", PALETTE_ENV, cli.palette.map(|p| p.as_str().to_owned()));
    match cli.command {
        None => {
            let path = config::default_path()?;
            let file = config::load(&path)?;
            let api_url = Setting::resolve(api, file.api_url.as_deref()).value;
            let options = crate::tui::Options {
                api_url,
                demo: None,
                username: file.username,
                config_path: Some(path),
                palette: cli.palette.or(file.palette).unwrap_or_default(),
            };
            crate::tui::run(options).await
        }
        Some(Command::Demo) => {
            let file = config::load(&config::default_path()?)?;
            crate::demo::run(cli.palette.or(file.palette).unwrap_or_default()).await
        }
        Some(Command::Serve(args)) => crate::server::cli::serve(*args).await,
        Some(Command::User { command }) => crate::server::cli::user(command).await,
        Some(Command::Events(args)) => crate::server::cli::events(args).await,
        Some(Command::Policy { command }) => crate::server::cli::policy(command).await,
        Some(Command::Config) => print_config(api, palette, &mut std::io::stdout().lock()),
        Some(Command::Completions { shell }) => {
            clap_complete::generate(shell, &mut Cli::command(), "usercenter", &mut std::io::stdout().lock());
            Ok(())
        }
        Some(Command::Man) => {
            let mut out = std::io::stdout().lock();
            man_page(&mut out)?;
            out.flush().context("cannot write the man page")
        }
    }
}

/// `--api` or USERCENTER_API_URL as the command line saw it, with which of the two it was.
fn given_api_url(matches: &ArgMatches) -> Option<(String, Source)> {
    let value = matches.get_one::<String>("api")?.clone();
    given(matches, "api", "--api", API_URL_ENV, Some(value))
}

/// `value` of the argument `id`, with whether its flag or its environment variable gave it.
fn given(
    matches: &ArgMatches,
    id: &str,
    flag: &'static str,
    env: &'static str,
    value: Option<String>,
) -> Option<(String, Source)> {
    let value = value?;
    match matches.value_source(id) {
        Some(ValueSource::EnvVariable) => Some((value, Source::Environment(env))),
        _ => Some((value, Source::Flag(flag))),
    }
}

/// `usercenter config`: the file, then one line per setting.
fn print_config(
    api: Option<(String, Source)>,
    palette: Option<(String, Source)>,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let path = config::default_path()?;
    let state = if path.exists() { "" } else { " (does not exist yet)" };
    let file = config::load(&path)?;
    let settings = [
        ("api_url", Setting::resolve(api, file.api_url.as_deref())),
        ("username", Setting::resolve(None, file.username.as_deref())),
        (
            "palette",
            Setting::resolve(palette, file.palette.map(config::PaletteChoice::as_str))
                .or_default(config::PaletteChoice::default().as_str()),
        ),
    ];
    let mut text = format!("config file  {}{state}\n", path.display());
    for (key, setting) in settings {
        let value = setting.value.unwrap_or_else(|| "(not set)".into());
        text.push_str(&format!("{key:<12} {value:<40} {}\n", setting.source));
    }
    out.write_all(text.as_bytes()).context("cannot write to standard output")
}

/// One roff page for the whole command: the top-level sections as clap_mangen renders them, then a
/// section for every subcommand (and theirs) with its description, synopsis, options and examples.
pub fn man_page(out: &mut impl Write) -> anyhow::Result<()> {
    let mut command = Cli::command();
    command.build();
    let man = clap_mangen::Man::new(command.clone());
    man.render_title(out)?;
    man.render_name_section(out)?;
    man.render_synopsis_section(out)?;
    man.render_description_section(out)?;
    man.render_options_section(out)?;
    render_examples(&command, ".SH", out)?;
    render_subcommands(&command, "usercenter", out)?;
    man.render_version_section(out)?;
    Ok(())
}

fn render_subcommands(parent: &clap::Command, path: &str, out: &mut impl Write) -> anyhow::Result<()> {
    for sub in parent.get_subcommands().filter(|s| !s.is_hide_set() && s.get_name() != "help") {
        let name = format!("{path} {}", sub.get_name());
        let man = clap_mangen::Man::new(sub.clone().display_name(name.clone()).bin_name(name.clone()));
        let mut page = Vec::new();
        man.render_description_section(&mut page)?;
        man.render_synopsis_section(&mut page)?;
        if sub.get_arguments().any(|a| !a.is_hide_set()) {
            man.render_options_section(&mut page)?;
        }
        // The subcommand's own headings become subsections of its section.
        writeln!(out, ".SH \"{}\"", name.to_uppercase())?;
        for line in String::from_utf8(page).context("the man page is not UTF-8")?.lines() {
            match line.strip_prefix(".SH ") {
                Some(title) => writeln!(out, ".SS {title}")?,
                None => writeln!(out, "{line}")?,
            }
        }
        render_examples(sub, ".SS", out)?;
        render_subcommands(sub, &name, out)?;
    }
    Ok(())
}

/// A command's `after_help` (its examples), kept as typed.
fn render_examples(command: &clap::Command, heading: &str, out: &mut impl Write) -> anyhow::Result<()> {
    if let Some(examples) = command.get_after_help() {
        let text = examples.to_string().replace('\\', "\\\\").replace('-', "\\-");
        let text =
            text.strip_prefix("Examples:\n").or_else(|| text.strip_prefix("Example:\n")).unwrap_or(&text);
        writeln!(out, "{heading} EXAMPLES\n.nf\n{text}\n.fi")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn the_man_page_covers_every_subcommand() {
        let mut page = Vec::new();
        man_page(&mut page).unwrap();
        let page = String::from_utf8(page).unwrap();
        assert!(page.starts_with(".ie") || page.contains(".TH usercenter"), "{}", &page[..200]);
        fn every(command: &clap::Command, path: &str, names: &mut Vec<String>) {
            for sub in command.get_subcommands().filter(|s| s.get_name() != "help") {
                let name = format!("{path} {}", sub.get_name());
                every(sub, &name, names);
                names.push(name);
            }
        }
        let mut names = Vec::new();
        let mut command = Cli::command();
        command.build();
        every(&command, "usercenter", &mut names);
        assert!(names.contains(&"usercenter user add".to_owned()), "{names:?}");
        for name in names {
            assert!(page.contains(&format!(".SH \"{}\"", name.to_uppercase())), "no section for {name}");
        }
        assert!(page.contains("password\\-stdin"), "the options of `user add` are listed");
    }

    #[test]
    fn completions_name_the_subcommands() {
        let mut script = Vec::new();
        clap_complete::generate(clap_complete::Shell::Bash, &mut Cli::command(), "usercenter", &mut script);
        let script = String::from_utf8(script).unwrap();
        for word in ["serve", "demo", "completions", "reset-2fa"] {
            assert!(script.contains(word), "{word} is not completed");
        }
    }

    #[test]
    fn the_version_names_the_commit_when_built_from_git() {
        assert!(VERSION.starts_with(env!("CARGO_PKG_VERSION")), "{VERSION}");
        let from_git = std::process::Command::new("git").args(["rev-parse", "HEAD"]).output();
        if from_git.is_ok_and(|o| o.status.success()) {
            assert!(VERSION.contains("(commit "), "{VERSION}");
        }
    }
}
