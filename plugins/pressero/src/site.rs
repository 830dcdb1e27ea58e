//! Paging the site lists: `site/{site}/products`, `…/categories`, `…/users`.
//!
//! These lists are offset pages (`pageNumber`, `pageSize`, `{"Items","TotalItems"}`) in a
//! stable order (new records are appended) with no change filter. A pass therefore reads the
//! whole list; the cursor keeps the offset reached, so a pass spans as many `fetch` calls as it
//! needs. Records carry a `ModifiedDate`: after the first pass only records changed since the
//! previous pass (less the overlap window) are emitted, so a quiet catalogue costs reads but
//! gives the host nothing to store.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use switchyard_sdk::prelude::*;
use switchyard_sdk::time::Timestamp;

use crate::api::{encode_component, Session};

/// The largest page the site lists serve.
pub const MAX_PAGE_SIZE: u32 = 500;

/// The position in a site list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteCursor {
    /// How many records of the list this pass has read.
    pub offset: u64,
    /// Only records modified at or after this are emitted (none on the first pass).
    pub since: Option<Timestamp>,
    /// The newest `ModifiedDate` seen in this pass.
    pub peak: Option<Timestamp>,
}

impl SiteCursor {
    /// The cursor of the next pass: back to the start, emitting what changed since the
    /// newest change seen (or `now`, when earlier) less `overlap` seconds.
    pub fn next_pass(&self, now: Option<Timestamp>, overlap: u64) -> SiteCursor {
        let anchor = match (self.peak, now) {
            (Some(peak), Some(now)) if now < peak => Some(now),
            (Some(peak), _) => Some(peak),
            (None, _) => None,
        };
        SiteCursor {
            offset: 0,
            since: anchor.map(|a| a.minus_seconds(overlap)).or(self.since),
            peak: None,
        }
    }

    /// Whether a record modified at `modified` is emitted (unknown dates always are).
    pub fn wants(&self, modified: Option<Timestamp>) -> bool {
        match (self.since, modified) {
            (Some(since), Some(m)) => m >= since,
            _ => true,
        }
    }
}

/// One kind of site record.
pub struct SiteList {
    /// The list path under the site, e.g. `products`.
    pub path: &'static str,
    /// The id field of a record, e.g. `ProductId`.
    pub id_field: &'static str,
    /// Extra query parameters of the list, e.g. `&includeDeleted=true`.
    pub query: &'static str,
}

/// `site/{site}/{path}` of the configured site.
pub fn site_path(site: &str, path: &str) -> String {
    format!("site/{}/{path}", encode_component(site))
}

fn modified(record: &Value) -> Option<Timestamp> {
    record
        .get("ModifiedDate")
        .and_then(Value::as_str)
        .and_then(|t| Timestamp::parse(t).ok())
}

fn raw(list: &SiteList, record: Value, index: usize) -> Result<RawRecord> {
    let id = match record.get(list.id_field) {
        Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_string(),
        Some(Value::Number(n)) => n.to_string(),
        _ => {
            let at = format!("Items[{index}].{}", list.id_field);
            return Err(ConnectorError::invalid_input(format!("missing {at}"), at));
        }
    };
    Ok(RawRecord {
        external_id: id,
        updated_at: modified(&record).map(|t| t.to_string()),
        data: record.to_string(),
    })
}

/// One page of a site list stream (or the records `req.external_ids` names).
pub fn fetch(req: &FetchRequest, list: &SiteList) -> Result<Page> {
    let site = crate::settings::site()?;
    let now = Timestamp::parse(&req.now).ok();
    let mut session = Session::from_config(now)?;
    let base = site_path(&site, list.path);
    if !req.external_ids.is_empty() {
        let mut records = Vec::new();
        for (i, id) in req.external_ids.iter().enumerate() {
            if let Some(doc) = session.get(&format!("{base}/{}", encode_component(id.trim())))? {
                records.push(raw(list, doc, i)?);
            }
        }
        return Ok(Page {
            records,
            next_cursor: None,
            has_more: false,
        });
    }
    let size = req.page_size.clamp(1, MAX_PAGE_SIZE);
    let overlap = crate::settings::overlap_seconds()?;
    let mut cursor =
        switchyard_sdk::cursor::decode::<SiteCursor>(req.cursor.as_deref())?.unwrap_or_default();
    let page_number = cursor.offset / u64::from(size);
    let skip = (cursor.offset % u64::from(size)) as usize;
    let (items, total) = session.site_page(&base, page_number, size, list.query)?;
    let fresh: Vec<Value> = items.into_iter().skip(skip).collect();
    let read = fresh.len() as u64;
    let mut records = Vec::with_capacity(fresh.len());
    for (i, record) in fresh.into_iter().enumerate() {
        let m = modified(&record);
        if let Some(m) = m {
            cursor.peak = Some(cursor.peak.map_or(m, |p| p.max(m)));
        }
        if cursor.wants(m) {
            records.push(raw(list, record, skip + i)?);
        }
    }
    cursor.offset += read;
    // The list may have shrunk under us (a record deleted for good): an empty page ends it.
    let has_more = read > 0 && cursor.offset < total;
    let next = if has_more {
        cursor
    } else {
        cursor.next_pass(now, overlap)
    };
    Ok(Page {
        records,
        next_cursor: Some(switchyard_sdk::cursor::encode(&next)),
        has_more,
    })
}

/// Every record of a site list, for look-ups (at most `max_pages` pages of 500).
pub fn all(
    session: &mut Session,
    site: &str,
    path: &str,
    query: &str,
    max_pages: u64,
) -> Result<Vec<Value>> {
    let base = site_path(site, path);
    let mut out = Vec::new();
    for page in 0..max_pages {
        let (items, total) = session.site_page(&base, page, MAX_PAGE_SIZE, query)?;
        let n = items.len();
        out.extend(items);
        if n == 0 || out.len() as u64 >= total {
            return Ok(out);
        }
    }
    Err(ConnectorError::permanent(format!(
        "the Pressero list {base} has more than {} records; the look-up gave up",
        max_pages * u64::from(MAX_PAGE_SIZE)
    )))
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        Timestamp::parse(s).unwrap()
    }

    #[test]
    fn a_pass_ends_by_rewinding_from_the_newest_change() {
        let c = SiteCursor {
            offset: 30,
            since: None,
            peak: Some(ts("2026-12-01T10:00:00Z")),
        };
        let n = c.next_pass(None, 300);
        assert_eq!(n.offset, 0);
        assert_eq!(n.since, Some(ts("2026-12-01T09:55:00Z")));
        assert!(n.wants(Some(ts("2026-12-01T09:56:00Z"))));
        assert!(!n.wants(Some(ts("2026-12-01T09:00:00Z"))));
        assert!(n.wants(None));
        // A future-dated record does not pin the window in the future.
        let f = SiteCursor {
            peak: Some(ts("2099-01-01T00:00:00Z")),
            ..c.clone()
        };
        assert_eq!(
            f.next_pass(Some(ts("2026-12-01T00:00:00Z")), 60).since,
            Some(ts("2026-11-30T23:59:00Z"))
        );
        // An empty pass keeps the window it had.
        let e = SiteCursor {
            offset: 0,
            since: Some(ts("2026-01-01T00:00:00Z")),
            peak: None,
        };
        assert_eq!(e.next_pass(None, 60).since, e.since);
    }
}
