//! One module per screen: its state, its key table, its `Screen` impl (keys, answers, rendering), its
//! tests.
//!
//! Adding a screen:
//! 1. a module here: the screen's struct, its `KEYS` table, `impl Screen`, snapshot tests;
//! 2. `pub mod` and a line in [`key_reference`] below (the README's keys section follows from it);
//! 3. in `app.rs`, a variant of `SignedInRoute` (or `SignedOutRoute`) and the line in
//!    `route_signed_in` (or `route_signed_out`) that builds the screen;
//! 4. in the screen it is reached from, the key that returns `Transition::Go` with that route.
//!
//! A page of the user center is smaller still: a module in `home/` and a line in `home::pages`.

pub mod advice;
pub mod connect;
pub mod disable;
pub mod enable;
pub mod help;
pub mod home;
pub mod login;
pub mod password_form;
pub mod regenerate;
pub mod second_factor;
pub mod sign_in;

use super::keys::{self, Key};
use super::widgets::input;

/// Every place's keys, in the order a person meets them: the README's keys section.
pub fn key_reference() -> Vec<(&'static str, Vec<Key>)> {
    vec![
        ("anywhere", keys::document(keys::ANYWHERE)),
        ("text fields", keys::document(input::KEYS)),
        ("server not reachable", keys::document(connect::KEYS)),
        ("sign in", keys::document(login::KEYS)),
        ("verification code", keys::document(second_factor::KEYS)),
        ("user center", home::HomeScreen::reference()),
        ("enable: password", keys::document(enable::password::KEYS)),
        (
            "enable, required by the workspace",
            keys::document(&[&[enable::LEAVE_KEY], enable::LEAVE_KEYS].concat()),
        ),
        ("enable: QR code", keys::document(enable::scan::KEYS)),
        ("enable: verify", keys::document(enable::verify::KEYS)),
        ("backup codes", keys::document(enable::codes::KEYS)),
        ("new backup codes", keys::document(regenerate::KEYS)),
        ("disable", keys::document(disable::KEYS)),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    const README: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/README.md");
    const START: &str =
        "<!-- keys: generated from the key tables (src/tui/screens/mod.rs); edit those, not this -->\n";
    const END: &str = "<!-- end of keys -->";

    /// The README's keys section is what the key tables say. To update it after changing a table, run
    /// this test with `USERCENTER_WRITE_README=1`.
    #[test]
    fn the_readme_lists_the_keys_of_the_key_tables() {
        let readme = std::fs::read_to_string(README).expect("README.md");
        let (Some(start), Some(end)) = (readme.find(START), readme.find(END)) else {
            panic!("README.md has no generated keys section ({START:?} … {END:?})");
        };
        let written = &readme[start + START.len()..end];
        let generated = keys::readme_table(&key_reference());
        if written != generated && std::env::var_os("USERCENTER_WRITE_README").is_some() {
            let updated = format!("{}{START}{generated}{}", &readme[..start], &readme[end..]);
            std::fs::write(README, updated).expect("write README.md");
            return;
        }
        assert_eq!(
            written, generated,
            "README.md's keys section differs from the key tables; run this test with USERCENTER_WRITE_README=1"
        );
    }
}
