//! Django's most used filters under their Django names, where Jinja2 has none:
//! `date`, `default_if_none`, `pluralize`, `truncatewords`, `linebreaksbr`,
//! `intcomma`, `naturaltime`, `slugify` and `json_script`. Each returns what
//! Django's filter returns for the same input.

use chrono::{Datelike, NaiveDate, Timelike, Utc};
use minijinja::value::{Kwargs, Value};
use minijinja::{Environment, Error, ErrorKind, State};

use crate::escape::escape_html;
use crate::moment::Moment;

/// Adds the filters to `env`.
pub fn register(env: &mut Environment<'static>) {
    env.add_filter("date", date);
    env.add_filter("default_if_none", default_if_none);
    env.add_filter("pluralize", pluralize);
    env.add_filter("truncatewords", truncatewords);
    env.add_filter("linebreaksbr", linebreaksbr);
    env.add_filter("intcomma", intcomma);
    env.add_filter("naturaltime", naturaltime);
    env.add_filter("slugify", slugify);
    env.add_filter("json_script", json_script);
}

/// Django's default `DATE_FORMAT`.
const DEFAULT_DATE_FORMAT: &str = "N j, Y";

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
/// Associated Press style, as Django's `N`.
const MONTHS_AP: [&str; 12] = [
    "Jan.", "Feb.", "March", "April", "May", "June", "July", "Aug.", "Sept.", "Oct.", "Nov.",
    "Dec.",
];
const DAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// `{{ value|date("D d M Y") }}`: a date, datetime or time formatted with Django's
/// format codes (`\` escapes a letter). An empty or unparseable value gives "".
pub fn date(value: &Value, format: Option<&str>) -> Result<String, Error> {
    let Some(moment) = Moment::from_value(value) else {
        return Ok(String::new());
    };
    format_moment(&moment, format.unwrap_or(DEFAULT_DATE_FORMAT))
}

fn needs(part: Option<impl Sized>, code: char) -> Result<(), Error> {
    match part {
        Some(_) => Ok(()),
        None => Err(Error::new(
            ErrorKind::InvalidOperation,
            format!("the date format code {code:?} needs a value that has it (a time has no date, a date no time)"),
        )),
    }
}

/// Formats `moment` with Django's `date` format codes.
pub fn format_moment(moment: &Moment, format: &str) -> Result<String, Error> {
    let (date, time) = (moment.date(), moment.time());
    let mut out = String::with_capacity(format.len() * 2);
    let mut chars = format.chars();
    while let Some(code) = chars.next() {
        if "dDjlNwzSLtmnMbFyYEo".contains(code) {
            needs(date, code)?;
        }
        if "aAfgGhHisuP".contains(code) {
            needs(time, code)?;
        }
        let d = date.unwrap_or(NaiveDate::MIN);
        let t = time.unwrap_or_default();
        let hour12 = match t.hour() % 12 {
            0 => 12,
            h => h,
        };
        match code {
            '\\' => {
                if let Some(next) = chars.next() {
                    out.push(next);
                }
            }
            'd' => out.push_str(&format!("{:02}", d.day())),
            'j' => out.push_str(&d.day().to_string()),
            'D' => out.push_str(&DAYS[d.weekday().num_days_from_monday() as usize][..3]),
            'l' => out.push_str(DAYS[d.weekday().num_days_from_monday() as usize]),
            'w' => out.push_str(&d.weekday().num_days_from_sunday().to_string()),
            'z' => out.push_str(&d.ordinal().to_string()),
            'S' => out.push_str(match d.day() {
                11..=13 => "th",
                n if n % 10 == 1 => "st",
                n if n % 10 == 2 => "nd",
                n if n % 10 == 3 => "rd",
                _ => "th",
            }),
            'L' => out.push_str(if d.leap_year() { "True" } else { "False" }),
            't' => {
                let next = if d.month() == 12 {
                    NaiveDate::from_ymd_opt(d.year() + 1, 1, 1)
                } else {
                    NaiveDate::from_ymd_opt(d.year(), d.month() + 1, 1)
                };
                let days = next
                    .and_then(|n| n.pred_opt())
                    .map_or(31, |last| last.day());
                out.push_str(&days.to_string());
            }
            'm' => out.push_str(&format!("{:02}", d.month())),
            'n' => out.push_str(&d.month().to_string()),
            'M' => out.push_str(&MONTHS[d.month0() as usize][..3]),
            'b' => out.push_str(&MONTHS[d.month0() as usize][..3].to_lowercase()),
            'F' | 'E' => out.push_str(MONTHS[d.month0() as usize]),
            'N' => out.push_str(MONTHS_AP[d.month0() as usize]),
            'y' => out.push_str(&format!("{:02}", d.year().rem_euclid(100))),
            'Y' => out.push_str(&d.year().to_string()),
            'o' => out.push_str(&d.iso_week().year().to_string()),
            'W' => {
                needs(date, code)?;
                out.push_str(&d.iso_week().week().to_string())
            }
            'a' => out.push_str(if t.hour() < 12 { "a.m." } else { "p.m." }),
            'A' => out.push_str(if t.hour() < 12 { "AM" } else { "PM" }),
            'g' => out.push_str(&hour12.to_string()),
            'G' => out.push_str(&t.hour().to_string()),
            'h' => out.push_str(&format!("{hour12:02}")),
            'H' => out.push_str(&format!("{:02}", t.hour())),
            'i' => out.push_str(&format!("{:02}", t.minute())),
            's' => out.push_str(&format!("{:02}", t.second())),
            'u' => out.push_str(&format!("{:06}", t.nanosecond() / 1000)),
            'f' => {
                // Django: "1", "1:30" — minutes only when non-zero.
                out.push_str(&hour12.to_string());
                if t.minute() != 0 {
                    out.push_str(&format!(":{:02}", t.minute()));
                }
            }
            'P' => match (t.hour(), t.minute()) {
                (0, 0) => out.push_str("midnight"),
                (12, 0) => out.push_str("noon"),
                _ => {
                    out.push_str(&hour12.to_string());
                    if t.minute() != 0 {
                        out.push_str(&format!(":{:02}", t.minute()));
                    }
                    out.push_str(if t.hour() < 12 { " a.m." } else { " p.m." });
                }
            },
            'O' => {
                let seconds = moment.offset().map_or(0, |o| o.local_minus_utc());
                let sign = if seconds < 0 { '-' } else { '+' };
                let seconds = seconds.abs();
                out.push_str(&format!(
                    "{sign}{:02}{:02}",
                    seconds / 3600,
                    seconds / 60 % 60
                ));
            }
            'Z' => out.push_str(
                &moment
                    .offset()
                    .map_or(0, |o| o.local_minus_utc())
                    .to_string(),
            ),
            'U' => out.push_str(
                &moment
                    .timestamp()
                    .map_or_else(String::new, |s| s.to_string()),
            ),
            'c' => {
                needs(date, code)?;
                needs(time, code)?;
                out.push_str(&format!(
                    "{}T{}",
                    d.format("%Y-%m-%d"),
                    t.format("%H:%M:%S%.f")
                ));
                if let Some(offset) = moment.offset() {
                    out.push_str(&offset.to_string());
                }
            }
            other => out.push(other),
        }
    }
    Ok(out)
}

