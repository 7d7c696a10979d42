//! The app's settings file, `config.toml` in the XDG config folder (usually
//! `~/.config/usercenter/config.toml`), and where each effective setting comes from.
//!
//! Precedence: a command-line flag, then the environment, then the file, then the default. The file
//! never holds a password; the app writes only `username` back (the last one that signed in).

use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::Context as _;

/// The keys the file may hold; anything else is refused by name, so a typo is not silently ignored.
pub const KEYS: [&str; 3] = ["api_url", "username", "palette"];

/// What the file says; every key is optional.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConfigFile {
    pub api_url: Option<String>,
    pub username: Option<String>,
    pub palette: Option<PaletteChoice>,
}

/// The app's colours: for the terminal's background as asked (OSC 11), or for a dark or light one.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum PaletteChoice {
    /// Ask the terminal for its background colour; dark when it does not answer.
    #[default]
    Auto,
    /// Colours for a dark background (light text).
    Dark,
    /// Colours for a light background (dark text).
    Light,
}

impl PaletteChoice {
    pub fn as_str(self) -> &'static str {
        match self {
            PaletteChoice::Auto => "auto",
            PaletteChoice::Dark => "dark",
            PaletteChoice::Light => "light",
        }
    }
}

impl std::str::FromStr for PaletteChoice {
    type Err = anyhow::Error;

    fn from_str(text: &str) -> anyhow::Result<Self> {
        match text {
            "auto" => Ok(PaletteChoice::Auto),
            "dark" => Ok(PaletteChoice::Dark),
            "light" => Ok(PaletteChoice::Light),
            other => anyhow::bail!("`palette` is auto, dark or light, not `{other}`"),
        }
    }
}

/// Where a setting's effective value comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// A command-line flag, such as `--api`.
    Flag(&'static str),
    /// An environment variable, such as `USERCENTER_API_URL`.
    Environment(&'static str),
    File,
    Default,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Flag(flag) => write!(f, "from {flag}"),
            Source::Environment(var) => write!(f, "from {var}"),
            Source::File => f.write_str("from the config file"),
            Source::Default => f.write_str("default"),
        }
    }
}

/// An effective value and where it came from; `None` when nothing sets it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Setting {
    pub value: Option<String>,
    pub source: Source,
}

impl Setting {
    /// The first of `given` (a flag or the environment, as the command line saw it), the file, the
    /// default.
    /// `default` when nothing set a value.
    pub fn or_default(self, default: &str) -> Self {
        match self.value {
            Some(_) => self,
            None => Self { value: Some(default.to_owned()), source: Source::Default },
        }
    }

    pub fn resolve(given: Option<(String, Source)>, file: Option<&str>) -> Self {
        match (given, file) {
            (Some((value, source)), _) => Self { value: Some(value), source },
            (None, Some(value)) => Self { value: Some(value.to_owned()), source: Source::File },
            (None, None) => Self { value: None, source: Source::Default },
        }
    }
}

/// `$XDG_CONFIG_HOME/usercenter/config.toml`, or `~/.config/usercenter/config.toml` without it.
pub fn default_path() -> anyhow::Result<PathBuf> {
    use etcetera::BaseStrategy as _;
    let base = etcetera::choose_base_strategy().context("cannot find the home folder for the config file")?;
    Ok(base.config_dir().join("usercenter").join("config.toml"))
}

