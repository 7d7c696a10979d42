//! Colours that read on the person's terminal: a palette for dark and for light backgrounds, the 8
//! basic colours where the terminal has no more, and none at all under NO_COLOR.
//!
//! Screens name a colour's *role* with one of five basic colours: cyan for keys and progress (accent),
//! green for success, yellow for warnings, red for errors, dark grey for muted text. After the app is
//! drawn, [`Palette::apply`] turns each role into what the terminal gets. Every other colour is
//! functional and left alone: the QR code's black and white keep it scannable everywhere, even under
//! NO_COLOR (the runtime forces colour output on, and this palette then adds none of its own).

use ratatui::buffer::{Buffer, Cell};
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier};

/// The terminal's background, as asked with OSC 11 (or as the person chose).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Background {
    #[default]
    Dark,
    Light,
}

/// How many colours the terminal shows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Depth {
    /// NO_COLOR: no colour but the QR code's.
    None,
    /// `TERM=xterm` and the like: the 8 basic colours only.
    Basic,
    /// 256 colours (or more).
    #[default]
    Full,
}

/// The palette the app draws with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Palette {
    pub background: Background,
    pub depth: Depth,
}

/// The roles screens draw with (as the basic colour named after each).
pub const ROLES: [Color; 5] = [Color::Cyan, Color::Green, Color::Yellow, Color::Red, Color::DarkGray];

/// Why the app cannot run in this terminal.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TerminalError {
    #[error(
        "this terminal cannot show the app (TERM={0}): it needs one that can move the cursor, such as \
         xterm-256color; run usercenter in a terminal emulator"
    )]
    Dumb(String),
}

impl Depth {
    /// From NO_COLOR, TERM and COLORTERM as the process sees them.
    pub fn detect(var: impl Fn(&str) -> Option<String>) -> Result<Self, TerminalError> {
        let term = var("TERM").unwrap_or_default();
        if term == "dumb" {
            return Err(TerminalError::Dumb(term));
        }
        if var("NO_COLOR").is_some_and(|v| !v.is_empty()) {
            return Ok(Depth::None);
        }
        let colorterm = var("COLORTERM").unwrap_or_default();
        let rich = ["256color", "direct", "truecolor", "kitty", "alacritty", "foot", "wezterm", "ghostty"];
        let full =
            matches!(colorterm.as_str(), "truecolor" | "24bit") || rich.iter().any(|r| term.contains(r));
        Ok(if full { Depth::Full } else { Depth::Basic })
    }
}

impl Palette {
    /// What the terminal gets for a role colour: a colour (or the terminal's own text colour) and the
    /// modifiers that carry the meaning when colour cannot.
    pub fn role(&self, role: Color) -> (Color, Modifier) {
        use Background::{Dark, Light};
        let none = Modifier::empty();
        match (self.depth, self.background, role) {
            // NO_COLOR: warnings and errors go bold. xterm's basic red is 3.6:1 on black: with 8
            // colours on a dark background errors keep their mark and go bold instead.
            (Depth::None, _, Color::Yellow | Color::Red) | (Depth::Basic, Dark, Color::Red) => {
                (Color::Reset, Modifier::BOLD)
            }
            (Depth::None, _, _)
            | (Depth::Basic, Dark, Color::DarkGray)
            | (Depth::Basic, Light, Color::Green | Color::DarkGray) => (Color::Reset, none),
            // No yellow or cyan on white.
            (Depth::Basic, Light, Color::Cyan) => (Color::Blue, none),
            (Depth::Basic, Light, Color::Yellow) => (Color::Magenta, none),
            (Depth::Full, Dark, Color::Cyan) => (Color::Indexed(80), none),
            (Depth::Full, Dark, Color::Green) => (Color::Indexed(78), none),
            (Depth::Full, Dark, Color::Yellow) => (Color::Indexed(220), none),
            (Depth::Full, Dark, Color::Red) => (Color::Indexed(203), none),
            // Not colour 8: Solarized Dark draws it in its background colour.
            (Depth::Full, Dark, Color::DarkGray) => (Color::Indexed(247), none),
            (Depth::Full, Light, Color::Cyan) => (Color::Indexed(25), none),
            (Depth::Full, Light, Color::Green) => (Color::Indexed(22), none),
            (Depth::Full, Light, Color::Yellow) => (Color::Indexed(94), none),
            (Depth::Full, Light, Color::Red) => (Color::Indexed(124), none),
            (Depth::Full, Light, Color::DarkGray) => (Color::Indexed(241), none),
            (Depth::Basic | Depth::Full, _, other) => (other, none),
        }
    }

    /// Turns the role colours drawn in `area` into this palette's.
    ///
    /// It runs over every cell of every frame (12,000 at 200x60), so it walks each row as a slice of
    /// cells rather than indexing cell by cell.
    pub fn apply(&self, area: Rect, buf: &mut Buffer) {
        let area = area.intersection(buf.area);
        if area.is_empty() {
            return;
        }
        let basic = self.depth == Depth::Basic;
        let width = usize::from(area.width);
        for y in area.top()..area.bottom() {
            let start = buf.index_of(area.x, y);
            for cell in &mut buf.content[start..start + width] {
                self.apply_to(cell, basic);
            }
        }
    }

