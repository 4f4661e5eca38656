//! Dates and times as template values: Python's `datetime`, `date` and `time`
//! cross into the engine as a [`Moment`], which prints as Python's `str()` does and
//! which the `date` filter formats with Django's codes.

use std::fmt;
use std::sync::Arc;

use chrono::{Datelike, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Timelike};
use minijinja::value::{Enumerator, Object, ObjectRepr, Value};

/// A point in time, a calendar day, or a time of day.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Moment {
    /// A datetime, with its UTC offset when it is aware.
    DateTime(NaiveDateTime, Option<FixedOffset>),
    Date(NaiveDate),
    Time(NaiveTime),
}

impl Moment {
    /// The template value of this moment.
    pub fn into_value(self) -> Value {
        Value::from_object(self)
    }

    /// A moment from a value: a [`Moment`] object, or an ISO 8601 string.
    pub fn from_value(value: &Value) -> Option<Moment> {
        if let Some(moment) = value.downcast_object_ref::<Moment>() {
            return Some(*moment);
        }
        let text = value.as_str()?.trim();
        if let Ok(aware) = chrono::DateTime::parse_from_rfc3339(text) {
            return Some(Moment::DateTime(aware.naive_local(), Some(*aware.offset())));
        }
        for format in [
            "%Y-%m-%d %H:%M:%S%.f",
            "%Y-%m-%dT%H:%M:%S%.f",
            "%Y-%m-%d %H:%M",
            "%Y-%m-%dT%H:%M",
        ] {
            if let Ok(naive) = NaiveDateTime::parse_from_str(text, format) {
                return Some(Moment::DateTime(naive, None));
            }
        }
        if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
            return Some(Moment::Date(date));
        }
        NaiveTime::parse_from_str(text, "%H:%M:%S%.f")
            .ok()
            .map(Moment::Time)
    }

    pub fn date(&self) -> Option<NaiveDate> {
        match self {
            Moment::DateTime(dt, _) => Some(dt.date()),
            Moment::Date(d) => Some(*d),
            Moment::Time(_) => None,
        }
    }

    pub fn time(&self) -> Option<NaiveTime> {
        match self {
            Moment::DateTime(dt, _) => Some(dt.time()),
            Moment::Date(_) => None,
            Moment::Time(t) => Some(*t),
        }
    }

    pub fn offset(&self) -> Option<FixedOffset> {
        match self {
            Moment::DateTime(_, offset) => *offset,
            _ => None,
        }
    }

    /// Seconds since the Unix epoch (a naive datetime is taken as UTC; a date at midnight).
    pub fn timestamp(&self) -> Option<i64> {
        match self {
            Moment::DateTime(dt, offset) => Some(
                dt.and_utc().timestamp() - i64::from(offset.map_or(0, |o| o.local_minus_utc())),
            ),
            Moment::Date(d) => d.and_hms_opt(0, 0, 0).map(|dt| dt.and_utc().timestamp()),
            Moment::Time(_) => None,
        }
    }
}

fn write_time(f: &mut fmt::Formatter<'_>, t: &NaiveTime) -> fmt::Result {
    write!(f, "{:02}:{:02}:{:02}", t.hour(), t.minute(), t.second())?;
    let micros = t.nanosecond() / 1000;
    if micros != 0 {
        write!(f, ".{micros:06}")?;
    }
    Ok(())
}

/// Python's `str()` of the same value.
impl fmt::Display for Moment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Moment::DateTime(dt, offset) => {
                write!(f, "{} ", dt.date().format("%Y-%m-%d"))?;
                write_time(f, &dt.time())?;
                if let Some(offset) = offset {
                    write!(f, "{}", offset)?;
                }
                Ok(())
            }
            Moment::Date(d) => write!(f, "{}", d.format("%Y-%m-%d")),
            Moment::Time(t) => write_time(f, t),
        }
    }
}

const ATTRIBUTES: &[&str] = &[
    "year",
    "month",
    "day",
    "hour",
    "minute",
    "second",
    "microsecond",
];

impl Object for Moment {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Plain
    }

    /// `value.year`, `value.month`, ... as in Python.
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let (date, time) = (self.date(), self.time());
        let number = match key.as_str()? {
            "year" => date?.year() as i64,
            "month" => date?.month() as i64,
            "day" => date?.day() as i64,
            "hour" => time?.hour() as i64,
            "minute" => time?.minute() as i64,
            "second" => time?.second() as i64,
            "microsecond" => (time?.nanosecond() / 1000) as i64,
            _ => return None,
        };
        Some(Value::from(number))
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Str(ATTRIBUTES)
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.as_ref(), f)
    }

    fn custom_cmp(
        self: &Arc<Self>,
        other: &minijinja::value::DynObject,
    ) -> Option<std::cmp::Ordering> {
        let other = other.downcast_ref::<Moment>()?;
        match (self.as_ref(), other) {
            (Moment::Time(a), Moment::Time(b)) => a.partial_cmp(b),
            (a, b) => a.timestamp()?.partial_cmp(&b.timestamp()?),
        }
    }
}
