//! What happened to the account, as people read it: each event in words, where "since your previous
//! sign-in" begins, and what signing in says at once (as SSH prints the last login).
//!
//! Pure functions of the events the server sent: the app's screens and the sign-in use them alike.

use crate::domain::{
    EVENTS_MAX_LIMIT, Event, EventKind, EventsPage, Me, SignInFailure, SignInMethod, ThrottleScope,
};
use crate::tui::notice::Notice;
use crate::tui::screens::home::FEW_BACKUP_CODES;

/// Events asked for at sign-in: enough to find the previous sign-in behind a burst of failed attempts.
pub const SIGN_IN_LOOKBACK: u32 = EVENTS_MAX_LIMIT;

/// Where "since your previous sign-in" begins.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LastVisit {
    /// The events could not be read at sign-in: nothing is marked.
    #[default]
    Unknown,
    /// Every event with a greater id happened since.
    After(i64),
}

impl LastVisit {
    pub fn is_new(self, event: &Event) -> bool {
        matches!(self, LastVisit::After(id) if event.id > id)
    }

    pub fn is_known(self) -> bool {
        self != LastVisit::Unknown
    }
}

/// What an event was, in a few words.
pub fn describe(kind: &EventKind) -> String {
    match kind {
        EventKind::SignIn { method } => match method {
            SignInMethod::Password => "Signed in with the password".into(),
            SignInMethod::Totp => "Signed in with a code from the app".into(),
            SignInMethod::BackupCode => "Signed in with a backup code".into(),
        },
        EventKind::SignInFailed { reason } => match reason {
            SignInFailure::InvalidPassword => "Sign-in failed: wrong password".into(),
            SignInFailure::InvalidCode => "Sign-in failed: wrong code".into(),
            SignInFailure::CodeAlreadyUsed => "Sign-in failed: code already used".into(),
        },
        EventKind::Throttled { scope } => match scope {
            ThrottleScope::Login => "Sign-in paused: too many wrong passwords".into(),
            ThrottleScope::SecondFactor => "Sign-in paused: too many wrong codes".into(),
            ThrottleScope::Password => "Paused: too many wrong passwords to confirm".into(),
        },
        EventKind::SecondFactorLocked {} => "Locked: too many wrong codes".into(),
        EventKind::SecondFactorUnlocked {} => "Unlocked by an administrator".into(),
        EventKind::TwoFactorEnabled {} => "Two-factor authentication turned on".into(),
        EventKind::TwoFactorDisabled {} => "Two-factor authentication turned off".into(),
        EventKind::BackupCodesRegenerated {} => "New backup codes generated".into(),
        EventKind::TwoFactorReset {} => "Two-factor authentication reset by an administrator".into(),
        EventKind::SessionRevoked {} => "A session was ended".into(),
        EventKind::SessionsRevoked { count } => {
            format!("Signed out everywhere else ({count} {})", plural(*count, "session", "sessions"))
        }
        EventKind::PasswordChanged {} => "Password changed".into(),
    }
}

/// Where it came from: `from 203.0.113.7`, or an administrator's command (no address).
pub fn origin(event: &Event) -> String {
    match &event.address {
        Some(address) => format!("from {}", shown(address)),
        None => "by an administrator".to_owned(),
    }
}

/// A server's text as the app shows it: control characters (an escape sequence) become spaces.
pub fn shown(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

pub fn plural(n: u32, one: &'static str, many: &'static str) -> &'static str {
    if n == 1 { one } else { many }
}

/// What signing in learnt from the newest events.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct SinceLastVisit {
    pub last_visit: LastVisit,
    /// Failed attempts, locks and factor changes since the previous sign-in, said at once.
    pub notices: Vec<Notice>,
}

/// The newest events at sign-in (newest first): the first sign-in among them is this one, the second
/// the previous visit. Without a previous one among them, every event shown is new: a first visit,
/// one long enough ago that its event was purged, or more events since than one page holds.
pub fn since_last_visit(page: &EventsPage) -> SinceLastVisit {
    let mut sign_ins =
        page.events.iter().enumerate().filter(|(_, e)| matches!(e.kind, EventKind::SignIn { .. }));
    sign_ins.next();
    let (new, last_visit, found) = match sign_ins.next() {
        Some((index, previous)) => (&page.events[..index], LastVisit::After(previous.id), true),
        None => {
            let oldest = page.events.last().map_or(0, |e| e.id);
            (&page.events[..], LastVisit::After(oldest.saturating_sub(1)), false)
        }
    };
    let since = if found { "since your last visit" } else { "before this sign-in" };
    // More events than the page holds: counts are lower bounds.
    let at_least = !found && page.next_before.is_some();
    let mut notices = Vec::new();
    notices.extend(failed_attempts(new, since, at_least));
    notices.extend(lock(new, since));
    notices.extend(factor_changes(new, since));
    if !notices.is_empty() {
        notices.push(Notice::info(
            "Activity shows what happened; Sessions ends a session you do not recognise.",
        ));
    }
    SinceLastVisit { last_visit, notices }
}

