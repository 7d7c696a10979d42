//! Key tables. Each screen lists its keys once, in the order the hint bar shows them; the hint bar, the
//! help overlay and the README's keys section are all made from these tables.
//!
//! A table is documentation next to the screen's `on_key`, not a dispatcher: the screen's module
//! holds both, so a key is defined in one file.

/// One key of a screen. `M` is what the screen's state says about its keys now (its "mode"), so the
/// hint bar shows only the keys that apply.
#[derive(Clone, Copy, Debug)]
pub struct KeyBinding<M: 'static = ()> {
    /// As the hint bar shows it: `Enter`, `↑↓`, `c`.
    pub keys: &'static str,
    /// Other keys that do the same, for the help and the README: `Shift-Tab ↑ ↓`.
    pub also: &'static str,
    /// What it does, in a few words: `sign in`.
    pub action: &'static str,
    /// When it applies, for the help and the README: `in the actions`. Empty: always.
    pub context: &'static str,
    /// Whether the hint bar shows it in this mode.
    pub hinted: fn(M) -> bool,
    pub scope: Scope,
}

/// Where a key is documented.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// With its screen.
    Screen,
    /// Once for the whole app ("anywhere"); screens only repeat it in their hint bar.
    App,
}

fn always<M>(_: M) -> bool {
    true
}

fn never<M>(_: M) -> bool {
    false
}

impl<M: Copy> KeyBinding<M> {
    pub const fn new(keys: &'static str, action: &'static str) -> Self {
        Self { keys, also: "", action, context: "", hinted: always::<M>, scope: Scope::Screen }
    }

    pub const fn also(mut self, also: &'static str) -> Self {
        self.also = also;
        self
    }

    pub const fn context(mut self, context: &'static str) -> Self {
        self.context = context;
        self
    }

    /// In the hint bar only while `hinted` holds.
    pub const fn hinted_if(mut self, hinted: fn(M) -> bool) -> Self {
        self.hinted = hinted;
        self
    }

    /// Applies only while `hinted` holds, which `context` says in words.
    pub const fn when(self, hinted: fn(M) -> bool, context: &'static str) -> Self {
        self.hinted_if(hinted).context(context)
    }

    /// Documented, but left out of the hint bar (it has room for the main keys only).
    pub const fn unhinted(self) -> Self {
        self.hinted_if(never::<M>)
    }

    const fn app(mut self) -> Self {
        self.scope = Scope::App;
        self
    }
}

/// `F1 help`, for the hint bar of a screen where a text field has the focus.
pub const fn help_f1<M: Copy>() -> KeyBinding<M> {
    KeyBinding::new("F1", "help").app()
}

/// `? help`, for the hint bar of a screen without a text field.
pub const fn help_question_mark<M: Copy>() -> KeyBinding<M> {
    KeyBinding::new("?", "help").app()
}

/// `Ctrl-C quit`, for hint bars with room for it.
pub const fn quit<M: Copy>() -> KeyBinding<M> {
    KeyBinding::new("Ctrl-C", "quit").app()
}

/// The keys that work on every screen, handled by the app itself.
pub const ANYWHERE: &[KeyBinding] = &[
    KeyBinding::new("Ctrl-C", "quit").context("asks first if backup codes are unsaved"),
    KeyBinding::new("q", "quit")
        .context("when no text field has the focus; asks first if codes or a setup would be lost"),
    KeyBinding::new("Ctrl-Z", "suspend").context("the shell's fg resumes"),
    KeyBinding::new("F1", "help"),
    KeyBinding::new("?", "help").context("when no text field has the focus"),
];

/// One key as a screen shows it now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Key {
    pub keys: &'static str,
    pub also: &'static str,
    pub action: &'static str,
    pub context: &'static str,
    /// In the hint bar now.
    pub hinted: bool,
    pub scope: Scope,
}

impl Key {
    fn of<M: Copy>(binding: &KeyBinding<M>, hinted: bool) -> Self {
        Self {
            keys: binding.keys,
            also: binding.also,
            action: binding.action,
            context: binding.context,
            hinted,
            scope: binding.scope,
        }
    }

    /// `**Tab** / **Shift-Tab ↑ ↓** next field (in the sidebar)`, for the README.
    pub fn markdown(&self) -> String {
        let mut text = format!("**{}**", self.keys);
        if !self.also.is_empty() {
            text.push_str(&format!(" / **{}**", self.also));
        }
        text.push(' ');
        text.push_str(self.action);
        if !self.context.is_empty() {
            text.push_str(&format!(" ({})", self.context));
        }
        text
    }
}

/// The table in `mode`: every key, each marked whether the hint bar shows it.
pub fn resolve<M: Copy>(table: &[KeyBinding<M>], mode: M) -> Vec<Key> {
    table.iter().map(|binding| Key::of(binding, (binding.hinted)(mode))).collect()
}

/// The table for the help and the README, whatever the mode.
pub fn document<M: Copy>(table: &[KeyBinding<M>]) -> Vec<Key> {
    table.iter().map(|binding| Key::of(binding, false)).collect()
}

/// The (key, what it does) pairs of the hint bar.
pub fn hints(keys: &[Key]) -> Vec<(&'static str, &'static str)> {
    keys.iter().filter(|k| k.hinted).map(|k| (k.keys, k.action)).collect()
}

/// The README's keys table: one row per place, made from the key tables.
pub fn readme_table(places: &[(&str, Vec<Key>)]) -> String {
    let mut table = String::from("| where | keys |\n|---|---|\n");
    for (place, keys) in places {
        let keys: Vec<String> = keys.iter().filter(|k| k.scope == Scope::Screen).map(Key::markdown).collect();
        table.push_str(&format!("| {place} | {} |\n", keys.join(" · ")));
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Copy)]
    struct Mode {
        focused: bool,
    }

    const TABLE: &[KeyBinding<Mode>] = &[
        KeyBinding::new("↑↓", "move").also("Shift-Tab").when(|m| !m.focused, "in the list"),
        KeyBinding::new("Enter", "start").hinted_if(|m| m.focused),
        KeyBinding::new("x", "rarely").unhinted(),
        quit().hinted_if(|m| !m.focused),
    ];

    #[test]
    fn the_hint_bar_shows_what_applies_now() {
        assert_eq!(hints(&resolve(TABLE, Mode { focused: false })), [("↑↓", "move"), ("Ctrl-C", "quit")]);
        assert_eq!(hints(&resolve(TABLE, Mode { focused: true })), [("Enter", "start")]);
    }

    #[test]
    fn the_readme_documents_the_screen_keys_once() {
        let table = readme_table(&[("list", document(TABLE))]);
        assert_eq!(
            table,
            "| where | keys |\n|---|---|\n\
             | list | **↑↓** / **Shift-Tab** move (in the list) · **Enter** start · **x** rarely |\n"
        );
    }
}