/// `{{ value|default_if_none("nothing") }}`: the default only for None (not for "" or 0).
pub fn default_if_none(value: Value, default: Value) -> Value {
    if value.is_none() {
        default
    } else {
        value
    }
}

/// `{{ n|pluralize }}` → "s" unless n is 1; `pluralize("es")`, `pluralize("y,ies")`.
/// A sequence counts by its length.
pub fn pluralize(value: &Value, suffix: Option<&str>) -> Result<String, Error> {
    let suffix = suffix.unwrap_or("s");
    let (singular, plural) = match suffix.split_once(',') {
        Some((s, p)) if !p.contains(',') => (s, p),
        Some(_) => return Ok(String::new()),
        None => ("", suffix),
    };
    let count = if let Some(n) = value.as_i64() {
        Some(n as f64)
    } else if let Ok(n) = f64::try_from(value.clone()) {
        Some(n)
    } else if let Some(s) = value.as_str() {
        s.trim().parse::<f64>().ok()
    } else {
        value.len().map(|n| n as f64)
    };
    Ok(match count {
        Some(1.0) => singular.to_owned(),
        Some(_) => plural.to_owned(),
        None => String::new(),
    })
}

/// `{{ text|truncatewords(3) }}`: the first 3 words, then " …" if there were more.
pub fn truncatewords(value: &Value, count: i64) -> String {
    let text = value.to_string();
    let words: Vec<&str> = text.split_whitespace().collect();
    if count < 0 || words.len() <= count as usize {
        return words.join(" ");
    }
    let mut kept = words[..count as usize].join(" ");
    kept.push_str(" …");
    kept
}

/// `{{ text|linebreaksbr }}`: newlines become `<br>`; the text is escaped first
/// (unless it is already safe) and the result is safe.
pub fn linebreaksbr(state: &State, value: &Value) -> Value {
    let text = value.to_string();
    let text = if value.is_safe() || matches!(state.auto_escape(), minijinja::AutoEscape::None) {
        text
    } else {
        escape_html(&text)
    };
    Value::from_safe_string(text.replace("\r\n", "\n").replace('\n', "<br>"))
}

