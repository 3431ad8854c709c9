//! Crash-safe mutable records on top of Theater 0.2.1's store, whose writes can tear.
//!
//! # What the runtime does (theater-0.2.1 `src/store/mod.rs`)
//! - A label write truncates the label file, then writes the hash (`set_content_ref`,
//!   `fs::write`); an empty label file reads as "no label" (`get_content_ref`). A kill in
//!   between loses the label.
//! - A content file `data/<sha1>` is created and written in place, and its write may
//!   still be in flight when the call returns (tokio's `File::write_all` hands the bytes
//!   to a blocking task), so a kill can leave a torn object, even one a label already
//!   names. A write is skipped when a file with that hash exists, torn or not, so the
//!   same bytes stored again never repair it.
//! - Removing a label deletes its file, which is atomic.
//!
//! # The format
//! A mutable record (the chat index, a chat) lives behind two labels:
//! - `NAME`, the *primary*, names the newest version;
//! - `NAME.b`, the *backup*, names the version before it (or the same one).
//!
//! A write of version v+1 over v first points the backup at v (whose object is known
//! to be whole: it was read and parsed, or, when the actor holds only the bytes it
//! stored, read back first by [`Host::confirm_stored`]), then stores v+1 and points the primary at it
//! (one `replace-content-at-label` call). A kill at any point leaves the primary naming
//! v or v+1, or torn; and whenever the primary is torn, or names a torn object, the
//! backup names v, the last acknowledged version. Readers take the primary when it
//! names an object that parses, else the backup.
//!
//! Every version carries a [`Stamp`] (a revision counter and the time of the write),
//! so no two writes ever store the same bytes and a torn object is never reused.
//! A torn object never parses: it is a proper prefix of a JSON object, whose last
//! byte is its closing brace.
//!
//! Stores written before this format have only the primary; they read as they are,
//! and the first write of each record adds its backup.
//!
//! # Objects written a moment ago can read back short
//! `store` returns before the object's bytes are all in the file: `store_content` ends
//! with tokio's `File::write_all` and no flush, which hands the last chunk to a blocking
//! task and returns. The bench caught it: posting at full speed, the next post read the
//! message object just written as its first 4,096 bytes ("EOF while parsing"), and the
//! file was whole a moment later. So every object is read by [`read_object`], which
//! reads a short object again before calling it torn; without it a chat record read
//! mid-write would have been taken from its backup, one version old.
//!
//! Costs: a read is two host calls (three when the primary is torn); a write is two
//! (one for a record's first version; three when the version before is one the actor
//! stored and has not read back); a removal is two. Objects the actor holds in memory
//! ([`crate::port::cached`]) cost no call to read.
//!
//! Guarantee and limit: this survives the theater-server process being killed at any
//! moment, which is what a crash, `kill -9` or the OOM killer do. It does not survive
//! power loss or a kernel crash: 0.2.1 never calls `fsync`, so the operating system may
//! not have put acknowledged writes on the disk yet.

use crate::json::{Fields, FromJson, Json, JsonError, Object, ToJson};
use crate::port::{Host, HostError};

/// The suffix of a record's backup label.
pub const BACKUP_SUFFIX: &str = ".b";

/// What makes every stored version unique.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stamp {
    /// Counts the writes of this record.
    pub rev: u64,
    /// When it was written (ms). A restart after a crash takes far longer than a
    /// millisecond, so a retried write never repeats the bytes of a torn one.
    pub at: u64,
}

impl ToJson for Stamp {
    fn to_json(&self) -> Json {
        Object::new()
            .with("rev", &self.rev)
            .with("at", &self.at)
            .build()
    }
}

impl FromJson for Stamp {
    fn from_json(value: Json) -> Result<Self, JsonError> {
        let mut f = Fields::of(value, "a write stamp")?;
        Ok(Self {
            rev: f.take("rev")?,
            at: f.take("at")?,
        })
    }
}

/// A record type kept behind a label pair.
pub trait Record: ToJson + FromJson {
    fn stamp(&self) -> Stamp;
    fn set_stamp(&mut self, stamp: Stamp);
}

/// A record as read, with where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loaded<T> {
    pub value: T,
    /// The hash of the stored version.
    pub hash: String,
    /// It came from the backup: the primary was torn or named a torn object.
    pub from_backup: bool,
}

/// Why a slot gave nothing usable.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Slot<T> {
    Missing,
    Torn(String),
    Good(String, T),
}

