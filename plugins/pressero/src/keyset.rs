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
//! are found next run. What is found there again is not read again: the cursor
//! keeps the keys (ModifiedDate, OrderNumber) emitted inside the window
//! ([`SeenKeys`]), and a search hit with exactly such a key is passed over
//! without fetching its Details. An order that changed again has another
//! ModifiedDate, so another key, and is read; so is a late commit dated before
//! what was already seen. Only the exact version emitted before is skipped.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use switchyard_sdk::time::Timestamp;

/// The most keys [`SeenKeys`] holds. The cursor travels through the host with
/// every page and is stored with it, so it stays small: about 40 bytes a key,
/// some 80 KB at most. When more orders than this changed inside one overlap
/// window, the newest keys are kept and the older rest of the window is read
/// again (its Details fetched) on the next pass, as before this list existed.
pub const MAX_SEEN_KEYS: usize = 2_000;

/// The orders already emitted inside the overlap window, by ModifiedDate
/// (in JSON `{"2026-11-30T10:00:00.123Z":[1001,1002]}`).
///
/// Forgetting a key only costs a read; a key is skipped only if that very
/// version of the order was emitted before.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SeenKeys(BTreeMap<Timestamp, BTreeSet<u64>>);

impl SeenKeys {
    /// Whether this exact version of an order was emitted.
    pub fn contains(&self, key: &OrderKey) -> bool {
        self.0
            .get(&key.modified)
            .is_some_and(|numbers| numbers.contains(&key.number))
    }

    /// How many keys are kept.
    pub fn len(&self) -> usize {
        self.0.values().map(BTreeSet::len).sum()
    }

    /// Whether no key is kept.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Records emitted keys; other versions of the same orders are forgotten
    /// (an order's superseded key matches no search hit unless it changes back
    /// to that very ModifiedDate, and then forgetting it only costs a read).
    pub fn insert_all(&mut self, keys: &[OrderKey]) {
        if keys.is_empty() {
            return;
        }
        let numbers: BTreeSet<u64> = keys.iter().map(|k| k.number).collect();
        self.0.retain(|_, group| {
            group.retain(|n| !numbers.contains(n));
            !group.is_empty()
        });
        for k in keys {
            self.0.entry(k.modified).or_default().insert(k.number);
        }
    }

    /// Forgets one key (an order that vanished before it was read).
    pub fn remove(&mut self, key: &OrderKey) {
        if let Some(group) = self.0.get_mut(&key.modified) {
            group.remove(&key.number);
            if group.is_empty() {
                self.0.remove(&key.modified);
            }
        }
    }

