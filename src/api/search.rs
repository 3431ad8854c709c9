//! `GET /api/search`: the query and cursor checked, the scan run, the results as JSON.

use crate::chats::search::{self, Cursor, Found, Hit, Query, BUDGET};
use crate::chats::{ChatStore, StoreError};
use crate::http::{self, ApiError, Request};
use crate::json::{object, Json, Object};
use crate::port::{Host, HttpResponse};

/// Longest search text, in characters, after trimming.
pub const MAX_QUERY_CHARS: usize = 200;

/// The search text: trimmed, 1 to [`MAX_QUERY_CHARS`] characters, no control characters.
pub fn query(request: &Request) -> Result<Query, ApiError> {
    let text = request
        .query("q")
        .ok_or_else(|| {
            ApiError::bad_request("the query parameter \"q\" (the text to find) is required")
        })?
        .trim();
    if text.chars().any(char::is_control) {
        return Err(ApiError::bad_request(
            "the search text must not contain control characters (line breaks, tabs, ...)",
        ));
    }
    let length = text.chars().count();
    if length > MAX_QUERY_CHARS {
        return Err(ApiError::bad_request(format!(
            "the search text is {length} characters long; the most is {MAX_QUERY_CHARS}"
        )));
    }
    Query::new(text).ok_or_else(|| ApiError::bad_request("the search text is empty"))
}

/// `before`, a `next` an earlier answer gave.
fn cursor(request: &Request) -> Result<Option<Cursor>, ApiError> {
    request
        .query("before")
        .map(|text| {
            Cursor::parse(text).ok_or_else(|| {
                ApiError::bad_request(format!(
                    "before must be a \"next\" this search returned, not {}",
                    crate::json::quoted(text)
                ))
            })
        })
        .transpose()
}

pub fn answer<H: Host>(
    host: &H,
    store: &ChatStore<'_, H>,
    request: &Request,
) -> Result<HttpResponse, ApiError> {
    let query = query(request)?;
    let from = cursor(request)?;
    // Only a resumed branch that cannot start (its message is not there, or another
    // chat's) reports these: the cursor was not one this search gave.
    let outcome =
        search::search(store, &query, from.as_ref(), &BUDGET).map_err(|error| match error {
            StoreError::MessageNotFound(_) | StoreError::WrongChat { .. } => ApiError::bad_request(
                format!("before must be a \"next\" this search returned: {error}"),
            ),
            other => ApiError::from(other),
        })?;
    for (chat, problem) in &outcome.unreadable {
        // Ids and the store's words only: never the query or any content.
        host.log(&format!("chat: search skipped {chat}: {problem}"));
    }
    let results: Vec<Json> = outcome.results.iter().map(found_view).collect();
    let view = Object::new()
        .with("results", &results)
        .with("scanned_chats", &outcome.scanned_chats)
        .with("scanned_messages", &outcome.scanned_messages)
        .some("next", &outcome.next.as_ref().map(Cursor::encode))
        .build();
    Ok(http::json(200, &view))
}

fn found_view(found: &Found) -> Json {
    let matches: Vec<Json> = found.matches.iter().map(hit_view).collect();
    Object::new()
        .with("chat", &found.chat)
        .with("title", &found.title)
        .with("created_at", &found.created_at)
        .with("title_match", &found.title_match)
        .with("matches", &matches)
        .unless(!found.continued, "continued", &true)
        .build()
}

fn hit_view(hit: &Hit) -> Json {
    object! { "message": hit.message, "role": hit.role, "snippet": hit.snippet }
}

#[cfg(test)]
#[path = "search_tests.rs"]
mod tests;
