//! Event times: local wall-clock times in an IANA zone turned into instants
//! (refusing times a daylight-saving change skips), and instants shown back
//! in the event's zone for people and for other servers.

use crate::{
    error::{AppError, AppResult},
    msg,
};
use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

/// A known IANA zone, or 422.
pub fn zone(name: &str) -> AppResult<Tz> {
    name.trim().parse::<Tz>().map_err(|_| {
        AppError::Unprocessable(msg!(
            "error-event-timezone",
            zone = name.trim().chars().take(64).collect::<String>()
        ))
    })
}

/// The zone an event was given in; UTC when a stored name is unknown.
pub fn zone_or_utc(name: &str) -> Tz {
    name.parse::<Tz>().unwrap_or(Tz::UTC)
}

fn bad_time(field: &'static str) -> AppError {
    AppError::Unprocessable(msg!("error-event-time", field = field))
}

/// A local time in `tz`: `2026-03-28T18:00`, with seconds, or a date alone
/// (midnight). A value with an offset (`...+01:00`, `...Z`) is an instant
/// already. A local time that does not exist in the zone is refused; one
/// that happens twice (clocks going back) is the first.
pub fn parse_local(field: &'static str, raw: &str, tz: Tz) -> AppResult<DateTime<Utc>> {
    let raw = raw.trim();
    if raw.is_empty() || raw.len() > 40 {
        return Err(bad_time(field));
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
        return Ok(t.with_timezone(&Utc));
    }
    let naive = [
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(raw, f).ok())
    .or_else(|| {
        NaiveDate::parse_from_str(raw, "%Y-%m-%d")
            .ok()
            .map(|d| d.and_time(NaiveTime::MIN))
    })
    .ok_or_else(|| bad_time(field))?;
    local_instant(field, naive, tz)
}

pub fn local_instant(
    field: &'static str,
    naive: NaiveDateTime,
    tz: Tz,
) -> AppResult<DateTime<Utc>> {
    match tz.from_local_datetime(&naive) {
        chrono::LocalResult::Single(t) => Ok(t.with_timezone(&Utc)),
        chrono::LocalResult::Ambiguous(first, _) => Ok(first.with_timezone(&Utc)),
        chrono::LocalResult::None => Err(AppError::Unprocessable(msg!(
            "error-event-time-skipped",
            field = field
        ))),
    }
}

/// The first instant of a day in `tz`: midnight, or the first hour after
/// it where a daylight-saving change skips midnight (as in Santiago).
fn day_start(day: NaiveDate, tz: Tz) -> AppResult<DateTime<Utc>> {
    for hour in 0..4 {
        let t = day.and_time(NaiveTime::MIN) + Duration::hours(hour);
        if let Ok(i) = local_instant("start", t, tz) {
            return Ok(i);
        }
    }
    Err(bad_time("start"))
}

/// The day an instant falls on in `tz`, at its start.
pub fn start_of_day(t: DateTime<Utc>, tz: Tz) -> AppResult<DateTime<Utc>> {
    day_start(t.with_timezone(&tz).date_naive(), tz)
}

/// The start of the day after the one `t` falls on (the exclusive end of
/// an all-day event).
pub fn end_of_day(t: DateTime<Utc>, tz: Tz) -> AppResult<DateTime<Utc>> {
    day_start(t.with_timezone(&tz).date_naive() + Duration::days(1), tz)
}

/// `2026-03-28T18:00` in the event's zone, for forms.
pub fn form_value(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz).format("%Y-%m-%dT%H:%M").to_string()
}

/// RFC 3339 with the zone's offset at that instant: `2026-03-28T18:00:00+01:00`.
pub fn with_offset(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz)
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

/// "Saturday 28 March 2026, 18:00 – 20:00 (Europe/Paris)", or the days for
/// an all-day event. English: it is what other servers show as is.
pub fn human(start: DateTime<Utc>, end: DateTime<Utc>, tz: Tz, all_day: bool) -> String {
    let (s, e) = (start.with_timezone(&tz), end.with_timezone(&tz));
    if all_day {
        let last = (end - Duration::seconds(1)).with_timezone(&tz);
        if last.date_naive() <= s.date_naive() {
            return format!("{} (all day)", s.format("%A %-d %B %Y"));
        }
        return format!(
            "{} – {} (all day)",
            s.format("%A %-d %B %Y"),
            last.format("%A %-d %B %Y")
        );
    }
    if s.date_naive() == e.date_naive() {
        format!(
            "{}, {} – {} ({})",
            s.format("%A %-d %B %Y"),
            s.format("%H:%M"),
            e.format("%H:%M"),
            tz.name()
        )
    } else {
        format!(
            "{}, {} – {}, {} ({})",
            s.format("%A %-d %B %Y"),
            s.format("%H:%M"),
            e.format("%A %-d %B %Y"),
            e.format("%H:%M"),
            tz.name()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_times_across_daylight_saving() {
        let paris = zone("Europe/Paris").unwrap();
        // Winter: UTC+1; summer (after 29 March 2026): UTC+2.
        let before = parse_local("start", "2026-03-28T18:00", paris).unwrap();
        let after = parse_local("start", "2026-03-29T18:00", paris).unwrap();
        assert_eq!(before.to_rfc3339(), "2026-03-28T17:00:00+00:00");
        assert_eq!(after.to_rfc3339(), "2026-03-29T16:00:00+00:00");
        assert!(parse_local("start", "2026-03-29T02:30", paris).is_err());
        // Clocks going back: the first of the two.
        let twice = parse_local("start", "2026-10-25T02:30", paris).unwrap();
        assert_eq!(twice.to_rfc3339(), "2026-10-25T00:30:00+00:00");
        assert!(zone("Mars/Olympus").is_err());
        assert!(parse_local("start", "tomorrow", paris).is_err());
        assert_eq!(
            parse_local("start", "2026-03-28T18:00:00Z", paris)
                .unwrap()
                .to_rfc3339(),
            "2026-03-28T18:00:00+00:00"
        );
        assert_eq!(with_offset(after, paris), "2026-03-29T18:00:00+02:00");
        assert_eq!(
            human(before, before + Duration::hours(2), paris, false),
            "Saturday 28 March 2026, 18:00 – 20:00 (Europe/Paris)"
        );
        // Seen from New York, already on summer time (since 8 March) while
        // Paris is not: five hours apart that week, not six.
        let new_york = zone("America/New_York").unwrap();
        assert_eq!(with_offset(before, new_york), "2026-03-28T13:00:00-04:00");
        assert_eq!(
            human(before, before + Duration::hours(2), new_york, false),
            "Saturday 28 March 2026, 13:00 – 15:00 (America/New_York)"
        );
        let winter = parse_local("start", "2026-02-28T18:00", paris).unwrap();
        assert_eq!(with_offset(winter, new_york), "2026-02-28T12:00:00-05:00");
        let day = parse_local("start", "2026-03-28", paris).unwrap();
        assert_eq!(
            human(day, end_of_day(day, paris).unwrap(), paris, true),
            "Saturday 28 March 2026 (all day)"
        );
    }
}