    /// [`Palette::apply`] for one cell; `basic` when the terminal has the 8 basic colours only.
    fn apply_to(&self, cell: &mut Cell, basic: bool) {
        if is_role(cell.fg) {
            let (fg, modifier) = self.role(cell.fg);
            cell.fg = fg;
            cell.modifier.insert(modifier);
        }
        if is_role(cell.bg) {
            cell.bg = self.role(cell.bg).0;
        }
        if basic {
            // The QR code's light modules: bright white is beyond the 8 basic colours.
            for color in [&mut cell.fg, &mut cell.bg] {
                if *color == Color::White {
                    *color = Color::Gray;
                }
            }
        }
    }
}

/// Whether `color` is one of [`ROLES`]: a match, not a search of the array, as it is asked twice for
/// every cell of every frame.
const fn is_role(color: Color) -> bool {
    matches!(color, Color::Cyan | Color::Green | Color::Yellow | Color::Red | Color::DarkGray)
}

/// The WCAG 2 contrast of every role against the backgrounds people use.
#[cfg(test)]
mod tests {
    use super::*;

    type Rgb = (u8, u8, u8);

    /// A terminal: its background, its default text colour, and its 16 basic colours.
    struct Terminal {
        name: &'static str,
        background: Rgb,
        foreground: Rgb,
        ansi: [Rgb; 16],
        detected: Background,
    }

    const XTERM: [Rgb; 16] = [
        (0, 0, 0),
        (205, 0, 0),
        (0, 205, 0),
        (205, 205, 0),
        (0, 0, 238),
        (205, 0, 205),
        (0, 205, 205),
        (229, 229, 229),
        (127, 127, 127),
        (255, 0, 0),
        (0, 255, 0),
        (255, 255, 0),
        (92, 92, 255),
        (255, 0, 255),
        (0, 255, 255),
        (255, 255, 255),
    ];
    const SOLARIZED: [Rgb; 16] = [
        (0x07, 0x36, 0x42),
        (0xdc, 0x32, 0x2f),
        (0x85, 0x99, 0x00),
        (0xb5, 0x89, 0x00),
        (0x26, 0x8b, 0xd2),
        (0xd3, 0x36, 0x82),
        (0x2a, 0xa1, 0x98),
        (0xee, 0xe8, 0xd5),
        (0x00, 0x2b, 0x36),
        (0xcb, 0x4b, 0x16),
        (0x58, 0x6e, 0x75),
        (0x65, 0x7b, 0x83),
        (0x83, 0x94, 0x96),
        (0x6c, 0x71, 0xc4),
        (0x93, 0xa1, 0xa1),
        (0xfd, 0xf6, 0xe3),
    ];

    fn terminals() -> [Terminal; 3] {
        [
            Terminal {
                name: "white",
                background: (255, 255, 255),
                foreground: (0, 0, 0),
                ansi: XTERM,
                detected: Background::Light,
            },
            Terminal {
                name: "black",
                background: (0, 0, 0),
                foreground: (229, 229, 229),
                ansi: XTERM,
                detected: Background::Dark,
            },
            Terminal {
                name: "Solarized Dark",
                background: (0x00, 0x2b, 0x36),
                foreground: (0x83, 0x94, 0x96),
                ansi: SOLARIZED,
                detected: Background::Dark,
            },
        ]
    }

    /// The colour a terminal shows for `color` as text.
    fn shown(color: Color, terminal: &Terminal) -> Rgb {
        const CUBE: [u8; 6] = [0, 95, 135, 175, 215, 255];
        let basic = |i: usize| terminal.ansi[i];
        match color {
            Color::Reset => terminal.foreground,
            Color::Black => basic(0),
            Color::Red => basic(1),
            Color::Green => basic(2),
            Color::Yellow => basic(3),
            Color::Blue => basic(4),
            Color::Magenta => basic(5),
            Color::Cyan => basic(6),
            Color::Gray => basic(7),
            Color::DarkGray => basic(8),
            Color::White => basic(15),
            Color::Indexed(i) if i < 16 => basic(usize::from(i)),
            Color::Indexed(i) if i < 232 => {
                let i = usize::from(i - 16);
                (CUBE[i / 36], CUBE[i / 6 % 6], CUBE[i % 6])
            }
            Color::Indexed(i) => {
                let level = 8 + 10 * (i - 232);
                (level, level, level)
            }
            Color::Rgb(r, g, b) => (r, g, b),
            other => panic!("a colour the palette must not use: {other:?}"),
        }
    }

