//! Fitting a conversation into a model's context window: the oldest turns are left
//! out (the system prompt is always sent), and the caller records how many, so the
//! page can say so.
//!
//! Token counts are estimated without a tokenizer, on the safe side: a token per three
//! bytes of UTF-8 (English averages about four characters a token, Chinese or Japanese
//! one character of three bytes), plus a few tokens of framing per turn.

use crate::catalog::ModelEntry;
use crate::chats::Role;
use crate::providers::{Settings, Turn};

/// Tokens of role markers and separators each turn costs.
const TURN_OVERHEAD: u64 = 4;
/// What is kept free for the reply when neither the chat nor the catalog says.
const DEFAULT_REPLY_TOKENS: u64 = 4096;

pub fn estimate_tokens(text: &str) -> u64 {
    (text.len() as u64).div_ceil(3)
}

fn turn_tokens(turn: &Turn) -> u64 {
    estimate_tokens(&turn.content).saturating_add(TURN_OVERHEAD)
}

/// What was sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fitted {
    pub turns: Vec<Turn>,
    /// Turns of the given conversation left out, oldest first.
    pub dropped: usize,
}

/// The last user turn alone does not fit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TooLong {
    pub needed: u64,
    pub available: u64,
}

/// Tokens the conversation may take: the window, less the reply and system prompt.
pub fn budget(model: &ModelEntry, settings: &Settings) -> Option<u64> {
    let window = model.context_window?;
    let reply = settings
        .max_tokens
        .map(u64::from)
        .or(model.max_output_tokens.map(u64::from))
        .unwrap_or(DEFAULT_REPLY_TOKENS)
        // A model whose output limit is most of its window still gets to read.
        .min(window / 2);
    let system = settings
        .system_prompt()
        .map(|s| estimate_tokens(s).saturating_add(TURN_OVERHEAD))
        .unwrap_or(0);
    Some(window.saturating_sub(reply).saturating_sub(system))
}

/// Keeps the newest turns whose estimate fits in `budget` (all of them without one).
/// The kept conversation starts with a user turn, as every provider requires.
pub fn fit(turns: Vec<Turn>, budget: Option<u64>) -> Result<Fitted, TooLong> {
    let Some(budget) = budget else {
        return Ok(Fitted { turns, dropped: 0 });
    };
    let mut used: u64 = 0;
    let mut keep = 0;
    for turn in turns.iter().rev() {
        let cost = turn_tokens(turn);
        if used.saturating_add(cost) > budget {
            break;
        }
        used = used.saturating_add(cost);
        keep += 1;
    }
    if keep == 0 {
        let needed = turns.last().map(turn_tokens).unwrap_or(0);
        return Err(TooLong {
            needed,
            available: budget,
        });
    }
    let mut start = turns.len().saturating_sub(keep);
    while turns
        .get(start)
        .is_some_and(|turn| turn.role != Role::User && start + 1 < turns.len())
    {
        start += 1;
    }
    let mut turns = turns;
    let kept = turns.split_off(start);
    Ok(Fitted {
        turns: kept,
        dropped: start,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn turn(role: Role, chars: usize) -> Turn {
        Turn {
            role,
            content: "x".repeat(chars),
        }
    }

    fn model(window: u64, output: u32) -> ModelEntry {
        ModelEntry {
            id: "m".into(),
            name: "M".into(),
            context_window: Some(window),
            max_output_tokens: Some(output),
            input_price: None,
            output_price: None,
        }
    }

    #[test]
    fn a_conversation_that_fits_is_sent_whole() {
        let turns = vec![turn(Role::User, 30), turn(Role::Assistant, 30)];
        let fitted = fit(turns.clone(), Some(1000)).unwrap();
        assert_eq!(fitted, Fitted { turns, dropped: 0 });
        let unknown = fit(vec![turn(Role::User, 1_000_000)], None).unwrap();
        assert_eq!(unknown.dropped, 0);
    }

    #[test]
    fn the_oldest_turns_go_first_and_the_kept_part_starts_with_the_user() {
        // Each turn is 300 bytes: 100 tokens + 4.
        let turns: Vec<Turn> = (0..10)
            .map(|i| {
                turn(
                    if i % 2 == 0 {
                        Role::User
                    } else {
                        Role::Assistant
                    },
                    300,
                )
            })
            .collect();
        // Room for 3 turns: the newest 3 start with an assistant turn, so 2 are kept.
        let fitted = fit(turns.clone(), Some(3 * 104)).unwrap();
        assert_eq!(fitted.dropped, 8);
        assert_eq!(fitted.turns.len(), 2);
        assert_eq!(fitted.turns.first().unwrap().role, Role::User);
        assert_eq!(fitted.turns, turns[8..].to_vec());
    }

    #[test]
    fn a_last_message_longer_than_the_window_is_refused_with_sizes() {
        let turns = vec![turn(Role::User, 3_000)];
        assert_eq!(
            fit(turns, Some(500)),
            Err(TooLong {
                needed: 1004,
                available: 500
            })
        );
    }

    #[test]
    fn the_budget_keeps_room_for_the_reply_and_the_system_prompt() {
        let settings = Settings::default();
        assert_eq!(budget(&model(8192, 1024), &settings), Some(8192 - 1024));
        // An output limit bigger than half the window keeps half for reading.
        assert_eq!(budget(&model(8192, 8192), &settings), Some(4096));
        let settings = Settings {
            system: Some("y".repeat(300)),
            max_tokens: Some(100),
            temperature: None,
        };
        assert_eq!(
            budget(&model(8192, 1024), &settings),
            Some(8192 - 100 - 104)
        );
        let mut unknown = model(1, 1);
        unknown.context_window = None;
        assert_eq!(budget(&unknown, &settings), None);
    }

    #[test]
    fn multibyte_text_counts_more_tokens_per_character() {
        assert_eq!(estimate_tokens("abc"), 1);
        assert_eq!(estimate_tokens("日本語"), 3);
    }
}
