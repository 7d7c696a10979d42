//! The command line as an operator meets it: `config`, `completions`, `man` and `--version` of the
//! real binary, in a clean environment.

use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_usercenter");

/// Runs the binary with `args` in an environment holding only PATH, a HOME and `envs`.
fn run(args: &[&str], home: &std::path::Path, envs: &[(&str, &str)]) -> Output {
    let mut command = Command::new(BIN);
    command.args(args).env_clear().env("PATH", std::env::var("PATH").unwrap_or_default()).env("HOME", home);
    command.envs(envs.iter().copied()).output().expect("run usercenter")
}

fn stdout(output: &Output) -> String {
    assert!(output.status.success(), "{output:?}");
    String::from_utf8(output.stdout.clone()).expect("UTF-8")
}

/// The line of `usercenter config` for `key`.
fn setting(text: &str, key: &str) -> String {
    text.lines().find(|l| l.starts_with(key)).unwrap_or_else(|| panic!("no {key} in:\n{text}")).to_owned()
}

#[test]
fn config_shows_each_setting_with_its_source_flag_over_environment_over_file() {
    let home = tempfile::tempdir().unwrap();
    let text = stdout(&run(&["config"], home.path(), &[]));
    let path = home.path().join(".config/usercenter/config.toml");
    assert!(text.contains(&format!("{} (does not exist yet)", path.display())), "{text}");
    assert!(setting(&text, "api_url").contains("(not set)"), "{text}");

    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, "api_url = \"https://file.example\"\nusername = \"alice\"\n").unwrap();
    let text = stdout(&run(&["config"], home.path(), &[]));
    assert!(setting(&text, "api_url").contains("https://file.example"), "{text}");
    assert!(setting(&text, "api_url").ends_with("from the config file"), "{text}");
    assert!(setting(&text, "username").contains("alice"), "{text}");

    let env = [("USERCENTER_API_URL", "https://env.example")];
    let text = stdout(&run(&["config"], home.path(), &env));
    assert!(setting(&text, "api_url").contains("https://env.example"), "{text}");
    assert!(setting(&text, "api_url").ends_with("from USERCENTER_API_URL"), "{text}");

    let text = stdout(&run(&["--api", "https://flag.example", "config"], home.path(), &env));
    assert!(setting(&text, "api_url").contains("https://flag.example"), "{text}");
    assert!(setting(&text, "api_url").ends_with("from --api"), "{text}");

    // XDG_CONFIG_HOME moves the file, as the XDG rules say.
    let xdg = tempfile::tempdir().unwrap();
    let xdg_env = [("XDG_CONFIG_HOME", xdg.path().to_str().unwrap())];
    let text = stdout(&run(&["config"], home.path(), &xdg_env));
    assert!(text.contains(&xdg.path().join("usercenter/config.toml").display().to_string()), "{text}");
}

#[test]
fn a_broken_config_file_is_named_and_fails() {
    let home = tempfile::tempdir().unwrap();
    let path = home.path().join(".config/usercenter/config.toml");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, "api-url = \"https://typo.example\"\n").unwrap();
    let output = run(&["config"], home.path(), &[]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&path.display().to_string()) && stderr.contains("unknown key `api-url`"),
        "{stderr}"
    );
}

#[test]
fn completions_for_every_shell_and_a_man_page() {
    let home = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let script = stdout(&run(&["completions", shell], home.path(), &[]));
        assert!(script.contains("reset-2fa"), "{shell}: {script}");
    }
    let page = stdout(&run(&["man"], home.path(), &[]));
    assert!(page.contains(".TH usercenter 1") && page.contains(".SH \"USERCENTER SERVE\""), "{page}");
}

#[test]
fn version_names_the_commit() {
    let home = tempfile::tempdir().unwrap();
    let version = stdout(&run(&["--version"], home.path(), &[]));
    assert!(version.starts_with(&format!("usercenter {}", env!("CARGO_PKG_VERSION"))), "{version}");
    let in_git = Command::new("git").args(["rev-parse", "--short=12", "HEAD"]).output();
    if let Some(commit) = in_git.ok().filter(|o| o.status.success()) {
        let commit = String::from_utf8_lossy(&commit.stdout).trim().to_owned();
        // The binary may be a commit behind while a change is uncommitted; it names a commit either way.
        assert!(version.contains("(commit "), "{version} (HEAD is {commit})");
    }
}

#[test]
fn the_palette_comes_from_the_flag_the_environment_the_file_or_the_default() {
    let home = tempfile::tempdir().unwrap();
    let text = stdout(&run(&["config"], home.path(), &[]));
    assert!(
        setting(&text, "palette").contains("auto") && setting(&text, "palette").ends_with("default"),
        "{text}"
    );
    let path = home.path().join(".config/usercenter/config.toml");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, "palette = \"light\"\n").unwrap();
    let text = stdout(&run(&["config"], home.path(), &[]));
    assert!(
        setting(&text, "palette").contains("light")
            && setting(&text, "palette").ends_with("from the config file"),
        "{text}"
    );
    let env = [("USERCENTER_PALETTE", "dark")];
    let text = stdout(&run(&["config"], home.path(), &env));
    assert!(
        setting(&text, "palette").contains("dark")
            && setting(&text, "palette").ends_with("from USERCENTER_PALETTE"),
        "{text}"
    );
    let text = stdout(&run(&["--palette", "light", "config"], home.path(), &env));
    assert!(
        setting(&text, "palette").contains("light") && setting(&text, "palette").ends_with("from --palette"),
        "{text}"
    );
    let wrong = run(&["--palette", "blue", "config"], home.path(), &[]);
    assert!(!wrong.status.success());
}

#[test]
fn term_dumb_is_refused_with_a_clear_message() {
    let home = tempfile::tempdir().unwrap();
    let output = run(&["--api", "http://127.0.0.1:9"], home.path(), &[("TERM", "dumb")]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("TERM=dumb") && stderr.contains("terminal emulator"), "{stderr}");
}