    fn luminance((r, g, b): Rgb) -> f64 {
        let channel = |c: u8| {
            let c = f64::from(c) / 255.0;
            if c <= 0.04045 { c / 12.92 } else { ((c + 0.055) / 1.055).powf(2.4) }
        };
        0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)
    }

    fn contrast(a: Rgb, b: Rgb) -> f64 {
        let (la, lb) = (luminance(a), luminance(b));
        (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
    }

    #[test]
    fn wcag_contrast() {
        assert!((contrast((0, 0, 0), (255, 255, 255)) - 21.0).abs() < 1e-9);
        assert!((contrast((119, 119, 119), (255, 255, 255)) - 4.48).abs() < 0.01);
    }

    /// Every role in every palette the app picks for a terminal reads at 4.5:1 or better (WCAG AA).
    #[test]
    fn every_role_reads_at_aa_on_white_black_and_solarized_dark() {
        for terminal in terminals() {
            for depth in [Depth::Full, Depth::Basic, Depth::None] {
                let palette = Palette { background: terminal.detected, depth };
                for role in ROLES.into_iter().chain([Color::Reset]) {
                    let (color, _) = palette.role(role);
                    let ratio = contrast(shown(color, &terminal), terminal.background);
                    assert!(
                        ratio >= 4.5,
                        "{role:?} as {color:?} on {} ({depth:?}): {ratio:.2}:1",
                        terminal.name
                    );
                }
            }
        }
    }

    #[test]
    fn no_colour_8_no_yellow_or_cyan_on_white_and_8_colours_stay_basic() {
        for background in [Background::Dark, Background::Light] {
            for depth in [Depth::Full, Depth::Basic, Depth::None] {
                for role in ROLES {
                    let (color, _) = Palette { background, depth }.role(role);
                    assert!(!matches!(color, Color::DarkGray | Color::Indexed(8)), "{role:?} {depth:?}");
                    if background == Background::Light {
                        assert!(!matches!(
                            color,
                            Color::Yellow | Color::Cyan | Color::LightYellow | Color::LightCyan
                        ));
                    }
                    match depth {
                        Depth::None => assert_eq!(color, Color::Reset),
                        Depth::Basic => assert!(
                            matches!(
                                color,
                                Color::Reset
                                    | Color::Red
                                    | Color::Green
                                    | Color::Yellow
                                    | Color::Blue
                                    | Color::Magenta
                                    | Color::Cyan
                            ),
                            "{color:?}"
                        ),
                        Depth::Full => {}
                    }
                }
            }
        }
    }

    #[test]
    fn the_terminal_decides_the_depth() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| (*v).to_owned())
        };
        assert_eq!(Depth::detect(env(&[("TERM", "xterm-256color")])), Ok(Depth::Full));
        assert_eq!(Depth::detect(env(&[("TERM", "xterm")])), Ok(Depth::Basic));
        assert_eq!(Depth::detect(env(&[("TERM", "xterm"), ("COLORTERM", "truecolor")])), Ok(Depth::Full));
        assert_eq!(Depth::detect(env(&[("TERM", "xterm-256color"), ("NO_COLOR", "1")])), Ok(Depth::None));
        assert_eq!(Depth::detect(env(&[("TERM", "xterm-256color"), ("NO_COLOR", "")])), Ok(Depth::Full));
        let dumb = Depth::detect(env(&[("TERM", "dumb")])).unwrap_err().to_string();
        assert!(dumb.contains("TERM=dumb") && dumb.contains("terminal emulator"), "{dumb}");
    }

    #[test]
    fn is_role_is_exactly_the_roles() {
        let others = [
            Color::Reset,
            Color::Black,
            Color::White,
            Color::Gray,
            Color::Blue,
            Color::Magenta,
            Color::LightRed,
            Color::LightCyan,
            Color::Indexed(6),
            Color::Rgb(0, 255, 255),
        ];
        assert!(ROLES.into_iter().all(is_role));
        assert!(!others.into_iter().any(is_role));
    }

    /// Only the area asked for changes, in a buffer that does not start at (0, 0).
    #[test]
    fn apply_keeps_to_its_area() {
        let mut buf = Buffer::filled(Rect::new(2, 1, 4, 3), Cell::new("x").set_fg(Color::Cyan).clone());
        Palette { background: Background::Dark, depth: Depth::Full }.apply(Rect::new(3, 2, 2, 5), &mut buf);
        for y in 1..4 {
            for x in 2..6 {
                let inside = (3..5).contains(&x) && (2..4).contains(&y);
                let expected = if inside { Color::Indexed(80) } else { Color::Cyan };
                assert_eq!(buf[(x, y)].fg, expected, "{x},{y}");
            }
        }
    }

    #[test]
    fn apply_leaves_the_qr_colours_alone() {
        let mut buf = Buffer::empty(Rect::new(0, 0, 3, 1));
        buf[(0, 0)].set_fg(Color::Black).set_bg(Color::White);
        buf[(1, 0)].set_fg(Color::Yellow);
        buf[(2, 0)].set_fg(Color::Red);
        Palette { background: Background::Light, depth: Depth::None }.apply(buf.area, &mut buf);
        assert_eq!((buf[(0, 0)].fg, buf[(0, 0)].bg), (Color::Black, Color::White));
        assert_eq!(buf[(1, 0)].fg, Color::Reset);
        assert!(buf[(2, 0)].modifier.contains(Modifier::BOLD));
    }
}
