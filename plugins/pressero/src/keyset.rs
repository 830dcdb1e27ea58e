//! The orders cursor: keyset paging over (ModifiedDate, OrderNumber).
//!
//! Every page is a fresh search `ModifiedDate >= from`, sorted by
//! (ModifiedDate, OrderNumber). The cursor remembers the key of the last record
//! emitted, so records at or below it are skipped; an order changed while we
//! page gets a later ModifiedDate and so reappears further on — nothing is
//! skipped. Many orders sharing one ModifiedDate (more than a page) are handled
//! by a page hint into the same search, verified on every use: page `p` may be
//! started at only if its first record is already covered (the sort order then
//! guarantees everything before it is), otherwise we step back a page.
//!
//! At the end of a pass the cursor moves back by the overlap window, from the
//! newest ModifiedDate seen (or `now`, if earlier), so late-committed changes
//! are read again next run.

use serde::{Deserialize, Serialize};
use switchyard_sdk::time::Timestamp;

/// The position of the orders stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderCursor {
    /// The search filter: `ModifiedDate >= from`.
    pub from: Timestamp,
    /// Orders at exactly `from` with a number ≤ this are already emitted.
    pub after: Option<u64>,
    /// The page of the search to start at (see the module docs).
    pub page: u32,
    /// The page size `page` counts in.
    pub page_size: u32,
    /// The newest ModifiedDate emitted so far; never decreases.
    pub peak: Timestamp,
}

/// The sort key of an order in a search answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct OrderKey {
    /// When the order last changed.
    pub modified: Timestamp,
    /// Its order number.
    pub number: u64,
}

impl OrderCursor {
    /// The cursor of a first run starting at `since`.
    pub fn start(since: Timestamp, page_size: u32) -> Self {
        OrderCursor {
            from: since,
            after: None,
            page: 0,
            page_size,
            peak: since,
        }
    }

    /// Whether `key` has been emitted already (at or below the cursor).
    pub fn covers(&self, key: &OrderKey) -> bool {
        key.modified < self.from
            || (key.modified == self.from && self.after.is_some_and(|a| key.number <= a))
    }

    /// The cursor of the next pass: back by `overlap_seconds` from the newest
    /// change seen, or from `now` when that is earlier (a record dated in the
    /// future must not pin the cursor there).
    pub fn rewound(&self, now: Option<Timestamp>, overlap_seconds: u64) -> Self {
        let anchor = match now {
            Some(now) if now < self.peak => now,
            _ => self.peak,
        };
        OrderCursor {
            from: anchor.minus_seconds(overlap_seconds),
            after: None,
            page: 0,
            page_size: self.page_size,
            peak: self.peak,
        }
    }
}

/// What to do with one search page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// The page cannot be trusted to start after covered records: read page `n`.
    ReadPage(u32),
    /// Emit the records at these indices of the page, then store `next`.
    Emit {
        /// Indices into the page, in order.
        take: Vec<usize>,
        /// The cursor covering exactly what was emitted.
        next: OrderCursor,
        /// False when the pass reached the end.
        has_more: bool,
    },
}

