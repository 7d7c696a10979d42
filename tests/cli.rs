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

// Operator mistakes: each gets one line that names the fix.

/// Runs the binary like [`run`], with `input` on standard input.
fn run_with_input(args: &[&str], home: &std::path::Path, input: &str) -> Output {
    use std::io::Write as _;
    use std::process::Stdio;
    let mut child = Command::new(BIN)
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", home)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run usercenter");
    match child.stdin.take().unwrap().write_all(input.as_bytes()) {
        // A command that refuses before reading its input may already have exited.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        written => written.unwrap(),
    }
    child.wait_with_output().unwrap()
}

fn stderr(output: &Output) -> String {
    assert!(!output.status.success(), "should have failed: {output:?}");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn a_sqlite_url_expands_the_home_folder_and_one_without_a_path_is_refused_by_name() {
    let home = tempfile::tempdir().unwrap();
    let added = run_with_input(
        &["user", "add", "alice", "--password-stdin", "--database", "sqlite://~/data/uc.db"],
        home.path(),
        "correct horse battery\n",
    );
    assert!(added.status.success(), "{added:?}");
    assert!(home.path().join("data/uc.db").is_file(), "~ is the home folder");
    assert!(!std::path::Path::new("~").exists(), "no folder named ~");
    let listed = stdout(&run(&["user", "list", "--database", "sqlite://~/data/uc.db"], home.path(), &[]));
    assert!(listed.contains("alice"), "{listed}");

    for url in ["sqlite://", "sqlite:", ""] {
        let text = stderr(&run(&["user", "list", "--database", url], home.path(), &[]));
        assert!(text.contains("names no file") || text.contains("is empty"), "{url:?}: {text}");
        assert!(text.contains("sqlite://"), "the fix is named: {text}");
    }
}

#[test]
fn a_file_that_is_not_a_usercenter_database_is_said_once_and_in_words() {
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("notes.db");
    std::fs::write(&file, "these are my notes, not a database\n".repeat(200)).unwrap();
    let url = format!("sqlite://{}", file.display());
    let text = stderr(&run(&["user", "list", "--database", &url], home.path(), &[]));
    assert!(text.contains(&format!("not a usercenter database: {}", file.display())), "{text}");
    assert_eq!(text.matches("not a usercenter database").count(), 1, "said once: {text}");
    assert!(!text.contains("(code:"), "no SQLite codes: {text}");
    assert_eq!(text.trim().lines().count(), 1, "one line: {text}");

    let folder = home.path().join("folder.db");
    std::fs::create_dir(&folder).unwrap();
    let url = format!("sqlite://{}", folder.display());
    let text = stderr(&run(&["user", "list", "--database", &url], home.path(), &[]));
    assert!(text.contains("it is a folder"), "{text}");
}

#[test]
fn a_postgresql_that_is_down_is_named_within_five_seconds() {
    let home = tempfile::tempdir().unwrap();
    // A port nobody listens on: bound by us, then released.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("postgres://usercenter:secret-pw@127.0.0.1:{port}/usercenter");
    let started = std::time::Instant::now();
    let text = stderr(&run(&["user", "list", "--database", &url], home.path(), &[]));
    assert!(started.elapsed() < std::time::Duration::from_secs(5), "took {:?}", started.elapsed());
    assert!(text.contains(&format!("connection refused at 127.0.0.1:{port}")), "{text}");
    assert!(!text.contains("secret-pw"), "the password is never shown: {text}");
    assert!(!text.contains("pool timed out"), "{text}");
}

#[test]
fn serve_listens_on_a_host_name_and_serves_metrics_and_the_openapi_document() {
    use std::io::{BufRead as _, BufReader, Read as _, Write as _};
    use std::process::Stdio;
    let home = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", home.path().join("uc.db").display());
    let refused = stderr(&run(&["serve", "--listen", "localhost"], home.path(), &[]));
    assert!(refused.contains("has no port") && refused.contains("localhost:8080"), "{refused}");

    let mut child = Command::new(BIN)
        .args([
            "serve",
            "--listen",
            "localhost:0",
            "--metrics-listen",
            "localhost:0",
            "--database",
            &database,
        ])
        .args(["--log-format", "json"])
        .env_clear()
        .env("RUST_LOG", "debug")
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", home.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut address_after = |prefix: &str| {
        for line in lines.by_ref() {
            let line = line.unwrap();
            if let Some(rest) = line.strip_prefix(prefix) {
                return rest.trim_end_matches("/metrics").to_owned();
            }
        }
        panic!("no line starting with {prefix:?}");
    };
    let api = address_after("listening on http://");
    let metrics = address_after("metrics on http://");
    assert!(api.starts_with("127.0.0.1:"), "localhost is resolved: {api}");
    let get = |addr: &str, path: &str| {
        let mut stream = std::net::TcpStream::connect(addr).unwrap();
        write!(stream, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        answer
    };
    let document = get(&api, "/v1/openapi.json");
    assert!(document.starts_with("HTTP/1.1 200") && document.contains(r#""openapi": "3.1.0""#), "{document}");
    get(&api, "/v1/health");
    // A sign-in whose password, username and query must not reach the log, even at debug.
    let body = r#"{"username":"mallory-user","password":"hunter2-secret-pw"}"#;
    let mut stream = std::net::TcpStream::connect(&api).unwrap();
    write!(
        stream,
        "POST /v1/auth/login?access_token=tok-in-query HTTP/1.1\r\nHost: {api}\r\nContent-Type: application/json\r\n\
         Authorization: Bearer tok-in-header\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    let scraped = get(&metrics, "/metrics");
    assert!(
        scraped.contains(r#"usercenter_http_requests_total{route="/v1/health",status="200"} 1"#),
        "{scraped}"
    );
    assert!(
        get(&metrics, "/v1/health").starts_with("HTTP/1.1 404"),
        "the metrics address serves only /metrics"
    );
    assert!(get(&api, "/metrics").starts_with("HTTP/1.1 404"), "the API address serves no metrics");

    child.kill().unwrap();
    let output = child.wait_with_output().unwrap();
    let log = String::from_utf8_lossy(&output.stderr);
    // The notices of a first start (the database and key file created) are plain text; every log
    // line is one JSON object.
    let lines: Vec<&str> = log.lines().filter(|l| !l.starts_with("usercenter: created")).collect();
    assert!(lines.len() >= 5, "the start and four requests: {log}");
    for line in lines {
        let object: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(object["level"].is_string() && object["timestamp"].is_string(), "{line}");
    }
    assert!(!log.contains('\u{1b}'), "no colours in a log that is not a terminal: {log}");
    for secret in ["hunter2-secret-pw", "mallory-user", "tok-in-query", "tok-in-header"] {
        assert!(!log.contains(secret), "{secret} in the log: {log}");
    }
}

#[test]
fn a_database_this_user_cannot_write_is_permission_denied_with_its_path() {
    use std::os::unix::fs::PermissionsExt as _;
    // Permissions do not stop root: as root, the commands run as nobody through setpriv.
    let root = Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.trim_ascii() == b"0");
    let setpriv = std::path::Path::new("/usr/bin/setpriv");
    if root && !setpriv.exists() {
        eprintln!("skipped: running as root without setpriv to drop privileges");
        return;
    }
    let unprivileged = |args: &[&str], home: &std::path::Path| {
        let mut command = if root {
            let mut c = Command::new(setpriv);
            c.args(["--reuid=65534", "--regid=65534", "--clear-groups", BIN]);
            c
        } else {
            Command::new(BIN)
        };
        command.args(args).env_clear().env("HOME", home).output().expect("run usercenter")
    };
    let home = tempfile::tempdir().unwrap();
    std::fs::set_permissions(home.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let file = home.path().join("uc.db");
    let url = format!("sqlite://{}", file.display());
    let added = run_with_input(
        &["user", "add", "alice", "--password-stdin", "--database", &url],
        home.path(),
        "a good password\n",
    );
    assert!(added.status.success(), "{added:?}");

    // Readable but not writable.
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o444)).unwrap();
    let text = stderr(&unprivileged(&["user", "list", "--database", &url], home.path()));
    assert!(text.starts_with(&format!("usercenter: permission denied: {}", file.display())), "{text}");
    assert_eq!(text.trim().lines().count(), 1, "one line: {text}");
    assert!(!text.contains("(code:"), "{text}");

    // Neither readable nor writable (as root's file is to nobody when mode 0600).
    if root {
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        let text = stderr(&unprivileged(&["user", "list", "--database", &url], home.path()));
        assert!(text.contains(&format!("permission denied: {}", file.display())), "{text}");
    }

    // A folder this user cannot create a file in.
    let folder = home.path().join("read-only");
    std::fs::create_dir(&folder).unwrap();
    std::fs::set_permissions(&folder, std::fs::Permissions::from_mode(0o555)).unwrap();
    let new = folder.join("new.db");
    let url = format!("sqlite://{}", new.display());
    let text = stderr(&unprivileged(&["serve", "--listen", "127.0.0.1:0", "--database", &url], home.path()));
    assert!(text.contains(&format!("permission denied: {}", new.display())), "{text}");
    assert!(text.contains("give --database a path"), "the fix is named: {text}");
}

#[test]
fn a_postgresql_that_does_not_answer_is_named_after_five_seconds_not_thirty() {
    let home = tempfile::tempdir().unwrap();
    // Accepts connections and never says a word, like a host whose PostgreSQL hangs.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    let url = format!("postgres://usercenter@127.0.0.1:{port}/usercenter");
    let started = std::time::Instant::now();
    let text = stderr(&run(&["user", "list", "--database", &url], home.path(), &[]));
    let took = started.elapsed();
    assert!(took < std::time::Duration::from_secs(10), "took {took:?}");
    assert!(text.contains(&format!("no answer from PostgreSQL at 127.0.0.1:{port} within 5 s")), "{text}");
}
