//! Values as people read them.

use ratatui::text::{Line, Span};
use time::OffsetDateTime;

/// `Me.two_factor.enabled_at` as shown to people: in their time zone, the zone named
/// (`2026-11-01 10:30 CET`).
pub fn format_time(t: OffsetDateTime, zone: &jiff::tz::TimeZone) -> String {
    match jiff::Timestamp::from_second(t.unix_timestamp()) {
        Ok(instant) => instant.to_zoned_datetime(zone.clone()).strftime("%Y-%m-%d %H:%M %Z").to_string(),
        // Beyond jiff's range (years past 9999): still said, in UTC.
        Err(_) => t.to_offset(time::UtcOffset::UTC).to_string(),
    }
}

/// How long before `now` something happened, as people say it: `just now`, `3 min ago`, `5 h ago`,
/// `2 days ago`. `now` comes from the last message, never from the clock at render time; a time after
/// it (a server clock ahead of ours) is `just now`.
pub fn ago(t: OffsetDateTime, now: OffsetDateTime) -> String {
    let seconds = (now - t).whole_seconds();
    let (minutes, hours, days) = (seconds / 60, seconds / 3600, seconds / 86_400);
    if minutes < 1 {
        "just now".to_owned()
    } else if hours < 1 {
        format!("{minutes} min ago")
    } else if days < 1 {
        format!("{hours} h ago")
    } else if days == 1 {
        "1 day ago".to_owned()
    } else {
        format!("{days} days ago")
    }
}

/// `line` cut to `width` columns, its end replaced by `…` when it is longer: for rows that must keep
/// one row each (a list that scrolls by rows).
pub fn fit(line: Line<'static>, width: u16) -> Line<'static> {
    let width = usize::from(width);
    if line.width() <= width {
        return line;
    }
    let style = line.style;
    let mut room = width.saturating_sub(1);
    let mut spans = Vec::new();
    for span in line.spans {
        let mut kept = String::new();
        for grapheme in span.styled_graphemes(style) {
            let columns = Span::raw(grapheme.symbol).width();
            if columns > room {
                room = 0;
                break;
            }
            room -= columns;
            kept.push_str(grapheme.symbol);
        }
        let last = room == 0;
        spans.push(Span::styled(kept, span.style));
        if last {
            break;
        }
    }
    spans.push(Span::raw("…"));
    Line::from(spans).style(style)
}

/// Capitalises the first letter of a lower-case error text for a sentence of its own.
pub fn sentence(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => {
            let s: String = first.to_uppercase().chain(chars).collect();
            if s.ends_with('.') { s } else { s + "." }
        }
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn times_are_local_with_the_zone_named() {
        let t = datetime!(2026-11-01 09:30:00 UTC);
        let berlin = jiff::tz::TimeZone::posix("CET-1CEST,M3.5.0,M10.5.0/3").expect("a POSIX zone");
        assert_eq!(format_time(t, &berlin), "2026-11-01 10:30 CET");
        let summer = datetime!(2026-07-01 09:30:00 UTC);
        assert_eq!(format_time(summer, &berlin), "2026-07-01 11:30 CEST");
        assert_eq!(format_time(t, &jiff::tz::TimeZone::UTC), "2026-11-01 09:30 UTC");
    }

    #[test]
    fn ago_says_how_long_ago_as_people_do() {
        let now = datetime!(2026-11-28 12:00:00 UTC);
        let before = |seconds: i64| now - time::Duration::seconds(seconds);
        assert_eq!(ago(before(59), now), "just now");
        assert_eq!(ago(before(-30), now), "just now", "a server clock a little ahead");
        assert_eq!(ago(before(180), now), "3 min ago");
        assert_eq!(ago(before(5 * 3600 + 59), now), "5 h ago");
        assert_eq!(ago(before(86_400 + 5), now), "1 day ago");
        assert_eq!(ago(before(89 * 86_400), now), "89 days ago");
    }

    #[test]
    fn fit_cuts_with_an_ellipsis_and_keeps_short_lines() {
        let line = Line::from(vec![Span::raw("from "), Span::raw("203.0.113.7")]);
        assert_eq!(fit(line.clone(), 40), line);
        assert_eq!(fit(line.clone(), 10).to_string(), "from 203.…");
        assert_eq!(fit(line, 10).width(), 10);
        assert_eq!(fit(Line::from("日本語のテキスト"), 7).to_string(), "日本語…");
    }
}
