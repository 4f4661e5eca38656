//! `hyperdjango._core`: the Python face of the engine. Only wiring lives here;
//! each Python-visible type has its own module and a stub in `hyperdjango/_core.pyi`.

mod awaitable;
mod completion;
mod convert;
mod db;
mod files;
mod passwords;
mod redis;
mod request;
mod request_body;
mod router;
mod server;
mod subscription;
mod templates;
mod websocket;

use pyo3::prelude::*;

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<completion::LoopBridge>()?;
    m.add_class::<completion::RustFuture>()?;
    m.add_class::<db::Database>()?;
    m.add_class::<db::PlannedRead>()?;
    m.add_class::<db::Transaction>()?;
    m.add_class::<db::Cursor>()?;
    m.add_class::<db::Listener>()?;
    m.add_class::<db::Row>()?;
    m.add_class::<db::InstanceReader>()?;
    m.add_function(wrap_pyfunction!(db::instances_from_rows, m)?)?;
    m.add_class::<redis::RedisSubscriber>()?;
    m.add_class::<redis::RedisCommands>()?;
    m.add("RedisError", m.py().get_type::<redis::RedisError>())?;
    m.add_function(wrap_pyfunction!(passwords::argon2_hash, m)?)?;
    m.add_function(wrap_pyfunction!(passwords::argon2_verify, m)?)?;
    m.add_function(wrap_pyfunction!(passwords::bcrypt_verify, m)?)?;
    m.add_function(wrap_pyfunction!(files::find_file, m)?)?;
    m.add_function(wrap_pyfunction!(files::file_answer, m)?)?;
    m.add_class::<router::Router>()?;
    m.add_class::<server::Server>()?;
    m.add_class::<request::PendingRequest>()?;
    m.add_class::<request::StreamSender>()?;
    m.add_class::<websocket::WebSocketConnection>()?;
    m.add_class::<websocket::Sent>()?;
    m.add_class::<templates::TemplateEngine>()?;
    m.add_class::<templates::TemplateStream>()?;
    m.add(
        "TemplateError",
        m.py().get_type::<templates::TemplateError>(),
    )?;
    m.add("StreamsFull", m.py().get_type::<templates::StreamsFull>())?;
    m.add_function(wrap_pyfunction!(websocket::ws_broadcast, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