/// Decides about page `page_number` of the search of `cursor`. `prior_covered`
/// is true when every record before this page is known to be covered (page 0,
/// or we just read the previous page and it was all covered).
pub fn decide(
    cursor: &OrderCursor,
    page_number: u32,
    prior_covered: bool,
    page: &[OrderKey],
    page_size: u32,
    now: Option<Timestamp>,
    overlap_seconds: u64,
) -> Decision {
    let trusted =
        page_number == 0 || prior_covered || page.first().is_some_and(|first| cursor.covers(first));
    if !trusted {
        // Records before this page moved (or the hint is stale): step back.
        return Decision::ReadPage(page_number - 1);
    }
    let take: Vec<usize> = (0..page.len())
        .filter(|&i| !cursor.covers(&page[i]))
        .collect();
    let full = page.len() as u32 >= page_size;
    match take.last() {
        None if full => Decision::ReadPage(page_number + 1),
        None => Decision::Emit {
            take,
            next: cursor.rewound(now, overlap_seconds),
            has_more: false,
        },
        Some(&last) => {
            let last = page[last];
            let mut next = OrderCursor {
                from: last.modified,
                after: Some(last.number),
                // Same search (same `from`): the last record is on this page.
                // A later `from` starts a new search whose ties all sit on page 0.
                page: if last.modified == cursor.from {
                    page_number
                } else {
                    0
                },
                page_size,
                peak: cursor.peak.max(last.modified),
            };
            if full {
                Decision::Emit {
                    take,
                    next,
                    has_more: true,
                }
            } else {
                next = next.rewound(now, overlap_seconds);
                Decision::Emit {
                    take,
                    next,
                    has_more: false,
                }
            }
        }
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        Timestamp::parse(s).unwrap()
    }

    fn key(t: &str, n: u64) -> OrderKey {
        OrderKey {
            modified: ts(t),
            number: n,
        }
    }

    /// A fake search: all orders with modified >= from, sorted, one page.
    fn search(all: &[OrderKey], from: Timestamp, page: u32, size: u32) -> Vec<OrderKey> {
        let mut hits: Vec<OrderKey> = all.iter().copied().filter(|k| k.modified >= from).collect();
        hits.sort();
        hits.into_iter()
            .skip((page * size) as usize)
            .take(size as usize)
            .collect()
    }

    /// Runs fetch calls until has-more is false; returns emitted keys and the cursor.
    fn run_pass(
        all: &mut Vec<OrderKey>,
        mut cursor: OrderCursor,
        size: u32,
        mut between_pages: impl FnMut(&mut Vec<OrderKey>, usize),
    ) -> (Vec<OrderKey>, OrderCursor) {
        let mut emitted = Vec::new();
        for call in 0..1000 {
            let mut page_number = if cursor.page_size == size {
                cursor.page
            } else {
                0
            };
            let mut prior_covered = false;
            loop {
                let page = search(all, cursor.from, page_number, size);
                match decide(&cursor, page_number, prior_covered, &page, size, None, 300) {
                    Decision::ReadPage(n) => {
                        prior_covered = n > page_number;
                        page_number = n;
                    }
                    Decision::Emit {
                        take,
                        next,
                        has_more,
                    } => {
                        emitted.extend(take.iter().map(|&i| page[i]));
                        cursor = next;
                        if !has_more {
                            return (emitted, cursor);
                        }
                        break;
                    }
                }
            }
            between_pages(all, call);
        }
        panic!("pass did not end");
    }

    #[test]
    fn cursor_round_trips_through_the_sdk_encoding() {
        let c = OrderCursor {
            from: ts("2026-11-30T10:00:00Z"),
            after: Some(1001),
            page: 2,
            page_size: 100,
            peak: ts("2026-11-30T10:00:00Z"),
        };
        let text = switchyard_sdk::cursor::encode(&c);
        assert_eq!(
            text,
            r#"{"from":"2026-11-30T10:00:00Z","after":1001,"page":2,"page_size":100,"peak":"2026-11-30T10:00:00Z"}"#
        );
        assert_eq!(
            switchyard_sdk::cursor::decode::<OrderCursor>(Some(&text)).unwrap(),
            Some(c)
        );
        assert!(switchyard_sdk::cursor::decode::<OrderCursor>(Some(r#"{"from":"soon"}"#)).is_err());
    }

    #[test]
    fn covered_records_are_skipped_and_the_key_advances() {
        let c = OrderCursor {
            from: ts("2026-11-30T10:00:00Z"),
            after: Some(1002),
            page: 0,
            page_size: 3,
            peak: ts("2026-11-30T10:00:00Z"),
        };
        let page = [
            key("2026-11-30T10:00:00Z", 1001),
            key("2026-11-30T10:00:00Z", 1002),
            key("2026-11-30T10:00:00Z", 1003),
        ];
        match decide(&c, 0, false, &page, 3, None, 300) {
            Decision::Emit {
                take,
                next,
                has_more,
            } => {
                assert_eq!(take, [2]);
                assert!(has_more);
                assert_eq!(next.after, Some(1003));
                assert_eq!(next.page, 0);
            }
            d => panic!("{d:?}"),
        }
    }

    #[test]
    fn end_of_pass_rewinds_by_the_overlap_without_drifting() {
        let c = OrderCursor::start(Timestamp::EPOCH, 10);
        let page = [key("2026-11-30T10:00:00Z", 1001)];
        let Decision::Emit { next, has_more, .. } = decide(&c, 0, false, &page, 10, None, 300)
        else {
            panic!()
        };
        assert!(!has_more);
        assert_eq!(next.from, ts("2026-11-30T09:55:00Z"));
        assert_eq!(next.after, None);
        assert_eq!(next.peak, ts("2026-11-30T10:00:00Z"));
        // A pass that only re-reads the overlap keeps the same position.
        let Decision::Emit {
            take,
            next: again,
            has_more,
        } = decide(&next, 0, false, &page, 10, None, 300)
        else {
            panic!()
        };
        assert_eq!(take, [0], "the overlap is re-read");
        assert!(!has_more);
        assert_eq!(again, next);
        // An empty pass does not move back either.
        let Decision::Emit { next: empty, .. } = decide(&next, 0, false, &[], 10, None, 300) else {
            panic!()
        };
        assert_eq!(empty, next);
        // A future-dated record rewinds from `now`, not from the future.
        let future = [key("2099-01-01T00:00:00Z", 5)];
        let Decision::Emit { next: f, .. } = decide(
            &c,
            0,
            false,
            &future,
            10,
            Some(ts("2026-12-01T00:00:00Z")),
            60,
        ) else {
            panic!()
        };
        assert_eq!(f.from, ts("2026-11-30T23:59:00Z"));
    }

    #[test]
    fn more_ties_than_a_page_are_walked_with_a_verified_hint() {
        // 7 orders share one ModifiedDate; page size 3.
        let mut all: Vec<OrderKey> = (1..=7).map(|n| key("2026-11-30T10:00:00Z", n)).collect();
        all.push(key("2026-11-30T11:00:00Z", 8));
        let (emitted, cursor) = run_pass(
            &mut all,
            OrderCursor::start(Timestamp::EPOCH, 3),
            3,
            |_, _| {},
        );
        let numbers: Vec<u64> = emitted.iter().map(|k| k.number).collect();
        assert_eq!(numbers, [1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(cursor.peak, ts("2026-11-30T11:00:00Z"));
    }

    #[test]
    fn a_stale_hint_steps_back_instead_of_skipping() {
        // The cursor says page 2 of the tie group, but two covered orders moved
        // away, shifting order 7 onto page 1.
        let all: Vec<OrderKey> = [3u64, 4, 5, 6, 7, 8]
            .iter()
            .map(|&n| key("2026-11-30T10:00:00Z", n))
            .collect();
        let c = OrderCursor {
            from: ts("2026-11-30T10:00:00Z"),
            after: Some(6),
            page: 2,
            page_size: 2,
            peak: ts("2026-11-30T10:00:00Z"),
        };
        let page2 = search(&all, c.from, 2, 2); // [7, 8]
        assert_eq!(
            decide(&c, 2, false, &page2, 2, None, 0),
            Decision::ReadPage(1)
        );
        let page1 = search(&all, c.from, 1, 2); // [5, 6]: covered, trusted
        assert_eq!(
            decide(&c, 1, false, &page1, 2, None, 0),
            Decision::ReadPage(2)
        );
        // Coming from a covered page 1, page 2 is trusted and 7, 8 are emitted.
        let Decision::Emit { take, .. } = decide(&c, 2, true, &page2, 2, None, 0) else {
            panic!()
        };
        assert_eq!(take, [0, 1]);
    }

    #[test]
    fn orders_changed_while_paging_are_never_skipped() {
        // 20 orders, page size 4; between pages, an already-emitted order and a
        // not-yet-emitted one change (ModifiedDate moves to the end).
        let mut all: Vec<OrderKey> = (1..=20)
            .map(|n| OrderKey {
                modified: Timestamp::from_unix(1_800_000_000 + (n as i64 / 3)),
                number: n,
            })
            .collect();
        let mut clock = 1_800_001_000i64;
        let (emitted, _) = run_pass(
            &mut all,
            OrderCursor::start(Timestamp::EPOCH, 4),
            4,
            |all, call| {
                for n in [1 + call as u64, 20 - call as u64] {
                    if let Some(k) = all.iter_mut().find(|k| k.number == n) {
                        clock += 1;
                        k.modified = Timestamp::from_unix(clock);
                    }
                }
            },
        );
        let mut seen: Vec<u64> = emitted.iter().map(|k| k.number).collect();
        seen.sort();
        seen.dedup();
        assert_eq!(
            seen,
            (1..=20).collect::<Vec<_>>(),
            "every order emitted at least once"
        );
        // And every order's latest version was emitted.
        for k in &all {
            assert!(
                emitted.contains(k),
                "latest version of {} missing",
                k.number
            );
        }
    }
}