/// Reads of an object that keeps reading back short before it counts as torn: each is
/// one host call (about 0.05 ms), far longer than the write still in flight takes, and
/// a torn object, which only a crash leaves, costs them once.
pub const READ_ATTEMPTS: u32 = 32;

/// Why an object could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ObjectError {
    #[error(transparent)]
    Missing(#[from] HostError),
    #[error("{0}")]
    Unreadable(JsonError),
}

/// Reads and parses the JSON object `hash`, reading it again while it reads back short
/// (see the module's notes): a proper prefix of a JSON value never parses, and fails
/// at its end.
pub fn read_object<H: Host, T: FromJson>(
    host: &H,
    store_id: &str,
    hash: &str,
) -> Result<T, ObjectError> {
    let json = read_whole(host, store_id, hash, crate::json::parse)?;
    T::from_json(json).map_err(ObjectError::Unreadable)
}

/// Reads the object `hash` as [`read_object`] does, until it is whole, and keeps
/// nothing of it (a write confirmed on disk).
pub fn confirm_whole<H: Host>(host: &H, store_id: &str, hash: &str) -> Result<(), ObjectError> {
    read_whole(host, store_id, hash, crate::json::check)
}

/// The object `hash` through `parse`, read again while it reads back short.
fn read_whole<H: Host, R>(
    host: &H,
    store_id: &str,
    hash: &str,
    parse: fn(&[u8]) -> Result<R, crate::json::ParseError>,
) -> Result<R, ObjectError> {
    let mut attempt = 1;
    loop {
        let bytes = host.store_get(store_id, hash)?;
        match parse(&bytes) {
            Ok(parsed) => return Ok(parsed),
            Err(error) if error.is_eof() && attempt < READ_ATTEMPTS => attempt += 1,
            Err(error) => return Err(ObjectError::Unreadable(error.into())),
        }
    }
}

pub fn backup_label(label: &str) -> String {
    format!("{label}{BACKUP_SUFFIX}")
}

/// A hex content hash as the store hands them out; anything else is a torn label.
fn whole_hash(hash: &str) -> bool {
    hash.len() == 40 && hash.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Records of one store.
pub struct Records<'a, H: Host> {
    host: &'a H,
    store_id: &'a str,
}

impl<'a, H: Host> Records<'a, H> {
    pub fn new(host: &'a H, store_id: &'a str) -> Self {
        Self { host, store_id }
    }

    fn slot<T: FromJson>(&self, label: &str) -> Result<Slot<T>, HostError> {
        let Some(hash) = self.host.label_get(self.store_id, label)? else {
            return Ok(Slot::Missing);
        };
        if !whole_hash(&hash) {
            return Ok(Slot::Torn(format!(
                "label {label} holds {}",
                crate::json::quoted(&hash)
            )));
        }
        // A torn object can be missing (never created) as well as short.
        Ok(match read_object(self.host, self.store_id, &hash) {
            Ok(value) => Slot::Good(hash, value),
            Err(ObjectError::Missing(_)) => {
                Slot::Torn(format!("{label} names missing content {hash}"))
            }
            Err(ObjectError::Unreadable(error)) => {
                Slot::Torn(format!("{label} names unreadable content {hash}: {error}"))
            }
        })
    }

    /// The newest readable version, or `None` when the record does not exist.
    /// `Err(Torn)` when both slots are unreadable.
    pub fn read<T: FromJson>(&self, label: &str) -> Result<Option<Loaded<T>>, ReadError> {
        let primary_problem = match self.slot(label)? {
            Slot::Good(hash, value) => {
                return Ok(Some(Loaded {
                    value,
                    hash,
                    from_backup: false,
                }))
            }
            Slot::Missing => None,
            Slot::Torn(problem) => Some(problem),
        };
        match self.slot(&backup_label(label))? {
            Slot::Good(hash, value) => Ok(Some(Loaded {
                value,
                hash,
                from_backup: true,
            })),
            Slot::Missing => match primary_problem {
                None => Ok(None),
                Some(problem) => Err(ReadError::Torn(problem)),
            },
            Slot::Torn(problem) => Err(ReadError::Torn(match primary_problem {
                Some(first) => format!("{first}; {problem}"),
                None => problem,
            })),
        }
    }

    /// Only the backup slot (for recovery, when the primary's content is suspect).
    pub fn read_backup<T: FromJson>(&self, label: &str) -> Result<Option<Loaded<T>>, HostError> {
        Ok(match self.slot(&backup_label(label))? {
            Slot::Good(hash, value) => Some(Loaded {
                value,
                hash,
                from_backup: true,
            }),
            Slot::Missing | Slot::Torn(_) => None,
        })
    }