/// Reads the file; a missing file is an empty configuration.
pub fn load(path: &Path) -> anyhow::Result<ConfigFile> {
    match std::fs::read_to_string(path) {
        Ok(text) => parse(&text).with_context(|| format!("cannot read the config file {}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(ConfigFile::default()),
        Err(e) => Err(e).with_context(|| format!("cannot read the config file {}", path.display())),
    }
}

fn parse(text: &str) -> anyhow::Result<ConfigFile> {
    let document: toml_edit::DocumentMut = text.parse()?;
    let mut config = ConfigFile::default();
    for (key, item) in document.iter() {
        let value = || {
            item.as_str()
                .map(str::to_owned)
                .ok_or_else(|| anyhow::anyhow!("`{key}` must be a string in quotes"))
        };
        match key {
            "api_url" => config.api_url = Some(value()?),
            "username" => config.username = Some(value()?),
            "palette" => config.palette = Some(value()?.parse()?),
            other => anyhow::bail!("unknown key `{other}` (the keys are {})", KEYS.join(", ")),
        }
    }
    Ok(config)
}

/// Sets `username` in the file, keeping everything else in it (comments too), and creates the file and
/// its folder when missing. Written to a temporary file first, so a full disk never leaves half a file.
pub fn remember_username(path: &Path, username: &str) -> anyhow::Result<()> {
    let shown = path.display();
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e).with_context(|| format!("cannot read the config file {shown}")),
    };
    let mut document: toml_edit::DocumentMut =
        text.parse().with_context(|| format!("cannot read the config file {shown}"))?;
    if document.get("username").and_then(toml_edit::Item::as_str) == Some(username) {
        return Ok(());
    }
    document["username"] = toml_edit::value(username);
    let folder = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(folder)
        .with_context(|| format!("cannot create the folder {}", folder.display()))?;
    let mut file = tempfile::NamedTempFile::new_in(folder)
        .with_context(|| format!("cannot write in the folder {}", folder.display()))?;
    std::io::Write::write_all(&mut file, document.to_string().as_bytes())
        .with_context(|| format!("cannot write the config file {shown}"))?;
    file.persist(path)
        .map_err(|e| e.error)
        .with_context(|| format!("cannot write the config file {shown}"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_known_keys_and_refuses_others_by_name() {
        let config = parse("api_url = \"https://p.example\"\nusername = \"alice\"\n").unwrap();
        assert_eq!(config.api_url.as_deref(), Some("https://p.example"));
        assert_eq!(config.username.as_deref(), Some("alice"));
        let typo = parse("api-url = \"https://p.example\"").unwrap_err().to_string();
        assert!(typo.contains("unknown key `api-url`") && typo.contains("api_url"), "{typo}");
        let palette = parse("palette = \"light\"").unwrap();
        assert_eq!(palette.palette, Some(PaletteChoice::Light));
        let wrong = parse("palette = \"blue\"").unwrap_err().to_string();
        assert!(wrong.contains("auto, dark or light"), "{wrong}");
        let number = parse("username = 5").unwrap_err().to_string();
        assert!(number.contains("`username` must be a string"), "{number}");
        assert_eq!(parse("").unwrap(), ConfigFile::default());
    }

    #[test]
    fn a_missing_file_is_empty_and_a_broken_one_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        assert_eq!(load(&path).unwrap(), ConfigFile::default());
        std::fs::write(&path, "api_url = ").unwrap();
        let error = format!("{:#}", load(&path).unwrap_err());
        assert!(error.contains(&path.display().to_string()), "{error}");
    }

    #[test]
    fn flag_beats_environment_beats_file_beats_default() {
        let flag = Some(("https://flag".to_owned(), Source::Flag("--api")));
        assert_eq!(Setting::resolve(flag, Some("https://file")).source, Source::Flag("--api"));
        let env = Some(("https://env".to_owned(), Source::Environment("USERCENTER_API_URL")));
        assert_eq!(Setting::resolve(env, Some("https://file")).value.as_deref(), Some("https://env"));
        let file = Setting::resolve(None, Some("https://file"));
        assert_eq!((file.value.as_deref(), file.source), (Some("https://file"), Source::File));
        assert_eq!(Setting::resolve(None, None), Setting { value: None, source: Source::Default });
    }

    #[test]
    fn remembering_the_username_keeps_the_rest_of_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("usercenter").join("config.toml");
        remember_username(&path, "alice").unwrap();
        assert_eq!(load(&path).unwrap().username.as_deref(), Some("alice"));
        std::fs::write(&path, "# my platform\napi_url = \"https://p.example\"\nusername = \"alice\"\n")
            .unwrap();
        remember_username(&path, "bob").unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("# my platform") && text.contains("api_url = \"https://p.example\""), "{text}");
        assert_eq!(load(&path).unwrap().username.as_deref(), Some("bob"));
    }
}
