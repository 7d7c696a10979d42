//! The QR code widget: a QR code drawn with Unicode half blocks in explicit colours.
//!
//! Each terminal cell holds two modules stacked vertically (the upper and the lower half block), and a
//! cell is about twice as tall as it is wide, so one module is one column by half a row: close to square.

use qrcode::{EcLevel, QrCode};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Color;
use ratatui::widgets::Widget;

/// Light modules around the code, in modules.
///
/// The standard asks for 4, but with 4 an otpauth URI for a 30-character account (version 6, 41
/// modules) needs 49 columns by 25 rows: one row more than 80x24. Phone scanners (ZXing, ML Kit,
/// the iOS camera) read codes with a quiet zone of 2 reliably; 1 fails on dark terminal themes, where
/// the surroundings are dark. With 2 the code needs 45x23 cells and leaves one row at 80x24.
pub const QUIET_ZONE: u16 = 2;

/// The colour of dark modules in the normal rendering.
pub const DARK: Color = Color::Black;
/// The colour of light modules and the quiet zone in the normal rendering.
pub const LIGHT: Color = Color::White;

/// Why a text cannot be made into a QR code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QrError {
    #[error("the text is too long for a QR code ({bytes} bytes)")]
    TooLong { bytes: usize },
    #[error("cannot make a QR code: {0}")]
    Encode(String),
}

/// The modules of a QR code, without a quiet zone.
#[derive(Clone, PartialEq, Eq)]
pub struct QrMatrix {
    width: usize,
    dark: Vec<bool>,
    /// The cells of the code drawn with [`QUIET_ZONE`], row by row: which of each cell's two modules
    /// are dark, `(top << 1) | bottom`. Worked out once here rather than in every frame.
    halves: Vec<u8>,
}

impl Drop for QrMatrix {
    // The modules are the TOTP secret in another form.
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.dark);
        zeroize::Zeroize::zeroize(&mut self.halves);
    }
}

impl std::fmt::Debug for QrMatrix {
    // The modules encode a TOTP secret: never print them.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QrMatrix").field("width", &self.width).finish_non_exhaustive()
    }
}

impl QrMatrix {
    /// Encodes `data` with optimal segmentation in the smallest version that holds it at error
    /// correction level L, then raises the level as far as that same version allows: more
    /// robustness at no cost in size. A ~115-byte otpauth URI (30-character account, 32-character
    /// secret, issuer "usercenter") becomes version 6 at level L: 41 modules, 45x23 cells with the
    /// quiet zone. Level M would need version 7 (45 modules, 25 rows): too tall for 24 rows.
    pub fn encode(data: &str) -> Result<QrMatrix, QrError> {
        let smallest = QrCode::with_error_correction_level(data, EcLevel::L).map_err(|e| match e {
            qrcode::types::QrError::DataTooLong => QrError::TooLong { bytes: data.len() },
            other => QrError::Encode(other.to_string()),
        })?;
        let version = smallest.version();
        let code = [EcLevel::H, EcLevel::Q, EcLevel::M]
            .into_iter()
            .find_map(|level| QrCode::with_version(data, version, level).ok())
            .unwrap_or(smallest);
        Ok(Self::from_code(&code))
    }

    fn from_code(code: &QrCode) -> Self {
        let dark = code.to_colors().into_iter().map(|c| c == qrcode::Color::Dark).collect();
        let mut matrix = QrMatrix { width: code.width(), dark, halves: Vec::new() };
        matrix.halves = matrix.framed_halves();
        matrix
    }

    /// [`QrMatrix::halves`]: each cell's pair of modules, with [`QUIET_ZONE`] around the code.
    fn framed_halves(&self) -> Vec<u8> {
        let (columns, rows) = self.cells(QUIET_ZONE);
        let quiet_zone = usize::from(QUIET_ZONE);
        let half = |x: usize, y: usize| u8::from(self.is_dark_framed(x, y, quiet_zone));
        (0..usize::from(rows))
            .flat_map(|row| (0..usize::from(columns)).map(move |x| (x, 2 * row)))
            .map(|(x, y)| half(x, y) << 1 | half(x, y + 1))
            .collect()
    }

    /// Modules per side, without the quiet zone.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Whether the module at column `x`, row `y` is dark; outside the code (the quiet zone) is light.
    pub fn is_dark(&self, x: usize, y: usize) -> bool {
        x < self.width && y < self.width && self.dark[y * self.width + x]
    }