    /// Forgets the keys dated before `from` (a search from there cannot return
    /// them) and, beyond `max`, the oldest.
    pub fn prune(&mut self, from: Timestamp, max: usize) {
        self.0 = self.0.split_off(&from);
        let mut len = self.len();
        while len > max {
            let Some(mut oldest) = self.0.first_entry() else {
                break;
            };
            let group = oldest.get_mut();
            let over = len - max;
            if group.len() <= over {
                len -= group.len();
                oldest.remove();
            } else {
                for _ in 0..over {
                    group.pop_first();
                }
                len = max;
            }
        }
    }
}

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
    /// Keys emitted inside the overlap window (absent in cursors written before
    /// it existed: such a pass reads its window in full once).
    #[serde(default, skip_serializing_if = "SeenKeys::is_empty")]
    pub seen: SeenKeys,
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
            seen: SeenKeys::default(),
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
    /// The seen keys of the window are kept (see [`SeenKeys`]).
    pub fn rewound(&self, now: Option<Timestamp>, overlap_seconds: u64) -> Self {
        let from = self.window_start(now, overlap_seconds);
        let mut seen = self.seen.clone();
        seen.prune(from, MAX_SEEN_KEYS);
        OrderCursor {
            from,
            after: None,
            page: 0,
            page_size: self.page_size,
            peak: self.peak,
            seen,
        }
    }

    /// Where the next pass would start if this one ended now. It never moves
    /// back as a pass goes on: `peak` and `now` only grow.
    fn window_start(&self, now: Option<Timestamp>, overlap_seconds: u64) -> Timestamp {
        let anchor = match now {
            Some(now) if now < self.peak => now,
            _ => self.peak,
        };
        anchor.minus_seconds(overlap_seconds)
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
        /// The cursor covering exactly what was emitted or skipped as seen.
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
    // Past the cursor: emitted now, unless this very version was emitted before.
    let fresh: Vec<usize> = (0..page.len())
        .filter(|&i| !cursor.covers(&page[i]))
        .collect();
    let take: Vec<usize> = fresh
        .iter()
        .copied()
        .filter(|&i| !cursor.seen.contains(&page[i]))
        .collect();
    let full = page.len() as u32 >= page_size;
    match fresh.last() {
        None if full => Decision::ReadPage(page_number + 1),
        None => Decision::Emit {
            take,
            next: cursor.rewound(now, overlap_seconds),
            has_more: false,
        },
        Some(&last) => {
            // The cursor moves past every fresh record, emitted or seen before;
            // a page of seen records only is an empty page that moves it on.
            let last = page[last];
            let mut seen = cursor.seen.clone();
            seen.insert_all(&take.iter().map(|&i| page[i]).collect::<Vec<_>>());
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
                seen,
            };
            if full {
                // Kept: what the rest of this pass may meet (from `next.from`)
                // and what the next pass's window may hold.
                let keep = next.from.min(next.window_start(now, overlap_seconds));
                next.seen.prune(keep, MAX_SEEN_KEYS);
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
        cursor: OrderCursor,
        size: u32,
        between_pages: impl FnMut(&mut Vec<OrderKey>, usize),
    ) -> (Vec<OrderKey>, OrderCursor) {
        let (emitted, cursor, _) = run_counted_pass(all, cursor, size, between_pages);
        (emitted, cursor)
    }

    /// [`run_pass`], also counting the searches.
    fn run_counted_pass(
        all: &mut Vec<OrderKey>,
        mut cursor: OrderCursor,
        size: u32,
        mut between_pages: impl FnMut(&mut Vec<OrderKey>, usize),
    ) -> (Vec<OrderKey>, OrderCursor, usize) {
        let mut emitted = Vec::new();
        let mut searches = 0;
        for call in 0..1000 {
            let mut page_number = if cursor.page_size == size {
                cursor.page
            } else {
                0
            };
            let mut prior_covered = false;
            loop {
                let page = search(all, cursor.from, page_number, size);
                searches += 1;
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
                            return (emitted, cursor, searches);
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
            seen: SeenKeys::default(),
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
            seen: SeenKeys::default(),
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
        assert_eq!(
            take,
            [] as [usize; 0],
            "the overlap is searched, the seen key skipped"
        );
        assert!(!has_more);
        assert_eq!(again, next);
        // A cursor without seen keys (written before they existed) re-reads it.
        let old = OrderCursor {
            seen: SeenKeys::default(),
            ..next.clone()
        };
        let Decision::Emit { take, .. } = decide(&old, 0, false, &page, 10, None, 300) else {
            panic!()
        };
        assert_eq!(take, [0], "the overlap is re-read");
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
            seen: SeenKeys::default(),
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

    /// `n` orders numbered from 1, one every `step` seconds from `start`.
    fn history(n: u64, start: i64, step: i64) -> Vec<OrderKey> {
        (1..=n)
            .map(|number| OrderKey {
                modified: Timestamp::from_unix(start + number as i64 * step),
                number,
            })
            .collect()
    }

    fn numbers(keys: &[OrderKey]) -> Vec<u64> {
        let mut n: Vec<u64> = keys.iter().map(|k| k.number).collect();
        n.sort();
        n
    }

    #[test]
    fn re_reading_the_overlap_skips_the_seen_keys() {
        // 30 orders inside one 300 s window (one every 5 s), page size 4.
        let mut all = history(30, 1_800_000_000, 5);
        let (first, cursor, _) = run_counted_pass(
            &mut all,
            OrderCursor::start(Timestamp::EPOCH, 4),
            4,
            |_, _| {},
        );
        assert_eq!(numbers(&first), (1..=30).collect::<Vec<_>>());
        assert_eq!(cursor.seen.len(), 30, "every key of the window is kept");

        // Nothing changed: the window is searched as before, nothing is emitted.
        let old_style = OrderCursor {
            seen: SeenKeys::default(),
            ..cursor.clone()
        };
        let (reread, _, searches_before) = run_counted_pass(&mut all, old_style, 4, |_, _| {});
        assert_eq!(
            reread.len(),
            30,
            "without seen keys the window is read in full"
        );
        let (quiet, again, searches) = run_counted_pass(&mut all, cursor.clone(), 4, |_, _| {});
        assert!(quiet.is_empty(), "{quiet:?}");
        assert_eq!(searches, searches_before, "the same searches");
        assert_eq!(again, cursor, "a quiet pass keeps its position and keys");

        // Three orders change (one at a page boundary of the old order): only they are read.
        let mut clock = 1_800_000_200;
        for n in [4u64, 8, 17] {
            clock += 1;
            all.iter_mut().find(|k| k.number == n).unwrap().modified = Timestamp::from_unix(clock);
        }
        let (changed, after, _) = run_counted_pass(&mut all, again, 4, |_, _| {});
        assert_eq!(numbers(&changed), [4, 8, 17]);
        for k in &changed {
            assert!(after.seen.contains(k));
        }
        // Their previous versions are forgotten, the rest kept.
        assert_eq!(after.seen.len(), 30);
    }

    #[test]
    fn a_key_seen_with_another_modified_date_is_read() {
        let t = |s: &str| ts(&format!("2026-11-30T10:00:{s}Z"));
        let mut seen = SeenKeys::default();
        seen.insert_all(&[
            key("2026-11-30T10:00:10Z", 1),
            key("2026-11-30T10:00:20Z", 2),
            key("2026-11-30T10:00:20Z", 3),
        ]);
        let c = OrderCursor {
            from: t("00"),
            after: None,
            page: 0,
            page_size: 10,
            peak: t("20"),
            seen,
        };
        let page = [
            // Order 2 committed late with a ModifiedDate older than the one seen.
            key("2026-11-30T10:00:05Z", 2),
            key("2026-11-30T10:00:10Z", 1),
            // An order never seen, in the same second as seen ones.
            key("2026-11-30T10:00:10Z", 4),
            key("2026-11-30T10:00:20Z", 3),
            // Order 1 changed again: a newer ModifiedDate.
            key("2026-11-30T10:00:30Z", 1),
            // A fraction of a second later than a seen key is another key.
            key("2026-11-30T10:00:20.5Z", 3),
        ];
        let mut page = page.to_vec();
        page.sort();
        let Decision::Emit { take, next, .. } = decide(&c, 0, false, &page, 10, None, 300) else {
            panic!()
        };
        let read: Vec<OrderKey> = take.iter().map(|&i| page[i]).collect();
        assert_eq!(
            read,
            [
                key("2026-11-30T10:00:05Z", 2),
                key("2026-11-30T10:00:10Z", 4),
                key("2026-11-30T10:00:20.5Z", 3),
                key("2026-11-30T10:00:30Z", 1),
            ]
        );
        // The keys kept are the versions emitted last.
        assert!(next.seen.contains(&key("2026-11-30T10:00:30Z", 1)));
        assert!(!next.seen.contains(&key("2026-11-30T10:00:10Z", 1)));
        assert!(!next.seen.contains(&key("2026-11-30T10:00:20Z", 2)));
    }

    #[test]
    fn the_overlap_pass_never_skips_an_order_changed_while_paging() {
        // All 20 orders sit inside the window; during the second pass, between
        // pages, orders change: their new versions must all be emitted.
        let mut all = history(20, 1_800_000_000, 3);
        let (_, cursor) = run_pass(
            &mut all,
            OrderCursor::start(Timestamp::EPOCH, 4),
            4,
            |_, _| {},
        );
        let mut clock = 1_800_000_100i64;
        let (emitted, _) = run_pass(&mut all, cursor, 4, |all, call| {
            for n in [1 + call as u64, 20 - call as u64] {
                if let Some(k) = all.iter_mut().find(|k| k.number == n) {
                    clock += 1;
                    k.modified = Timestamp::from_unix(clock);
                }
            }
        });
        for k in &all {
            let changed = k.modified.unix_seconds() > 1_800_000_100;
            assert_eq!(
                emitted.contains(k),
                changed,
                "order {} (changed: {changed})",
                k.number
            );
        }
    }

    #[test]
    fn the_kept_keys_are_bounded_and_the_newest_kept() {
        let mut seen = SeenKeys::default();
        let keys = history(MAX_SEEN_KEYS as u64 + 500, 1_800_000_000, 0);
        seen.insert_all(&keys);
        seen.prune(Timestamp::EPOCH, MAX_SEEN_KEYS);
        assert_eq!(seen.len(), MAX_SEEN_KEYS);
        // All share one ModifiedDate: the highest numbers (the last in the sort) stay.
        assert!(!seen.contains(&keys[499]));
        assert!(seen.contains(&keys[500]));
        seen.prune(Timestamp::from_unix(1_800_000_001), MAX_SEEN_KEYS);
        assert!(seen.is_empty(), "keys before the window are dropped");

        // Through whole passes: 2,500 orders inside one window.
        let n = MAX_SEEN_KEYS as u64 + 500;
        let mut all = history(n, 1_800_000_000, 0);
        let (first, cursor) = run_pass(
            &mut all,
            OrderCursor::start(Timestamp::EPOCH, 100),
            100,
            |_, _| {},
        );
        assert_eq!(first.len() as u64, n);
        assert_eq!(cursor.seen.len(), MAX_SEEN_KEYS);
        // The next pass reads again only what did not fit: the oldest 500.
        let (again, cursor) = run_pass(&mut all, cursor, 100, |_, _| {});
        assert_eq!(numbers(&again), (1..=500).collect::<Vec<_>>());
        assert_eq!(cursor.seen.len(), MAX_SEEN_KEYS);
    }

    #[test]
    fn seen_keys_travel_in_the_cursor_and_old_cursors_decode() {
        let mut c = OrderCursor::start(ts("2026-11-30T09:55:00Z"), 100);
        c.seen.insert_all(&[
            key("2026-11-30T10:00:00.25Z", 1002),
            key("2026-11-30T10:00:00.25Z", 1001),
            key("2026-11-30T09:58:00Z", 990),
        ]);
        let text = switchyard_sdk::cursor::encode(&c);
        assert!(
            text.ends_with(
                r#""seen":{"2026-11-30T09:58:00Z":[990],"2026-11-30T10:00:00.25Z":[1001,1002]}}"#
            ),
            "{text}"
        );
        assert_eq!(
            switchyard_sdk::cursor::decode::<OrderCursor>(Some(&text)).unwrap(),
            Some(c)
        );
        let old = r#"{"from":"2026-11-30T09:55:00Z","after":null,"page":0,"page_size":100,"peak":"2026-11-30T10:00:00Z"}"#;
        let old = switchyard_sdk::cursor::decode::<OrderCursor>(Some(old))
            .unwrap()
            .unwrap();
        assert!(old.seen.is_empty());
    }
}
