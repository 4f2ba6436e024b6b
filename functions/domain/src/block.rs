//! Time the owner blocks in a stylist's day (a break, an errand): nobody can book it, and it
//! is not an appointment (no client, no service, not counted against a daily cap).
//!
//! A block holds the stylist's slot locks like a booking does, so blocking time and the
//! agent booking it cannot both succeed.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::availability::{LOCK_STEP, lock_steps};
use crate::ids::StaffId;

/// The longest block: one working day (32 lock steps fit one transaction with its item).
pub const MAX_BLOCK_MINUTES: i64 = 8 * 60;

/// Why a block was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BlockError {
    /// It must start on a quarter hour and last 15 minutes to 8 hours, in quarter hours.
    #[error("a block starts on a quarter hour and lasts 15 minutes to 8 hours in quarter hours")]
    Shape,
    /// The reason is for the owner; a short note.
    #[error("a block's note is at most 100 characters")]
    Note,
}

/// A stretch of a stylist's time taken out of the book; built only through [`Block::new`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "BlockRaw")]
pub struct Block {
    id: String,
    staff: StaffId,
    start: Timestamp,
    end: Timestamp,
    note: String,
}

#[derive(Deserialize)]
struct BlockRaw {
    id: String,
    staff: StaffId,
    start: Timestamp,
    end: Timestamp,
    #[serde(default)]
    note: String,
}

impl TryFrom<BlockRaw> for Block {
    type Error = BlockError;
    fn try_from(r: BlockRaw) -> Result<Self, Self::Error> {
        Self::new(r.id, r.staff, r.start, r.end, r.note)
    }
}

impl Block {
    /// Builds a block from `start` to `end` for a stylist, refusing a shape the slot locks
    /// cannot carry exactly (a block must hold the time it shows, no more).
    pub fn new(
        id: String,
        staff: StaffId,
        start: Timestamp,
        end: Timestamp,
        note: impl Into<String>,
    ) -> Result<Self, BlockError> {
        let note = note.into().trim().to_owned();
        if note.chars().count() > 100 {
            return Err(BlockError::Note);
        }
        let step = LOCK_STEP.as_secs();
        let length = end.duration_since(start);
        let aligned = start.as_second() % step == 0 && length.as_secs() % step == 0;
        if !aligned || length < LOCK_STEP || length > SignedDuration::from_mins(MAX_BLOCK_MINUTES) {
            return Err(BlockError::Shape);
        }
        Ok(Self {
            id,
            staff,
            start,
            end,
            note,
        })
    }

    /// Returns its id (chosen by the store).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Returns whose time it is.
    pub fn staff(&self) -> &StaffId {
        &self.staff
    }

    /// Returns when it begins.
    pub fn start(&self) -> Timestamp {
        self.start
    }

    /// Returns when it ends (exclusive).
    pub fn end(&self) -> Timestamp {
        self.end
    }

    /// Returns the owner's note ("pauză", "la bancă").
    pub fn note(&self) -> &str {
        &self.note
    }

    /// Returns the lock steps it holds: exactly its time.
    pub fn steps(&self) -> Vec<Timestamp> {
        lock_steps(self.start, self.end).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> Timestamp {
        // 1_800_000_000 is a multiple of 900: a quarter hour.
        Timestamp::from_second(1_800_000_000 + secs).unwrap()
    }

    fn staff() -> StaffId {
        StaffId::parse("ana").unwrap()
    }

    #[test]
    fn a_block_holds_exactly_its_quarter_hours() {
        let b = Block::new("b1".into(), staff(), at(0), at(3600), " pauză ").unwrap();
        assert_eq!(b.steps(), vec![at(0), at(900), at(1800), at(2700)]);
        assert_eq!(b.note(), "pauză");
    }

    #[test]
    fn shapes_the_locks_cannot_carry_are_refused() {
        for (from, to) in [(0, 0), (0, 600), (60, 960), (0, 8 * 3600 + 900), (900, 0)] {
            assert_eq!(
                Block::new("b".into(), staff(), at(from), at(to), ""),
                Err(BlockError::Shape),
                "{from}..{to}"
            );
        }
        assert!(Block::new("b".into(), staff(), at(0), at(8 * 3600), "").is_ok());
        assert_eq!(
            Block::new("b".into(), staff(), at(0), at(900), "x".repeat(101)),
            Err(BlockError::Note)
        );
    }

    #[test]
    fn a_stored_block_is_checked_again_when_read() {
        let json = format!(
            r#"{{"id":"b","staff":"ana","start":"{}","end":"{}"}}"#,
            at(0),
            at(600)
        );
        assert!(serde_json::from_str::<Block>(&json).is_err());
    }
}
