//! Step 1 of enabling: re-enter the password.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::Line;

use super::Need;
use crate::tui::keys::{self, KeyBinding};
use crate::tui::notice::Notice;
use crate::tui::screen::Ui;
use crate::tui::screens::password_form::{PasswordForm, render_password_panel};

pub const KEYS: &[KeyBinding] =
    &[KeyBinding::new("Enter", "continue"), KeyBinding::new("Esc", "cancel"), keys::help_f1()];

/// `notices`: what the sign-in said (only the required setup opens straight after it).
pub fn render(form: &PasswordForm, need: Need, notices: &[Notice], area: Rect, buf: &mut Buffer, ui: &Ui) {
    let mut intro: Vec<Line> = notices.iter().map(Notice::line).collect();
    if !intro.is_empty() {
        intro.push(Line::from(""));
    }
    intro.push(Line::from(match need {
        Need::Chosen => "Turn on two-factor authentication: after your password, each sign-in will ask for a code from an app on your phone.",
        Need::Required => "Set up two-factor authentication to use your account: after your password, each sign-in will ask for a code from an app on your phone.",
    }));
    intro.push(Line::from(""));
    intro.push(Line::from("Enter your password to continue."));
    render_password_panel("Confirm your password", intro, form, area, buf, ui, "Checking your password…");
}

#[cfg(test)]
mod tests {
    use crossterm::event::KeyCode;

    use crate::client::ClientError;
    use crate::tui::app::msg::Reply;
    use crate::tui::testing::*;

    #[test]
    fn enable_password() {
        let mut app = signed_in(me(false, 0));
        press(&mut app, KeyCode::Char('e'));
        type_text(&mut app, "pw");
        insta::assert_snapshot!(render(&app, 80, 24).backend());
    }

    #[test]
    fn enable_password_wrong() {
        let mut app = signed_in(me(false, 0));
        press(&mut app, KeyCode::Char('e'));
        type_text(&mut app, "pw");
        press(&mut app, KeyCode::Enter);
        reply(&mut app, Reply::EnrollmentStarted(Err(ClientError::InvalidPassword)));
        insta::assert_snapshot!(render(&app, 80, 24).backend());
    }
}
