//! The JSON reader: exact parsing of a document's text (`parser`), and the
//! size of a document as PostgreSQL prints it once stored (`printed`). It
//! knows nothing of ownership; [`crate::document`] builds on it.

mod error;
pub(crate) mod parser;
pub(crate) mod printed;

pub use error::{ParseError, ParseErrorKind};