    /// Terminal cells needed with `quiet_zone` light modules on each side: (columns, rows).
    /// Each cell holds two modules vertically, so rows = ceil((width + 2 * quiet_zone) / 2).
    pub fn cells(&self, quiet_zone: u16) -> (u16, u16) {
        let side = self.width.saturating_add(2 * usize::from(quiet_zone));
        let side = u16::try_from(side).unwrap_or(u16::MAX);
        (side, side.div_ceil(2))
    }

    /// Whether the code with [`QUIET_ZONE`] fits in `area`.
    pub fn fits(&self, area: Rect) -> bool {
        let (columns, rows) = self.cells(QUIET_ZONE);
        area.width >= columns && area.height >= rows
    }

    /// Whether the module at (`x`, `y`) of the code framed by `quiet_zone` light modules is dark.
    fn is_dark_framed(&self, x: usize, y: usize, quiet_zone: usize) -> bool {
        x >= quiet_zone && y >= quiet_zone && self.is_dark(x - quiet_zone, y - quiet_zone)
    }
}

/// Draws the code with [`QUIET_ZONE`] at the top-left of its area in explicit colours: dark modules
/// [`DARK`] and light ones [`LIGHT`] (swapped when `inverted`), so it scans in dark and light themes
/// alike. An area too small for it gets nothing drawn: the screen says how large it must be.
#[derive(Debug, Clone, Copy)]
pub struct QrWidget<'a> {
    pub matrix: &'a QrMatrix,
    pub inverted: bool,
}

impl Widget for QrWidget<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let area = area.intersection(buf.area);
        let (columns, rows) = self.matrix.cells(QUIET_ZONE);
        if area.width < columns || area.height < rows {
            return;
        }
        let (dark, light) = if self.inverted { (LIGHT, DARK) } else { (DARK, LIGHT) };
        // Each cell is set in place through its row's slice of the buffer. (Cloning a prepared cell
        // into it was slower: the copy went through the stack and stalled on every cell in perf.)
        let columns = usize::from(columns);
        for (y, halves) in (area.y..area.y + rows).zip(self.matrix.halves.chunks_exact(columns)) {
            let start = buf.index_of(area.x, y);
            for (cell, &half) in buf.content[start..start + columns].iter_mut().zip(halves) {
                cell.reset();
                cell.set_symbol(HALVES[usize::from(half)]).set_fg(dark).set_bg(light);
            }
        }
    }
}

/// The symbol of a cell by its pair of modules, `(top dark) << 1 | (bottom dark)`.
const HALVES: [&str; 4] = [" ", "▄", "▀", "█"];

