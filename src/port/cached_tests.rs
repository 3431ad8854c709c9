//! The copies in front of the host: what they save, and that they never hand out
//! anything the store would not.

use super::*;
use crate::port::fake::{content_hash, FakeHost};

fn object(n: usize, size: usize) -> Vec<u8> {
    let text = format!("{n:08}").repeat(size / 8);
    serde_json::to_vec(&serde_json::json!({ "n": n, "text": text })).unwrap()
}

#[test]
fn an_object_read_once_is_read_again_without_a_call() {
    let host = Cached::new(FakeHost::new());
    let bytes = object(1, 100);
    let hash = host.inner.store_put("s", &bytes).unwrap();
    assert_eq!(
        host.calls_during(|| host.store_get("s", &hash).unwrap()),
        (bytes.clone(), 1)
    );
    assert_eq!(
        host.calls_during(|| host.store_get("s", &hash).unwrap()),
        (bytes, 0)
    );
    // Another store with the same hash is another object.
    assert!(host.store_get("other", &hash).is_err());
}

#[test]
fn what_the_actor_stores_reads_back_without_a_call() {
    let host = Cached::new(FakeHost::new());
    let first = object(1, 100);
    let second = object(2, 100);
    let hash = host.store_put("s", &first).unwrap();
    let labelled = host.store_at_label("s", "record", &second).unwrap();
    assert_eq!(
        host.calls_during(|| host.store_get("s", &hash).unwrap()),
        (first, 0)
    );
    assert_eq!(
        host.calls_during(|| host.store_get("s", &labelled).unwrap()),
        (second, 0)
    );
    // Labels move: they are always asked for.
    assert_eq!(
        host.calls_during(|| host.label_get("s", "record").unwrap()),
        (Some(labelled), 1)
    );
}

#[test]
fn a_short_read_is_never_kept() {
    let host = Cached::new(FakeHost::new());
    let bytes = object(1, 400);
    let hash = host.inner.store_put("s", &bytes).unwrap();
    host.short_reads.set(1);
    let short = host.store_get("s", &hash).unwrap();
    assert_eq!(short.len(), bytes.len() / 2);
    assert_eq!(
        host.calls_during(|| host.store_get("s", &hash).unwrap()),
        (bytes.clone(), 1)
    );
    assert_eq!(
        host.calls_during(|| host.store_get("s", &hash).unwrap()),
        (bytes, 0)
    );
}

#[test]
fn a_failed_write_is_not_kept() {
    let host = Cached::new(FakeHost::new());
    let bytes = object(1, 100);
    host.fail_writes.set(true);
    assert!(host.store_put("s", &bytes).is_err());
    assert!(host.store_at_label("s", "record", &bytes).is_err());
    assert!(host.store_get("s", &content_hash(&bytes)).is_err());
    assert_eq!(host.held(), (0, 0));
}

#[test]
fn an_object_just_stored_is_confirmed_from_the_store_once() {
    let host = Cached::new(FakeHost::new());
    let hash = host.store_put("s", &object(1, 400)).unwrap();
    // Still being written: the first two reads come back short.
    host.short_reads.set(2);
    assert_eq!(
        host.calls_during(|| host.confirm_stored("s", &hash).unwrap())
            .1,
        3
    );
    assert_eq!(
        host.calls_during(|| host.confirm_stored("s", &hash).unwrap())
            .1,
        0
    );
    // Read from the store, it is whole there already.
    let read = host.inner.store_put("s", &object(2, 400)).unwrap();
    host.store_get("s", &read).unwrap();
    assert_eq!(
        host.calls_during(|| host.confirm_stored("s", &read).unwrap())
            .1,
        0
    );
}

#[test]
fn a_torn_object_under_a_copy_is_never_confirmed() {
    let host = Cached::new(FakeHost::new());
    let bytes = object(1, 400);
    let hash = content_hash(&bytes);
    // A kill left the file torn; Theater never rewrites a file whose hash it has.
    host.content
        .borrow_mut()
        .entry("s".into())
        .or_default()
        .insert(hash.clone(), bytes[..bytes.len() / 2].to_vec());
    assert_eq!(host.store_put("s", &bytes).unwrap(), hash);
    let error = host.confirm_stored("s", &hash).unwrap_err();
    assert!(error.message.contains("stays short"), "{error}");
}

#[test]
fn the_copies_stay_within_the_budget_and_drop_the_least_recently_used() {
    let host = Cached::new(FakeHost::new());
    let size = 40 * 1024;
    let mut hashes = Vec::new();
    for n in 0..3 * BUDGET / size {
        hashes.push(host.store_put("s", &object(n, size)).unwrap());
        // The first one stays in use.
        host.store_get("s", &hashes[0]).unwrap();
    }
    let (count, bytes) = host.held();
    assert!(bytes <= BUDGET, "{bytes} bytes");
    // A batch of the oldest goes when the budget is exceeded.
    assert!(
        count >= AFTER_EVICTION / (size + 100) - 1,
        "only {count} copies"
    );
    assert_eq!(
        host.calls_during(|| host.store_get("s", &hashes[0]).unwrap())
            .1,
        0
    );
    assert_eq!(
        host.calls_during(|| host.store_get("s", &hashes[1]).unwrap())
            .1,
        1
    );
    let newest = hashes.last().unwrap();
    assert_eq!(
        host.calls_during(|| host.store_get("s", newest).unwrap()).1,
        0
    );
}

#[test]
fn an_object_larger_than_a_copy_may_be_is_always_read() {
    let host = Cached::new(FakeHost::new());
    let hash = host.store_put("s", &object(1, LARGEST + 8)).unwrap();
    assert_eq!(host.held(), (0, 0));
    assert_eq!(
        host.calls_during(|| host.store_get("s", &hash).unwrap()).1,
        1
    );
    assert_eq!(
        host.calls_during(|| host.store_get("s", &hash).unwrap()).1,
        1
    );
}

#[test]
fn many_small_objects_stay_within_the_budget_with_the_newest_kept() {
    let host = Cached::new(FakeHost::new());
    let objects: Vec<Vec<u8>> = (0..6_000).map(|n| object(n, 400)).collect();
    let mut hashes = Vec::new();
    for o in &objects {
        hashes.push(host.store_put("s", o).unwrap());
    }
    let (count, bytes) = host.held();
    assert!(
        (AFTER_EVICTION - LARGEST..=BUDGET).contains(&bytes),
        "{bytes} bytes"
    );
    assert!(count > 1_500, "{count} copies");
    for hash in hashes.iter().rev().take(1_000) {
        assert_eq!(
            host.calls_during(|| host.store_get("s", hash).unwrap()).1,
            0
        );
    }
    assert_eq!(
        host.calls_during(|| host.store_get("s", &hashes[0]).unwrap())
            .1,
        1
    );
}
