//! Candidates from the tenant's canonical store, for a person to confirm.
//!
//! Most connectors never call this: the host matches canonical entities itself
//! after `map-in`. It is here for connectors that need a match to decide what
//! to send (e.g. reuse an existing customer id on push).

use crate::error::{ConnectorError, Result};

pub use crate::bindings::switchyard::connector::matching::{Candidate, MatchField, MatchKind};

/// Candidates of `kind` matching `fields` (name, value pairs), best first.
///
/// ```ignore
/// let found = matching::find(MatchKind::Customer, &[("email", "ann@example.com")])?;
/// ```
pub fn find(kind: MatchKind, fields: &[(&str, &str)]) -> Result<Vec<Candidate>> {
    let fields: Vec<MatchField> = fields
        .iter()
        .map(|(n, v)| MatchField {
            name: (*n).to_string(),
            value: (*v).to_string(),
        })
        .collect();
    crate::host::matching_find(kind, &fields)
        .map_err(|e| ConnectorError::transient(format!("matching failed: {e}")))
}
