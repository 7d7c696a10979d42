//! Values as people read them.

use time::OffsetDateTime;

/// `Me.two_factor.enabled_at` as shown to people.
pub fn format_time(t: OffsetDateTime) -> String {
    let utc = t.to_offset(time::UtcOffset::UTC);
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    utc.format(format).unwrap_or_else(|_| utc.to_string())
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
