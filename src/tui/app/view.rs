//! The view: `impl Widget for &App`. Renders from a shared reference and never fails.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Stylize;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

use super::{Account, App, MIN_HEIGHT, MIN_WIDTH, Overlay};
use crate::tui::keys::{self, KeyBinding};
use crate::tui::screen::{Chrome, Ui};
use crate::tui::screens::connect::Place;
use crate::tui::screens::help;
use crate::tui::widgets::keyhints::KeyHints;
use crate::tui::widgets::popup::{Popup, TooSmall};
use crate::tui::widgets::spinner;

/// The keys while the help is open.
const HELP_KEYS: &[KeyBinding] = &[KeyBinding::new("any key", "close")];

/// The keys while quitting is asked.
const QUIT_CONFIRM_KEYS: &[KeyBinding] =
    &[KeyBinding::new("y", "quit"), KeyBinding::new("n", "stay").also("Esc"), keys::quit()];

impl App {
    fn hints(&self) -> Vec<(&'static str, &'static str)> {
        let keys = match &self.overlay {
            Some(Overlay::Help) => keys::resolve(HELP_KEYS, ()),
            Some(Overlay::QuitConfirm(_)) => keys::resolve(QUIT_CONFIRM_KEYS, ()),
            Some(Overlay::Unreachable(dialog)) => dialog.keys(Place::OverScreen),
            None => self.account.keys(),
        };
        keys::hints(&keys)
    }

    fn render_header(&self, area: Rect, buf: &mut Buffer) {
        let mut spans = vec![Span::raw(" "), Span::raw("usercenter").bold(), Span::raw(" · ").dark_gray()];
        spans.push(Span::raw(self.config.api_url.clone()).dark_gray());
        if self.config.insecure {
            spans.push(Span::raw(" (not encrypted)").yellow());
        }
        Line::from(spans).render(area, buf);
        if let Account::SignedIn { session, .. } = &self.account {
            Paragraph::new(Line::from(format!("{} ", session.me.username)).bold())
                .right_aligned()
                .render(area, buf);
        }
    }
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
        let ui = Ui { spinner: spinner::frame(self.spinner), api_url: &self.config.api_url, chrome };
        match chrome {
            Chrome::Bare => self.account.render(area, buf, &ui),
            Chrome::NoHeader => self.account.render(Rect { height: area.height - 1, ..area }, buf, &ui),
            Chrome::Full => {
                self.render_header(header, buf);
                self.account.render(body, buf, &ui);
            }
        }
        if chrome != Chrome::Bare {
            KeyHints(&self.hints()).render(footer, buf);
        }
        match &self.overlay {
            Some(Overlay::Help) => help::render(&self.account.keys(), self.account.accepts_text(), area, buf),
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
