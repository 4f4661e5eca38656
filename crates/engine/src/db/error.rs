//! Database errors with the server's SQLSTATE, mapped to DB-API kinds.

use std::fmt;

/// Which DB-API exception a [`DbError`] becomes in Python.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Constraint violations (SQLSTATE class 23).
    Integrity,
    /// Bad data: overflow, invalid text representation, division by zero (class 22).
    Data,
    /// SQL errors: syntax, unknown table or column, permissions (class 42, 3F, 0A).
    Programming,
    /// The connection, the server or resources: lost connection, shutdown,
    /// serialization failure, deadlock, statement timeout (classes 08, 40, 53, 57, 58).
    Operational,
    /// No connection could be had from the pool in time.
    PoolTimeout,
    /// The query was cancelled (the awaiting task was cancelled).
    Cancelled,
    /// Anything else the server reported.
    Database,
    /// Misuse of the driver: wrong parameter count, a value that cannot be bound.
    Interface,
}

/// An error from a database, carrying what the server said.
#[derive(Debug, Clone, PartialEq)]
pub struct DbError {
    pub kind: ErrorKind,
    pub message: String,
    /// The five-character SQLSTATE, when the server sent one.
    pub sqlstate: Option<String>,
    pub constraint: Option<String>,
    pub detail: Option<String>,
    pub hint: Option<String>,
    /// The statement that failed, when known.
    pub sql: Option<String>,
}

impl DbError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        DbError {
            kind,
            message: message.into(),
            sqlstate: None,
            constraint: None,
            detail: None,
            hint: None,
            sql: None,
        }
    }

    /// An error from a SQLSTATE, its kind derived from the state's class.
    pub fn from_sqlstate(sqlstate: &str, message: impl Into<String>) -> Self {
        let mut err = DbError::new(kind_of_sqlstate(sqlstate), message);
        err.sqlstate = Some(sqlstate.to_string());
        err
    }

    /// A statement given another number of parameters than its placeholders.
    pub(crate) fn parameter_count(expected: usize, given: usize) -> Self {
        let wanted = match expected {
            0 => "no parameters".to_string(),
            1 => "1 parameter ($1)".to_string(),
            n => format!("{n} parameters ($1..${n})"),
        };
        DbError::new(
            ErrorKind::Interface,
            format!("the statement takes {wanted} but {given} were given"),
        )
    }

    /// The connection to the server is gone or going: it was refused, timed out or lost
    /// (no SQLSTATE: the network failed), or the server is shutting down or starting
    /// (SQLSTATE class 08, 57P01-57P03). The PostgreSQL driver retries a statement on it
    /// and reconnects its listeners; the bindings hand it to Python as the exception's
    /// `connection_lost`, which `Database.is_unreachable` answers with (one rule, so the
    /// two cannot drift). SQLite has no server: only PostgreSQL's errors are asked.
    pub fn is_connection_loss(&self) -> bool {
        match &self.sqlstate {
            Some(s) => s.starts_with("08") || matches!(s.as_str(), "57P01" | "57P02" | "57P03"),
            None => self.kind == ErrorKind::Operational,
        }
    }

    /// Records the statement that failed (kept if already set).
    pub fn with_sql(mut self, sql: &str) -> Self {
        if self.sql.is_none() {
            self.sql = Some(sql.to_string());
        }
        self
    }
}

/// The DB-API kind of a SQLSTATE, by its two-character class.
pub fn kind_of_sqlstate(sqlstate: &str) -> ErrorKind {
    match sqlstate.get(..2).unwrap_or("") {
        "23" => ErrorKind::Integrity,
        "22" => ErrorKind::Data,
        "42" | "3F" | "0A" | "26" | "34" => ErrorKind::Programming,
        "08" | "40" | "53" | "54" | "55" | "57" | "58" | "HV" => ErrorKind::Operational,
        _ => ErrorKind::Database,
    }
}

impl fmt::Display for DbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(state) = &self.sqlstate {
            write!(f, " (SQLSTATE {state})")?;
        }
        if let Some(detail) = &self.detail {
            write!(f, "\nDETAIL: {detail}")?;
        }
        if let Some(hint) = &self.hint {
            write!(f, "\nHINT: {hint}")?;
        }
        Ok(())
    }
}

impl std::error::Error for DbError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlstate_classes_map_to_kinds() {
        assert_eq!(kind_of_sqlstate("23505"), ErrorKind::Integrity);
        assert_eq!(kind_of_sqlstate("22003"), ErrorKind::Data);
        assert_eq!(kind_of_sqlstate("42P01"), ErrorKind::Programming);
        assert_eq!(kind_of_sqlstate("57014"), ErrorKind::Operational);
        assert_eq!(kind_of_sqlstate("40001"), ErrorKind::Operational);
        assert_eq!(kind_of_sqlstate("XX000"), ErrorKind::Database);
    }

    #[test]
    fn connection_loss_is_a_network_failure_or_a_server_going_away() {
        let network = DbError::new(ErrorKind::Operational, "connection refused");
        assert!(network.is_connection_loss());
        assert!(DbError::from_sqlstate("08006", "connection failure").is_connection_loss());
        assert!(DbError::from_sqlstate("57P01", "terminating connection").is_connection_loss());
        assert!(
            DbError::from_sqlstate("57P03", "the database system is starting up")
                .is_connection_loss()
        );
        // A statement timeout, a deadlock, a full pool or a cancelled query: the server is there.
        assert!(!DbError::from_sqlstate("57014", "canceling statement").is_connection_loss());
        assert!(!DbError::from_sqlstate("40P01", "deadlock detected").is_connection_loss());
        assert!(!DbError::new(ErrorKind::PoolTimeout, "no connection").is_connection_loss());
        assert!(!DbError::new(ErrorKind::Cancelled, "cancelled").is_connection_loss());
    }
}
