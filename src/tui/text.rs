//! Values as people read them.

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
}
