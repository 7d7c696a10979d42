//! Generate new backup codes: the password, a warning that the old codes stop working, then the
//! same codes screen as the enable wizard.

use crossterm::event::KeyEvent;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Stylize;
use ratatui::text::Line;

use super::enable::codes::{self, CodesKind, CodesOutcome, CodesStep};
use super::password_form::{FormIntent, PasswordForm, render_password_panel};
use crate::tui::app::SignedInRoute;
use crate::tui::app::msg::{Answer, ApiCall, Reply, RequestId};
use crate::tui::keys::{self, Key, KeyBinding};
use crate::tui::notice::Notice;
use crate::tui::screen::{Activity, Cx, Screen, Session, Transition, Ui, unasked};

pub const KEYS: &[KeyBinding] = &[
    KeyBinding::new("Enter", "generate").context("the old codes stop working"),
    KeyBinding::new("Esc", "cancel"),
    keys::help_f1(),
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegenReason {
    /// Chosen from the Security page.
    Requested,
    /// 2FA got turned on but the codes of the confirmation never arrived.
    CodesNeverArrived,
}

#[derive(Debug)]
pub enum RegenStage {
    Password(PasswordForm),
    Codes(CodesStep),
}

#[derive(Debug)]
pub struct RegenerateScreen {
    pub stage: RegenStage,
    pub reason: RegenReason,
    /// Named in the codes file.
    pub issuer: String,
}

impl RegenerateScreen {
    pub fn new(reason: RegenReason, issuer: &str) -> Self {
        Self { stage: RegenStage::Password(PasswordForm::new()), reason, issuer: issuer.to_owned() }
    }
}

impl Screen for RegenerateScreen {
    type Account = Session;
    type Route = SignedInRoute;

    fn activity(&self) -> Activity {
        match &self.stage {
            RegenStage::Password(form) => form.request.activity(),
            RegenStage::Codes(codes) => codes.activity(),
        }
    }

    fn awaits(&self, id: RequestId) -> bool {
        match &self.stage {
            RegenStage::Password(form) => form.request.awaits(id),
            RegenStage::Codes(codes) => codes.awaits(id),
        }
    }

    fn accepts_text(&self) -> bool {
        match &self.stage {
            RegenStage::Password(_) => true,
            RegenStage::Codes(codes) => codes.accepts_text(),
        }
    }

    fn tick(&mut self, now: std::time::Instant) {
        match &mut self.stage {
            RegenStage::Password(form) => form.request.tick(now),
            RegenStage::Codes(_) => {}
        }
    }

    fn reconnected(&mut self) {
        match &mut self.stage {
            RegenStage::Password(form) => form.request.reconnected(),
            RegenStage::Codes(_) => {}
        }
    }

    fn keys(&self, _: &Session) -> Vec<Key> {
        match &self.stage {
            RegenStage::Password(_) => keys::resolve(KEYS, ()),
            RegenStage::Codes(codes) => codes.keys(),
        }
    }

    fn on_key(&mut self, key: &KeyEvent, cx: &mut Cx<'_, Session>) -> Transition<SignedInRoute> {
        match &mut self.stage {
            RegenStage::Password(form) => match form.on_key(key) {
                FormIntent::Nothing => Transition::Stay,
                FormIntent::Submit(password) => {
                    form.request.sent(cx.send(ApiCall::RegenerateCodes { token: cx.token(), password }));
                    Transition::Stay
                }
                // Leaving while the request is out would lose codes that replace the old ones.
                FormIntent::Cancel if form.request.is_sending() => Transition::Stay,
                FormIntent::Cancel => Transition::Go(SignedInRoute::Home { notice: None, refresh: false }),
            },
            RegenStage::Codes(codes) => match codes.on_key(key, cx) {
                CodesOutcome::Stay => Transition::Stay,
                CodesOutcome::Done => {
                    let notice = Notice::success("New backup codes are active; the old ones no longer work.");
                    Transition::Go(SignedInRoute::Home { notice: Some(notice), refresh: true })
                }
            },
        }
    }

    fn on_reply(&mut self, answer: Answer, cx: &mut Cx<'_, Session>) -> Transition<SignedInRoute> {
        let Answer { reply, now, .. } = answer;
        match (&mut self.stage, reply) {
            (RegenStage::Password(_), Reply::Regenerated(Ok(response))) => {
                let me = &mut cx.account.me;
                me.two_factor.backup_codes_remaining = codes::full_set();
                self.stage = RegenStage::Codes(CodesStep::new(
                    response.backup_codes,
                    &self.issuer,
                    &me.username,
                    now.wall,
                    CodesKind::Regenerated,
                ));
                Transition::Stay
            }
            (RegenStage::Password(form), Reply::Regenerated(Err(error))) => {
                form.failed(&error, now, cx);
                Transition::Stay
            }
            (RegenStage::Codes(codes), reply) => codes.on_reply(reply),
            (RegenStage::Password(_), other) => unasked(&other),
        }
    }

    fn quit_warning(&self) -> Option<&'static str> {
        match &self.stage {
            RegenStage::Password(_) => None,
            RegenStage::Codes(codes) => codes.quit_warning(),
        }
    }

    fn render(&self, _: &Session, area: Rect, buf: &mut Buffer, ui: &Ui) {
        match &self.stage {
            RegenStage::Password(form) => {
                let mut intro = Vec::new();
                if self.reason == RegenReason::CodesNeverArrived {
                    intro.push(
                        Line::from(
                            "Two-factor authentication is now on, but your backup codes never reached this \
                             computer: the connection failed. Generate new ones now, so that you can still \
                             sign in if you lose your phone.",
                        )
                        .yellow(),
                    );
                    intro.push(Line::from(""));
                }
                intro.push(
                    Line::from("! Your current backup codes stop working as soon as new ones are made.")
                        .yellow()
                        .bold(),
                );
                intro.push(Line::from(""));
                intro.push(Line::from("Enter your password to generate ten new backup codes."));
                render_password_panel(
                    "Generate new backup codes",
                    intro,
                    form,
                    area,
                    buf,
                    ui,
                    "Generating new codes…",
                );
            }
            RegenStage::Codes(codes) => codes.render(area, buf, ui),
        }
    }
}

#[cfg(test)]
mod tests {
    use crossterm::event::KeyCode;

    use crate::client::ClientError;
    use crate::domain::BackupCodesResponse;
    use crate::tui::app::msg::Reply;
    use crate::tui::testing::*;

    #[test]
    fn regenerate_password() {
        let mut app = signed_in(me(true, 3));
        press(&mut app, KeyCode::Char('g'));
        insta::assert_snapshot!(render(&app, 80, 24).backend());
    }

    #[test]
    fn regenerate_after_lost_codes() {
        let mut app = at_verify();
        type_text(&mut app, "123456");
        reply(&mut app, Reply::Confirmed(Err(ClientError::Timeout { url: format!("{URL}/v1/x") })));
        reply(&mut app, Reply::Me(Ok(me(true, 10))));
        insta::assert_snapshot!(render(&app, 80, 24).backend());
    }

    #[test]
    fn regenerated_codes() {
        let mut app = signed_in(me(true, 3));
        press(&mut app, KeyCode::Char('g'));
        type_text(&mut app, "pw");
        press(&mut app, KeyCode::Enter);
        reply(&mut app, Reply::Regenerated(Ok(BackupCodesResponse { backup_codes: backup_codes() })));
        insta::assert_snapshot!(render(&app, 80, 24).backend());
    }
}