    /// Writes `value` as the version after the one stored as `previous` (its hash as
    /// read; `None` for a new record) and returns the new hash. `value` must carry the
    /// stamp of the version it was derived from; the next stamp is set here.
    pub fn write<T: Record>(
        &self,
        label: &str,
        value: &mut T,
        previous: Option<&str>,
    ) -> Result<String, HostError> {
        value.set_stamp(Stamp {
            rev: value.stamp().rev.saturating_add(1),
            at: self.host.now_ms(),
        });
        if let Some(previous) = previous {
            // The backup must name a version that is whole on disk, not only in a copy.
            self.host.confirm_stored(self.store_id, previous)?;
            self.host
                .label_set(self.store_id, &backup_label(label), previous)?;
        }
        self.host
            .store_at_label(self.store_id, label, &value.to_json().to_bytes())
    }

    /// Points the primary at a version read from the backup (a repair).
    pub fn restore_primary(&self, label: &str, hash: &str) -> Result<(), HostError> {
        self.host.label_set(self.store_id, label, hash)
    }

    /// Removes both labels; the primary first, so a record is never half there with a
    /// newer backup than primary.
    pub fn remove(&self, label: &str) -> Result<(), HostError> {
        self.host.label_remove(self.store_id, label)?;
        self.host.label_remove(self.store_id, &backup_label(label))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("both copies are unreadable: {0}")]
    Torn(String),
    #[error(transparent)]
    Host(#[from] HostError),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::port::fake::{FakeHost, ALL_TEARS};

    #[derive(Debug, Clone, PartialEq, Eq)]
    struct Note {
        text: String,
        w: Stamp,
    }

    impl ToJson for Note {
        fn to_json(&self) -> Json {
            crate::json::object! { "text": self.text, "w": self.w }
        }
    }

    impl FromJson for Note {
        fn from_json(value: Json) -> Result<Self, JsonError> {
            let mut f = Fields::of(value, "a note")?;
            Ok(Self {
                text: f.take("text")?,
                w: f.take_or_default("w")?,
            })
        }
    }

    impl Record for Note {
        fn stamp(&self) -> Stamp {
            self.w
        }
        fn set_stamp(&mut self, stamp: Stamp) {
            self.w = stamp;
        }
    }

    fn note(text: &str) -> Note {
        Note {
            text: text.into(),
            w: Stamp::default(),
        }
    }

    fn write_three(host: &FakeHost) -> Result<(), HostError> {
        let records = Records::new(host, "s");
        let mut previous: Option<(String, Stamp)> = None;
        for text in ["one", "two", "three"] {
            let mut value = note(text);
            value.w = previous.as_ref().map(|p| p.1).unwrap_or_default();
            host.advance(1);
            let hash = records.write("n", &mut value, previous.as_ref().map(|p| p.0.as_str()))?;
            previous = Some((hash, value.w));
        }
        Ok(())
    }

    #[test]
    fn a_crash_at_any_write_leaves_the_last_acknowledged_version_or_the_new_one() {
        let clean = FakeHost::new();
        write_three(&clean).unwrap();
        let total = clean.writes.get();
        for tear in ALL_TEARS {
            for at in 0..total {
                let host = FakeHost::new();
                host.crash_at(at, tear);
                // Which texts were acknowledged before the crash.
                let mut acked = Vec::new();
                let records = Records::new(&host, "s");
                let mut previous: Option<(String, Stamp)> = None;
                for text in ["one", "two", "three"] {
                    let mut value = note(text);
                    value.w = previous.as_ref().map(|p| p.1).unwrap_or_default();
                    host.advance(1);
                    let result =
                        records.write("n", &mut value, previous.as_ref().map(|p| p.0.as_str()));
                    host.end_of_request();
                    match result {
                        Ok(hash) if !host.dead.get() => {
                            acked.push(text);
                            previous = Some((hash, value.w));
                        }
                        _ => break,
                    }
                }
                let after = host.restarted();
                let read = Records::new(&after, "s").read::<Note>("n");
                // A record whose very first write tore has no good copy: that is an
                // error to report, never an acknowledged version lost.
                if read.is_err() {
                    assert!(acked.is_empty(), "{tear:?} at write {at}: {read:?}");
                    continue;
                }
                let read = read.unwrap();
                let text = read.as_ref().map(|l| l.value.text.as_str());
                let attempted = ["one", "two", "three"].get(acked.len()).copied();
                assert!(
                    text == acked.last().copied() || text == attempted,
                    "{tear:?} at write {at}: read {text:?}, acknowledged {acked:?}"
                );
            }
        }
    }

    #[test]
    fn a_backup_is_never_pointed_at_a_version_that_is_whole_only_in_memory() {
        use crate::port::cached::Cached;
        let host = Cached::new(FakeHost::new());
        let records = Records::new(&host, "s");
        let mut one = note("one");
        let first = records.write("n", &mut one, None).unwrap();
        // The next write comes while the last bytes of "one" are still on their way
        // to the file: it waits for them before the backup names "one".
        host.short_reads.set(2);
        let calls = host.calls.get();
        let mut two = Note {
            text: "two".into(),
            ..one
        };
        host.advance(1);
        let second = records.write("n", &mut two, Some(&first)).unwrap();
        assert_eq!(host.calls.get() - calls, 3 + 2);
        assert_eq!(host.label_get("s", "n.b").unwrap(), Some(first.clone()));
        // "two" never became whole on disk (a kill tore it): the next write is refused
        // and both labels stay as they were, rather than the backup naming it.
        if let Some(bytes) = host
            .content
            .borrow_mut()
            .get_mut("s")
            .unwrap()
            .get_mut(&second)
        {
            bytes.truncate(bytes.len() / 2);
        }
        let mut three = Note {
            text: "three".into(),
            ..two
        };
        host.advance(1);
        assert!(records.write("n", &mut three, Some(&second)).is_err());
        assert_eq!(host.label_get("s", "n.b").unwrap(), Some(first));
        assert_eq!(host.label_get("s", "n").unwrap(), Some(second));
    }

    #[test]
    fn old_single_label_records_read_and_gain_a_backup_on_write() {
        let host = FakeHost::new();
        let hash = host.store_put("s", br#"{"text":"legacy"}"#).unwrap();
        host.label_set("s", "n", &hash).unwrap();
        let records = Records::new(&host, "s");
        let old: Loaded<Note> = records.read("n").unwrap().unwrap();
        assert_eq!(old.value.text, "legacy");
        let mut new = old.value.clone();
        new.text = "new".into();
        records.write("n", &mut new, Some(&old.hash)).unwrap();
        assert_eq!(host.label_get("s", "n.b").unwrap(), Some(hash));
        assert_eq!(new.w.rev, 1);
    }

    #[test]
    fn reads_and_writes_cost_two_host_calls() {
        let host = FakeHost::new();
        write_three(&host).unwrap();
        let records = Records::new(&host, "s");
        let before = host.calls.get();
        let loaded: Loaded<Note> = records.read("n").unwrap().unwrap();
        assert_eq!(host.calls.get() - before, 2);
        let before = host.calls.get();
        records
            .write("n", &mut note("four"), Some(&loaded.hash))
            .unwrap();
        assert_eq!(host.calls.get() - before, 2);
    }

    #[test]
    fn a_version_still_being_written_is_read_again_not_taken_from_the_backup() {
        let host = FakeHost::new();
        write_three(&host).unwrap();
        // Theater acknowledged "three", but its bytes are still reaching the file.
        host.short_reads.set(5);
        let loaded = Records::new(&host, "s").read::<Note>("n").unwrap().unwrap();
        assert_eq!(loaded.value.text, "three");
        assert!(!loaded.from_backup, "one version old would lose a write");
        // One that stays short is torn (only a crash leaves that): the backup, then.
        host.short_reads.set(READ_ATTEMPTS);
        let loaded = Records::new(&host, "s").read::<Note>("n").unwrap().unwrap();
        assert_eq!(
            (loaded.value.text.as_str(), loaded.from_backup),
            ("two", true)
        );
    }

    #[test]
    fn both_copies_torn_is_an_error_not_an_empty_record() {
        let host = FakeHost::new();
        write_three(&host).unwrap();
        host.labels
            .borrow_mut()
            .get_mut("s")
            .unwrap()
            .insert("n".into(), String::new());
        host.labels
            .borrow_mut()
            .get_mut("s")
            .unwrap()
            .insert("n.b".into(), "abc".into());
        assert!(matches!(
            Records::new(&host, "s").read::<Note>("n"),
            Err(ReadError::Torn(_))
        ));
    }
}