/// `{{ 1234567|intcomma }}` → "1,234,567" (floats and numeric strings too: "1,234.5").
pub fn intcomma(value: &Value) -> String {
    let text = value.to_string();
    let (sign, digits) = match text.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", text.as_str()),
    };
    let (whole, fraction) = match digits.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (digits, None),
    };
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return text;
    }
    let mut grouped = String::with_capacity(whole.len() + whole.len() / 3);
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    match fraction {
        Some(f) => format!("{sign}{grouped}.{f}"),
        None => format!("{sign}{grouped}"),
    }
}

fn plural(n: i64, one: &str, many: &str) -> String {
    if n == 1 {
        one.to_owned()
    } else {
        format!("{n} {many}")
    }
}

/// `{{ created|naturaltime }}`: "now", "30 seconds ago", "a minute ago", "3 hours ago",
/// "2 days ago", "in 5 minutes"... (a naive datetime is taken as UTC). Anything not
/// a datetime is returned unchanged.
pub fn naturaltime(value: Value) -> Value {
    let Some(then) = Moment::from_value(&value).and_then(|m| m.timestamp()) else {
        return value;
    };
    naturaltime_at(then, Utc::now().timestamp()).into()
}

/// [`naturaltime`] relative to `now` (seconds since the epoch).
pub fn naturaltime_at(then: i64, now: i64) -> String {
    let delta = now - then;
    let seconds = delta.abs();
    let amount = if seconds == 0 {
        return "now".to_owned();
    } else if seconds < 60 {
        plural(seconds, "a second", "seconds")
    } else if seconds < 3600 {
        plural(seconds / 60, "a minute", "minutes")
    } else if seconds < 86400 {
        plural(seconds / 3600, "an hour", "hours")
    } else if seconds < 86400 * 7 {
        plural(seconds / 86400, "1 day", "days")
    } else if seconds < 86400 * 30 {
        plural(seconds / (86400 * 7), "1 week", "weeks")
    } else if seconds < 86400 * 365 {
        plural(seconds / (86400 * 30), "1 month", "months")
    } else {
        plural(seconds / (86400 * 365), "1 year", "years")
    };
    if delta > 0 {
        format!("{amount} ago")
    } else {
        format!("{amount} from now")
    }
}

/// `{{ "Hello, World!"|slugify }}` → "hello-world": lowercase ASCII letters, digits,
/// underscores and hyphens; runs of spaces and hyphens become one hyphen.
pub fn slugify(value: &Value) -> String {
    let text = value.to_string().to_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut pending_hyphen = false;
    for c in text.chars() {
        if c.is_ascii_alphanumeric() || c == '_' {
            if pending_hyphen && !out.is_empty() {
                out.push('-');
            }
            pending_hyphen = false;
            out.push(c);
        } else if c == '-' || c.is_whitespace() {
            pending_hyphen = true;
        }
    }
    out.trim_matches('_').to_owned()
}

/// `{{ data|json_script("data") }}`: the value as JSON inside
/// `<script id="data" type="application/json">`; `tojson` already writes `<`, `>`,
/// `&` and `'` as `\u` escapes, so the text cannot end the script element.
pub fn json_script(value: &Value, element_id: Option<&str>) -> Result<Value, Error> {
    let json = minijinja::filters::tojson(
        value,
        None,
        Kwargs::from_iter(std::iter::empty::<(&str, Value)>()),
    )?;
    let id = match element_id {
        Some(id) => format!(" id=\"{}\"", escape_html(id)),
        None => String::new(),
    };
    Ok(Value::from_safe_string(format!(
        "<script{id} type=\"application/json\">{json}</script>"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn naturaltime_uses_the_largest_unit() {
        assert_eq!(naturaltime_at(100, 100), "now");
        assert_eq!(naturaltime_at(70, 100), "30 seconds ago");
        assert_eq!(naturaltime_at(0, 61), "a minute ago");
        assert_eq!(naturaltime_at(0, 7300), "2 hours ago");
        assert_eq!(naturaltime_at(0, 3 * 86400), "3 days ago");
        assert_eq!(naturaltime_at(400, 100), "5 minutes from now");
    }

    #[test]
    fn intcomma_groups_thousands() {
        assert_eq!(intcomma(&Value::from(1234567)), "1,234,567");
        assert_eq!(intcomma(&Value::from(-1000)), "-1,000");
        assert_eq!(intcomma(&Value::from("1234.50")), "1,234.50");
        assert_eq!(intcomma(&Value::from(999)), "999");
        assert_eq!(intcomma(&Value::from("abc")), "abc");
    }

    #[test]
    fn slugify_matches_django() {
        assert_eq!(slugify(&Value::from(" Joel is a slug ")), "joel-is-a-slug");
        assert_eq!(slugify(&Value::from("Hello, World!")), "hello-world");
        assert_eq!(slugify(&Value::from("a -- b")), "a-b");
    }
}
