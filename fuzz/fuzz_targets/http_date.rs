//! The client's HTTP-date parser (`parse_http_date`), which reads the server's `Date` header to tell a
//! person their clock is off.
//!
//! Invariant: never a panic; a date that parses, written again as an IMF-fixdate, parses to the same
//! instant; every instant from 1970 to 9999 survives the trip.

#![no_main]

use time::OffsetDateTime;
use usercenter::client::parse_http_date;

const LAST: i64 = 253_402_300_799; // 9999-12-31T23:59:59Z

#[derive(arbitrary::Arbitrary, Debug)]
enum Input<'a> {
    Header(&'a str),
    Instant(i64),
}

libfuzzer_sys::fuzz_target!(|input: Input<'_>| {
    let parsed = match input {
        Input::Header(text) => parse_http_date(text),
        Input::Instant(seconds) => {
            let at = OffsetDateTime::from_unix_timestamp(seconds.rem_euclid(LAST + 1)).expect("in range");
            let again = parse_http_date(&imf_fixdate(at));
            assert_eq!(again, Some(at), "{}", imf_fixdate(at));
            again
        }
    };
    if let Some(at) = parsed {
        assert_eq!(parse_http_date(&imf_fixdate(at)), Some(at), "{}", imf_fixdate(at));
    }
});

fn imf_fixdate(at: OffsetDateTime) -> String {
    let format = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    at.format(format).expect("formats")
}
