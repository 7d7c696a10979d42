//! The view: `impl Widget for &App`. Renders from a shared reference and never fails.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Stylize;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

use super::{Account, App, MIN_HEIGHT, MIN_WIDTH, Overlay};
use crate::tui::demo_phone::PhoneCode;
use crate::tui::keys::{self, KeyBinding};
use crate::tui::screen::{Chrome, Ui};
use crate::tui::screens::connect::Place;
use crate::tui::screens::help;
use crate::tui::widgets::keyhints::KeyHints;
use crate::tui::widgets::popup::{Popup, TooSmall};
use crate::tui::widgets::spinner;

/// The keys while the help is open.
const HELP_KEYS: &[KeyBinding] =
    &[KeyBinding::new("↑↓", "scroll").also("j k PgUp PgDn"), KeyBinding::new("any other key", "close")];

/// The keys while quitting is asked.
const QUIT_CONFIRM_KEYS: &[KeyBinding] =
    &[KeyBinding::new("y", "quit"), KeyBinding::new("n", "stay").also("Esc"), keys::quit()];

impl App {
    fn hints(&self) -> Vec<(&'static str, &'static str)> {
        let keys = match &self.overlay {
            Some(Overlay::Help { .. }) => keys::resolve(HELP_KEYS, ()),
            Some(Overlay::QuitConfirm(_)) => keys::resolve(QUIT_CONFIRM_KEYS, ()),
            Some(Overlay::Unreachable(dialog)) => dialog.keys(Place::OverScreen),
            None => self.account.keys(),
        };
        keys::hints(&keys)
    }

    /// ` usercenter · URL (not encrypted)        username `; a long username or URL is shortened with
    /// `…` so neither runs over the other.
    fn render_header(&self, area: Rect, phone: Option<&PhoneCode>, buf: &mut Buffer) {
        let width = usize::from(area.width);
        let name = match &self.account {
            Account::SignedIn { session, .. } => {
                shorten(&session.me.username, (width / 2).saturating_sub(2).max(8))
            }
            Account::SignedOut(_) => String::new(),
        };
        // The demo's stand-in phone goes before the username: the code to type is always in sight.
        let username = match phone {
            Some(phone) if name.is_empty() => phone.label(),
            Some(phone) => format!("{} · {name}", phone.label()),
            None => name,
        };
        let insecure = if self.config.insecure { " (not encrypted)" } else { "" };
        // " usercenter · " is 14 columns; two more keep a gap before the username.
        let room = width.saturating_sub(14 + insecure.chars().count() + username.chars().count() + 2);
        let mut spans = vec![Span::raw(" "), Span::raw("usercenter").bold(), Span::raw(" · ").dark_gray()];
        spans.push(Span::raw(shorten(&self.config.api_url, room)).dark_gray());
        if self.config.insecure {
            spans.push(Span::raw(insecure).yellow());
        }
        Line::from(spans).render(area, buf);
        if !username.is_empty() {
            Paragraph::new(Line::from(format!("{username} ")).bold()).right_aligned().render(area, buf);
        }
    }
}

/// `text` in at most `max` columns, its end replaced by `…` when it is longer.
fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut short: String = text.chars().take(max.saturating_sub(1)).collect();
    short.push('…');
    short
}

impl Widget for &App {
    fn render(self, area: Rect, buf: &mut Buffer) {
        if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
            TooSmall { need: (MIN_WIDTH, MIN_HEIGHT) }.render(area, buf);
            return;
        }
        let [header, body, footer] =
            Layout::vertical([Constraint::Length(1), Constraint::Fill(1), Constraint::Length(1)]).areas(area);
        // An overlay needs the hint line to say how to answer it.
        let chrome = match (self.account.chrome(area), &self.overlay) {
            (Chrome::Bare, Some(_)) => Chrome::NoHeader,
            (chrome, _) => chrome,
        };
        let phone = self.config.phone_code();
        let ui = Ui {
            spinner: spinner::frame(self.spinner),
            api_url: &self.config.api_url,
            chrome,
            time_zone: &self.config.time_zone,
            now: self.config.wall,
            phone: phone.as_ref(),
        };
        match chrome {
            Chrome::Bare => self.account.render(area, buf, &ui),
            Chrome::NoHeader => self.account.render(Rect { height: area.height - 1, ..area }, buf, &ui),
            Chrome::Full => {
                self.render_header(header, phone.as_ref(), buf);
                self.account.render(body, buf, &ui);
            }
        }
        if chrome != Chrome::Bare {
            KeyHints(&self.hints()).render(footer, buf);
        }
        match &self.overlay {
            Some(Overlay::Help { scroll }) => {
                // The hint line under it says how to scroll and close.
                let above_hints = Rect { height: area.height.saturating_sub(1), ..area };
                help::render(&self.account.keys(), self.account.accepts_text(), *scroll, above_hints, buf);
            }
            Some(Overlay::QuitConfirm(warning)) => {
                let lines = vec![
                    Line::from(*warning),
                    Line::from(""),
                    Line::from("Quit anyway? y quits · n stays (Ctrl-C again quits)").bold(),
                ];
                Popup::new("Quit?", lines)
                    .warning()
                    .width(area.width.saturating_sub(4).min(76))
                    .render(area, buf);
            }
            Some(Overlay::Unreachable(dialog)) => dialog.render(area, buf, &ui),
            None => {}
        }
        self.config.palette.apply(area, buf);
    }
}