/// Reads a QR code back from a rendered buffer, as a phone would from the screen: every cell drawn in
/// the QR colours (a half-block symbol or a space, with fg and bg both [`DARK`]/[`LIGHT`]) becomes two
/// pixels by colour, everything else light; rqrr then finds and decodes the code anywhere in the
/// buffer. An inverted rendering is decoded too, by trying the inverted picture when the plain one
/// yields nothing (as ZXing's "try inverted" does).
#[cfg(test)]
pub(crate) fn decode_buffer(buf: &Buffer) -> Option<String> {
    const SCALE: usize = 4;
    let area = buf.area;
    let (columns, rows) = (usize::from(area.width), usize::from(area.height));
    // Per module-row (two per cell row) and column: Some(dark) in the QR colours, None elsewhere.
    let mut modules = vec![None; columns * rows * 2];
    for (row, y) in (area.y..area.bottom()).enumerate() {
        for (column, x) in (area.x..area.right()).enumerate() {
            let cell = &buf[(x, y)];
            let is_qr_colour = |c: Color| c == DARK || c == LIGHT;
            if !is_qr_colour(cell.fg) || !is_qr_colour(cell.bg) {
                continue;
            }
            let (top_fg, bottom_fg) = match cell.symbol() {
                "█" => (true, true),
                "▀" => (true, false),
                "▄" => (false, true),
                " " => (false, false),
                _ => continue,
            };
            let colour = |fg: bool| if fg { cell.fg } else { cell.bg };
            modules[(2 * row) * columns + column] = Some(colour(top_fg) == DARK);
            modules[(2 * row + 1) * columns + column] = Some(colour(bottom_fg) == DARK);
        }
    }
    [false, true].into_iter().find_map(|invert| {
        let mut image =
            rqrr::PreparedImage::prepare_from_bitmap(columns * SCALE, rows * 2 * SCALE, |x, y| {
                modules[(y / SCALE) * columns + x / SCALE].is_some_and(|dark| dark != invert)
            });
        image.detect_grids().into_iter().find_map(|grid| grid.decode().ok().map(|(_, text)| text))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    const ACCOUNT_30: &str = "abcdefghij.klmnopqrst_uvwxyz12";
    const SECRET_32: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";

    fn uri(account: &str) -> String {
        format!("otpauth://totp/usercenter:{account}?secret={SECRET_32}")
    }

    fn render(matrix: &QrMatrix, inverted: bool, width: u16, height: u16, at: Rect) -> Buffer {
        let mut buf = Buffer::empty(Rect::new(0, 0, width, height));
        QrWidget { matrix, inverted }.render(at, &mut buf);
        buf
    }

    /// The longest username `user add` allows, 64 characters.
    const USERNAME_64: &str = "alexandra.konstantinopoulou.vandenberg@research-labs.example.org";

    #[test]
    fn a_64_character_username_with_a_long_issuer_is_version_6_and_fits_80x24() {
        assert_eq!(USERNAME_64.len(), 64);
        let account = USERNAME_64.replace('@', "%40");
        let uri = format!("otpauth://totp/Newcomer%20Platform:{account}?secret={SECRET_32}");
        let matrix = QrMatrix::encode(&uri).unwrap();
        assert_eq!(matrix.width(), 41, "version 6");
        assert_eq!(matrix.cells(QUIET_ZONE), (45, 23), "23 rows and one for the line under it");
        // The issuer parameter would repeat the label's prefix and push it to version 8 (84x28).
        let with_parameter = format!("{uri}&issuer=Newcomer%20Platform");
        assert_eq!(QrCode::with_error_correction_level(with_parameter, EcLevel::L).unwrap().width(), 49);
    }

    #[test]
    fn shorter_accounts_are_no_larger() {
        for account in [ACCOUNT_30.to_owned(), "a".repeat(50), "first.last%40example-company.org".to_owned()]
        {
            let matrix = QrMatrix::encode(&uri(&account)).unwrap();
            assert!(matrix.width() <= 41, "{account}: {}", matrix.width());
            assert!(matrix.fits(Rect::new(0, 0, 80, 23)));
        }
    }

    #[test]
    fn error_correction_is_raised_while_the_size_stays() {
        // 6 bytes fit version 1 even at level H (up to 7 bytes).
        let small = QrMatrix::encode("abcdef").unwrap();
        assert_eq!(small.width(), 21);
        let h = QrCode::with_error_correction_level("abcdef", EcLevel::H).unwrap();
        assert_eq!(small, QrMatrix::from_code(&h));
    }

    #[test]
    fn cells_round_rows_up() {
        let matrix = QrMatrix::encode("abcdef").unwrap(); // 21 modules
        assert_eq!(matrix.cells(0), (21, 11));
        assert_eq!(matrix.cells(2), (25, 13));
        assert_eq!(matrix.cells(4), (29, 15));
    }

    #[test]
    fn quiet_zone_and_outside_are_light() {
        let matrix = QrMatrix::encode("abcdef").unwrap();
        // Finder pattern corner is dark; beyond the width is light.
        assert!(matrix.is_dark(0, 0));
        assert!(!matrix.is_dark(21, 0));
        assert!(!matrix.is_dark(0, 21));
        assert!(!matrix.is_dark_framed(1, 1, 2));
        assert!(matrix.is_dark_framed(2, 2, 2));
    }

    #[test]
    fn too_long_is_an_error() {
        let long = "x".repeat(3000);
        assert_eq!(QrMatrix::encode(&long), Err(QrError::TooLong { bytes: 3000 }));
    }

    #[test]
    fn debug_does_not_show_modules() {
        let matrix = QrMatrix::encode("abcdef").unwrap();
        assert_eq!(format!("{matrix:?}"), "QrMatrix { width: 21, .. }");
    }

    #[test]
    fn round_trip_through_an_80x24_buffer() {
        let uri = uri(ACCOUNT_30);
        let matrix = QrMatrix::encode(&uri).unwrap();
        let buf = render(&matrix, false, 80, 24, Rect::new(0, 0, 80, 24));
        assert_eq!(decode_buffer(&buf).as_deref(), Some(uri.as_str()));
    }

    #[test]
    fn round_trip_inverted() {
        let uri = uri(ACCOUNT_30);
        let matrix = QrMatrix::encode(&uri).unwrap();
        let buf = render(&matrix, true, 80, 24, Rect::new(0, 0, 80, 24));
        assert_eq!(decode_buffer(&buf).as_deref(), Some(uri.as_str()));
    }

    #[test]
    fn round_trip_anywhere_on_a_busy_screen() {
        let uri = uri(ACCOUNT_30);
        let matrix = QrMatrix::encode(&uri).unwrap();
        let backend = TestBackend::new(80, 24);
        let mut terminal = Terminal::new(backend).unwrap();
        terminal
            .draw(|frame| {
                let text = "Scan with Google Authenticator, Authy, 1Password. Key: JBSW Y3DP EHPK";
                let style = ratatui::style::Style::new().fg(Color::White).bg(Color::Black);
                frame.render_widget(
                    ratatui::widgets::Paragraph::new(text).style(style),
                    Rect::new(0, 0, 80, 1),
                );
                frame.render_widget(QrWidget { matrix: &matrix, inverted: false }, Rect::new(30, 1, 50, 23));
            })
            .unwrap();
        assert_eq!(decode_buffer(terminal.backend().buffer()).as_deref(), Some(uri.as_str()));
    }

    #[test]
    fn colours_are_explicit_in_the_whole_code_area() {
        let matrix = QrMatrix::encode(&uri(ACCOUNT_30)).unwrap();
        let (columns, rows) = matrix.cells(QUIET_ZONE);
        for inverted in [false, true] {
            let buf = render(&matrix, inverted, 80, 24, Rect::new(3, 1, 77, 23));
            let (dark, light) = if inverted { (LIGHT, DARK) } else { (DARK, LIGHT) };
            for y in 1..1 + rows {
                for x in 3..3 + columns {
                    let cell = &buf[(x, y)];
                    assert_eq!((cell.fg, cell.bg), (dark, light), "cell {x},{y} inverted={inverted}");
                }
            }
            // The quiet zone: two light modules on every side.
            assert_eq!(buf[(3, 1)].symbol(), " ");
            assert_eq!(buf[(4, 1)].symbol(), " ");
            assert_eq!(buf[(3 + columns - 1, 1 + rows - 1)].symbol(), " ");
            // The top-left finder pattern starts at module (2, 2): cell column 5, row 2 holds modules 2 and 3.
            assert_eq!(buf[(5, 2)].symbol(), "█");
            // Outside the code nothing is touched.
            assert_eq!(buf[(3 + columns, 1)].fg, Color::Reset);
            assert_eq!(buf[(2, 1)].bg, Color::Reset);
        }
    }

    #[test]
    fn a_too_small_area_draws_nothing() {
        let matrix = QrMatrix::encode(&uri(ACCOUNT_30)).unwrap();
        let (columns, rows) = matrix.cells(QUIET_ZONE);
        for (width, height) in [(columns - 1, rows), (columns, rows - 1), (0, 0), (1, 1), (80, 10)] {
            let buf = render(&matrix, false, 80, 24, Rect::new(0, 0, width, height));
            assert_eq!(buf, Buffer::empty(Rect::new(0, 0, 80, 24)), "{width}x{height}");
            assert!(!matrix.fits(Rect::new(0, 0, width, height)));
        }
        // An area that claims to be larger than the buffer is clipped to it, not drawn out of bounds.
        let buf = render(&matrix, false, 40, 20, Rect::new(0, 0, 80, 24));
        assert_eq!(buf, Buffer::empty(Rect::new(0, 0, 40, 20)));
    }

    #[test]
    fn decode_finds_nothing_in_an_empty_screen() {
        assert_eq!(decode_buffer(&Buffer::empty(Rect::new(0, 0, 80, 24))), None);
    }

    #[test]
    fn snapshot_of_a_small_code() {
        let matrix = QrMatrix::encode("usercenter").unwrap();
        let (columns, rows) = matrix.cells(QUIET_ZONE);
        let mut terminal = Terminal::new(TestBackend::new(columns, rows)).unwrap();
        terminal
            .draw(|frame| frame.render_widget(QrWidget { matrix: &matrix, inverted: false }, frame.area()))
            .unwrap();
        assert_eq!(decode_buffer(terminal.backend().buffer()).as_deref(), Some("usercenter"));
        insta::assert_snapshot!(terminal.backend());
    }
}
