//! What to try after a code was refused.

use time::OffsetDateTime;

use crate::tui::notice::Notice;

/// Beyond this difference between the server's clock and ours, codes from a phone set by the network
/// still work while this computer's idea of "now" would mislead the person.
pub const CLOCK_SKEW_LIMIT_S: i64 = 15;

/// The hints shown after an invalid code: the phone's clock, and this computer's if it is off.
pub fn invalid_code_hints(server_date: Option<OffsetDateTime>, local: OffsetDateTime) -> Vec<Notice> {
    let mut hints =
        vec![Notice::info("Check that your phone's clock is set automatically, then try the newest code.")];
    if let Some(server) = server_date {
        let skew = (local - server).whole_seconds();
        if skew.abs() > CLOCK_SKEW_LIMIT_S {
            let direction = if skew > 0 { "ahead of" } else { "behind" };
            hints.push(Notice::warning(format!(
                "This computer's clock is off by {} s ({direction} the server's clock).",
                skew.abs()
            )));
        }
    }
    hints
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_hint_only_beyond_the_limit() {
        let server = OffsetDateTime::UNIX_EPOCH + time::Duration::hours(500_000);
        assert_eq!(invalid_code_hints(Some(server), server + time::Duration::seconds(15)).len(), 1);
        let hints = invalid_code_hints(Some(server), server - time::Duration::seconds(42));
        assert_eq!(hints.len(), 2);
        assert!(hints[1].text.contains("off by 42 s (behind"), "{}", hints[1].text);
        assert_eq!(invalid_code_hints(None, server).len(), 1);
    }
}
