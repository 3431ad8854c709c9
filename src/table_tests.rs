use super::*;
use std::collections::HashMap;

/// A key whose hash the test picks, to force long runs and wrap-around.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Picked(u32, u64);

impl Key for Picked {
    fn hash(&self) -> u64 {
        self.1
    }
}

fn xorshift(mut seed: u64) -> impl FnMut() -> u64 {
    move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    }
}

/// Random inserts, replacements and removals agree with std's map at every step,
/// with hashes drawn from few values (long runs) and from many.
#[test]
fn behaves_like_a_hash_map() {
    for spread in [1u64, 3, 17, 1 << 40] {
        let mut next = xorshift(0x2545_f491_4f6c_dd1d ^ spread);
        let mut ours: Table<Picked, u64> = Table::new();
        let mut theirs: HashMap<Picked, u64> = HashMap::new();
        for step in 0..4_000u64 {
            let id = (next() % 300) as u32;
            // Hashes near the top wrap around the end of the slots.
            let key = Picked(id, (u64::from(id) % spread).wrapping_add(u64::MAX - 2));
            match next() % 3 {
                0 => assert_eq!(ours.remove(&key), theirs.remove(&key), "{step}"),
                _ => assert_eq!(ours.insert(key.clone(), step), theirs.insert(key, step)),
            }
            assert_eq!(ours.len(), theirs.len());
            if step % 97 == 0 {
                for id in 0..300u32 {
                    let key = Picked(id, (u64::from(id) % spread).wrapping_add(u64::MAX - 2));
                    assert_eq!(ours.get(&key), theirs.get(&key), "{step} {id}");
                    assert_eq!(ours.contains(&key), theirs.contains_key(&key));
                }
                let mut all: Vec<_> = ours.iter().map(|(k, v)| (k.0, *v)).collect();
                let mut expected: Vec<_> = theirs.iter().map(|(k, v)| (k.0, *v)).collect();
                all.sort_unstable();
                expected.sort_unstable();
                assert_eq!(all, expected);
            }
        }
    }
}

#[test]
fn a_set_says_whether_a_key_is_new_and_values_change_in_place() {
    let mut seen: Set<String> = Set::new();
    assert!(seen.is_empty());
    assert!(seen.add("a".to_string()));
    assert!(!seen.add("a".to_string()));
    assert!(seen.contains(&"a".to_string()) && !seen.contains(&"b".to_string()));
    let mut counts: Table<(String, String), usize> = Table::default();
    let key = ("store".to_string(), "hash".to_string());
    assert_eq!(counts.get(&key), None);
    counts.insert(key.clone(), 1);
    *counts.get_mut(&key).unwrap() += 1;
    assert_eq!(counts.get(&key), Some(&2));
    assert_eq!(counts.remove(&key), Some(2));
    assert_eq!(counts.remove(&key), None);
    assert!(counts.is_empty());
    let none: Option<String> = None;
    let mut forks: Set<&Option<String>> = Set::new();
    assert!(forks.add(&none) && !forks.add(&none));
}

#[test]
fn sorts_like_std() {
    let mut next = xorshift(0x9e37_79b9_7f4a_7c15);
    for len in [0usize, 1, 2, 3, 5, 16, 17, 100, 1_000] {
        for modulus in [2u64, 10, u64::MAX] {
            let mut ours: Vec<(u64, u32)> =
                (0..len).map(|i| (next() % modulus, i as u32)).collect();
            let mut theirs = ours.clone();
            sort(&mut ours);
            theirs.sort_unstable();
            assert_eq!(ours, theirs, "{len} {modulus}");
        }
    }
    let mut words = vec!["b", "a", "c", "a"];
    sort(&mut words);
    assert_eq!(words, ["a", "a", "b", "c"]);
}
