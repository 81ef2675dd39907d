//! Durations as people write them in CI files (`90`, `90s`, `15m`, `1h30m`, `500ms`), and back.

use std::time::Duration;

/// The units, largest first, each with its size in the unit below it (none for the last).
const UNITS: [(&str, Duration, Option<u64>); 4] = [
    ("h", Duration::from_hours(1), None),
    ("m", Duration::from_mins(1), Some(60)),
    ("s", Duration::from_secs(1), Some(60)),
    ("ms", Duration::from_millis(1), Some(1000)),
];

/// Parses a whole number of seconds, or whole numbers each followed by `h`, `m`, `s` or `ms`.
/// One unit alone may be any size (`90m`, `1500ms`). Several read one way only: each unit
/// once, largest first, and each part after the first below one of the unit above it
/// (`1h30m`, `2m30s`, `1s500ms`), so `1h1h`, `1m60s` or `1ms1000s` are refused as typos
/// rather than added up.
pub(crate) fn parse(text: &str) -> Option<Duration> {
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse().ok().map(Duration::from_secs);
    }
    let mut total = Duration::ZERO;
    let mut rest = text;
    // The units still allowed: those after the last one read.
    let mut units = &UNITS[..];
    let mut first = true;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let number: u64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit_len = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
        let at = units
            .iter()
            .position(|(name, _, _)| *name == &rest[..unit_len])?;
        let (_, unit, below) = units[at];
        if !first && below.is_some_and(|below| number >= below) {
            return None;
        }
        rest = &rest[unit_len..];
        units = &units[at + 1..];
        first = false;
        total = total.checked_add(unit.checked_mul(u32::try_from(number).ok()?)?)?;
    }
    (!text.is_empty()).then_some(total)
}

/// Short and readable in a log line: `850ms`, `4.2s`, `2m05s`, `1h30m`.
pub(crate) fn display(duration: Duration) -> String {
    let secs = duration.as_secs();
    if duration < Duration::from_secs(1) {
        format!("{}ms", duration.as_millis())
    } else if secs < 60 {
        format!("{:.1}s", duration.as_secs_f64())
    } else if secs < 3600 {
        format!("{}m{:02}s", secs / 60, secs % 60)
    } else {
        format!("{}h{:02}m", secs / 3600, secs % 3600 / 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_forms_the_readme_promises() {
        assert_eq!(parse("90"), Some(Duration::from_secs(90)));
        assert_eq!(parse("90s"), Some(Duration::from_secs(90)));
        assert_eq!(parse("15m"), Some(Duration::from_secs(900)));
        assert_eq!(parse("1h"), Some(Duration::from_secs(3600)));
        assert_eq!(parse("1h30m"), Some(Duration::from_secs(5400)));
        assert_eq!(parse("250ms"), Some(Duration::from_millis(250)));
        assert_eq!(parse("1m500ms"), Some(Duration::from_millis(60_500)));
        assert_eq!(parse("90m30s"), Some(Duration::from_secs(5430)));
        assert_eq!(parse("1500ms"), Some(Duration::from_millis(1500)));
        assert_eq!(
            parse("1h59m59s999ms"),
            Some(Duration::from_millis(7_199_999))
        );
    }

    #[test]
    fn refuses_what_it_cannot_read_exactly() {
        for text in [
            "",
            "s",
            "1.5s",
            "-1",
            "10 s",
            "1d",
            "m5",
            "1h30",
            "99999999999999999999",
            // Each unit once, largest first, each later part below the unit above it.
            "1h1h",
            "1s1s",
            "30m1h",
            "1ms1000s",
            "1m60s",
            "1h60m",
            "1s1000ms",
            "1h90s",
            "1hms",
        ] {
            assert_eq!(parse(text), None, "{text:?}");
        }
    }

    #[test]
    fn displays_at_a_scale_that_fits() {
        assert_eq!(display(Duration::from_millis(850)), "850ms");
        assert_eq!(display(Duration::from_millis(4_240)), "4.2s");
        assert_eq!(display(Duration::from_secs(125)), "2m05s");
        assert_eq!(display(Duration::from_secs(5_400)), "1h30m");
    }
}
