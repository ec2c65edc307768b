//! The PostgreSQL codecs: our types to and from PostgreSQL's binary formats.
//! One set of byte layouts (`layout`), used by both integrations, so that
//! postgres-types and sqlx send and accept exactly the same bytes. (Not to
//! be confused with [`crate::reader`]-level JSON parsing, which the codecs
//! call once they have the JSON text.)

mod layout;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "sqlx")]
mod sqlx;