/// "2 failed sign-in attempts since your last visit, the latest from 203.0.113.7."
fn failed_attempts(new: &[Event], since: &str, at_least: bool) -> Option<Notice> {
    let failed: Vec<&Event> =
        new.iter().filter(|e| matches!(e.kind, EventKind::SignInFailed { .. })).collect();
    let latest = failed.first()?;
    let count = u32::try_from(failed.len()).unwrap_or(u32::MAX);
    let lower_bound = if at_least { "At least " } else { "" };
    let attempts = plural(count, "attempt", "attempts");
    let from = match (&latest.address, count) {
        (Some(address), 1) => format!(", from {}", shown(address)),
        (Some(address), _) => format!(", the latest from {}", shown(address)),
        (None, _) => String::new(),
    };
    Some(Notice::warning(format!("{lower_bound}{count} failed sign-in {attempts} {since}{from}.")))
}

/// A lock (or, short of one, a pause after too many attempts) since the previous sign-in.
fn lock(new: &[Event], since: &str) -> Option<Notice> {
    let locked = new.iter().position(|e| matches!(e.kind, EventKind::SecondFactorLocked {}));
    if let Some(index) = locked {
        // Newest first: an unlock before the lock's index came after it.
        let unlocked = new[..index].iter().any(|e| matches!(e.kind, EventKind::SecondFactorUnlocked {}));
        let after = if unlocked { " An administrator unlocked it." } else { "" };
        return Some(Notice::error(format!(
            "Your account was locked after too many wrong codes {since}.{after}"
        )));
    }
    let paused = new.iter().find(|e| matches!(e.kind, EventKind::Throttled { .. }))?;
    Some(Notice::warning(format!(
        "Attempts were paused after too many wrong ones {since}, {}.",
        origin(paused)
    )))
}

/// One line for each kind of factor change since the previous sign-in, the newest first.
fn factor_changes(new: &[Event], since: &str) -> Vec<Notice> {
    let mut said: Vec<std::mem::Discriminant<EventKind>> = Vec::new();
    let mut notices = Vec::new();
    for event in new {
        let what = match event.kind {
            EventKind::TwoFactorEnabled {} => "Two-factor authentication was turned on",
            EventKind::TwoFactorDisabled {} => "Two-factor authentication was turned off",
            EventKind::BackupCodesRegenerated {} => "New backup codes were generated",
            EventKind::TwoFactorReset {} => "Two-factor authentication was reset",
            EventKind::PasswordChanged {} => "Your password was changed",
            EventKind::SignIn { .. }
            | EventKind::SignInFailed { .. }
            | EventKind::Throttled { .. }
            | EventKind::SecondFactorLocked {}
            | EventKind::SecondFactorUnlocked {}
            | EventKind::SessionRevoked {}
            | EventKind::SessionsRevoked { .. } => continue,
        };
        let kind = std::mem::discriminant(&event.kind);
        if said.contains(&kind) {
            continue;
        }
        said.push(kind);
        let times = new.iter().filter(|e| std::mem::discriminant(&e.kind) == kind).count();
        let (times, latest) =
            if times > 1 { (format!(" {times} times"), "the latest ") } else { (String::new(), "") };
        notices.push(Notice::warning(format!("{what}{times} {since}, {latest}{}.", origin(event))));
    }
    notices
}

/// Backup codes at sign-in: how many a backup code left, or that few are left; `g` makes new ones.
pub fn codes_notice(me: &Me, used_backup_code: Option<u32>) -> Option<Notice> {
    let codes = |n: u32| plural(n, "backup code", "backup codes");
    match used_backup_code {
        Some(left) if left <= FEW_BACKUP_CODES => Some(Notice::warning(format!(
            "You signed in with a backup code: {} left. Press g to generate new ones.",
            few(left)
        ))),
        Some(left) => {
            Some(Notice::info(format!("You signed in with a backup code: {left} {} left.", codes(left))))
        }
        None if me.two_factor.enabled && me.two_factor.backup_codes_remaining <= FEW_BACKUP_CODES => {
            let left = me.two_factor.backup_codes_remaining;
            Some(Notice::warning(format!(
                "{} left: press g to generate new ones, so a lost phone does not lock you out.",
                sentence_start(&few(left))
            )))
        }
        None => None,
    }
}

/// "only 2 backup codes", "only 1 backup code", "no backup codes".
pub fn few(left: u32) -> String {
    match left {
        0 => "no backup codes".to_owned(),
        1 => "only 1 backup code".to_owned(),
        n => format!("only {n} backup codes"),
    }
}

