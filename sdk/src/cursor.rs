//! Cursors: the position a stream resumes from, as an opaque text.
//!
//! The host stores the cursor of a page only once the page's records are
//! stored, and hands it back on the next `fetch`. A connector defines its own
//! cursor struct and encodes it as JSON with [`encode`]; [`decode`] turns a
//! corrupt or foreign cursor into a clear `invalid-input` error located at
//! `cursor` instead of silently restarting from scratch.
//!
//! ```
//! #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
//! struct Position { modified: String, last: u64 }
//!
//! let text = switchyard_sdk::cursor::encode(&Position { modified: "2026-12-01T10:00:00Z".into(), last: 1001 });
//! let back: Option<Position> = switchyard_sdk::cursor::decode(Some(&text)).unwrap();
//! assert_eq!(back.unwrap().last, 1001);
//! assert!(switchyard_sdk::cursor::decode::<Position>(Some("garbage")).is_err());
//! ```

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::{ConnectorError, Result};

/// Why a cursor text could not be read.
#[derive(Debug, thiserror::Error)]
#[error("the cursor `{shown}` is not one this connector wrote: {reason}")]
pub struct CursorError {
    shown: String,
    reason: serde_json::Error,
}

impl From<CursorError> for ConnectorError {
    fn from(e: CursorError) -> Self {
        ConnectorError::invalid_input(e.to_string(), "cursor")
    }
}

/// The cursor as JSON text.
pub fn encode<T: Serialize + ?Sized>(position: &T) -> String {
    // Serialising a plain struct of strings and numbers cannot fail; a map
    // with non-string keys would, and is a programming error worth a panic.
    serde_json::to_string(position).expect("a cursor serialises to JSON")
}

/// Decodes a cursor the host handed back; `None` (first run) or blank gives
/// `Ok(None)`, a text that is not a `T` gives `invalid-input` at `cursor`.
pub fn decode<T: DeserializeOwned>(cursor: Option<&str>) -> Result<Option<T>> {
    Ok(try_decode(cursor)?)
}

/// Like [`decode`], with the typed error.
pub fn try_decode<T: DeserializeOwned>(cursor: Option<&str>) -> Result<Option<T>, CursorError> {
    let Some(text) = cursor.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    serde_json::from_str(text).map(Some).map_err(|reason| {
        let mut shown: String = text.chars().take(80).collect();
        if shown.len() < text.len() {
            shown.push('…');
        }
        CursorError { shown, reason }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
    struct Pos {
        at: String,
        n: u64,
    }

    #[test]
    fn round_trip_and_first_run() {
        let p = Pos {
            at: "2026-12-01T00:00:00Z".into(),
            n: 7,
        };
        assert_eq!(decode::<Pos>(Some(&encode(&p))).unwrap(), Some(p));
        assert_eq!(decode::<Pos>(None).unwrap(), None);
        assert_eq!(decode::<Pos>(Some("  ")).unwrap(), None);
    }

    #[test]
    fn corrupt_cursor_is_invalid_input_at_cursor() {
        match decode::<Pos>(Some(r#"{"at":1}"#)).unwrap_err() {
            ConnectorError::InvalidInput(i) => {
                assert_eq!(i.location, "cursor");
                assert!(
                    i.message.contains("not one this connector wrote"),
                    "{}",
                    i.message
                );
            }
            other => panic!("{other:?}"),
        }
    }
}