fn sentence_start(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;
    use crate::tui::notice::Tone;
    use crate::tui::testing::me;

    fn event(id: i64, kind: EventKind, address: Option<&str>) -> Event {
        Event {
            id,
            kind,
            at: datetime!(2026-11-28 11:00:00 UTC),
            address: address.map(str::to_owned),
            user_agent: None,
        }
    }

    fn sign_in(id: i64) -> Event {
        event(id, EventKind::SignIn { method: SignInMethod::Totp }, Some("192.0.2.1"))
    }

    fn failed(id: i64, address: &str) -> Event {
        event(id, EventKind::SignInFailed { reason: SignInFailure::InvalidPassword }, Some(address))
    }

    fn page(events: Vec<Event>, next_before: Option<i64>) -> EventsPage {
        EventsPage { events, next_before }
    }

    fn texts(notices: &[Notice]) -> Vec<&str> {
        notices.iter().map(|n| n.text.as_str()).collect()
    }

    #[test]
    fn failed_attempts_since_the_previous_sign_in_are_counted_with_the_latest_address() {
        let events =
            vec![sign_in(9), failed(8, "203.0.113.7"), failed(7, "198.51.100.4"), sign_in(6), failed(5, "x")];
        let since = since_last_visit(&page(events, None));
        assert_eq!(since.last_visit, LastVisit::After(6));
        assert_eq!(
            texts(&since.notices),
            [
                "2 failed sign-in attempts since your last visit, the latest from 203.0.113.7.",
                "Activity shows what happened; Sessions ends a session you do not recognise.",
            ]
        );
        assert_eq!(since.notices[0].tone, Tone::Warning);
    }

    #[test]
    fn a_quiet_account_says_nothing() {
        let since = since_last_visit(&page(vec![sign_in(3), sign_in(2), failed(1, "x")], None));
        assert_eq!(since, SinceLastVisit { last_visit: LastVisit::After(2), notices: Vec::new() });
    }

    #[test]
    fn without_a_previous_sign_in_everything_shown_is_new() {
        let since = since_last_visit(&page(vec![sign_in(5), failed(4, "203.0.113.7")], None));
        assert_eq!(since.last_visit, LastVisit::After(3));
        assert_eq!(since.notices[0].text, "1 failed sign-in attempt before this sign-in, from 203.0.113.7.");
        let more = since_last_visit(&page(vec![sign_in(5), failed(4, "203.0.113.7")], Some(4)));
        assert!(more.notices[0].text.starts_with("At least 1 failed"), "{:?}", more.notices);
    }

    #[test]
    fn a_lock_and_its_unlock() {
        let events = vec![
            sign_in(5),
            event(4, EventKind::SecondFactorUnlocked {}, None),
            event(3, EventKind::SecondFactorLocked {}, Some("203.0.113.7")),
            sign_in(1),
        ];
        let since = since_last_visit(&page(events, None));
        assert_eq!(
            since.notices[0],
            Notice::error(
                "Your account was locked after too many wrong codes since your last visit. An administrator unlocked it."
            )
        );
    }

    #[test]
    fn factor_changes_once_per_kind_newest_first() {
        let events = vec![
            sign_in(9),
            event(8, EventKind::BackupCodesRegenerated {}, Some("198.51.100.4")),
            event(7, EventKind::TwoFactorReset {}, None),
            event(6, EventKind::BackupCodesRegenerated {}, Some("203.0.113.7")),
            event(5, EventKind::SessionRevoked {}, Some("203.0.113.7")),
            sign_in(4),
            event(3, EventKind::TwoFactorDisabled {}, Some("203.0.113.7")),
        ];
        let since = since_last_visit(&page(events, None));
        assert_eq!(
            texts(&since.notices)[..2],
            [
                "New backup codes were generated 2 times since your last visit, the latest from 198.51.100.4.",
                "Two-factor authentication was reset since your last visit, by an administrator.",
            ]
        );
        assert_eq!(since.notices.len(), 3);
    }

    #[test]
    fn an_address_cannot_reach_the_terminal_as_an_escape_sequence() {
        let since = since_last_visit(&page(vec![sign_in(2), failed(1, "\u{1b}[2J")], None));
        assert!(!since.notices[0].text.contains('\u{1b}'));
    }

    #[test]
    fn few_codes_offer_g() {
        let used = codes_notice(&me(true, 2), Some(2)).expect("a notice");
        assert_eq!(
            used,
            Notice::warning(
                "You signed in with a backup code: only 2 backup codes left. Press g to generate new ones."
            )
        );
        let plenty = codes_notice(&me(true, 7), Some(7)).expect("a notice");
        assert_eq!(plenty, Notice::info("You signed in with a backup code: 7 backup codes left."));
        let few = codes_notice(&me(true, 1), None).expect("a notice");
        assert!(few.text.starts_with("Only 1 backup code left: press g"), "{few:?}");
        assert_eq!(codes_notice(&me(true, 4), None), None);
        assert_eq!(codes_notice(&me(false, 0), None), None, "2FA off: no codes to speak of");
    }
}
