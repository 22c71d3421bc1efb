//! `GET /api/logs`: the merged live log of the procs a query selects, as server-sent events.

use super::error::ApiError;
use super::events::open_stream;
use super::extract::ApiQuery;
use super::principal::Principal;
use crate::fleet::merged::{self, FollowError};
use crate::state::AppState;
use axum::extract::State;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures_util::{Stream, StreamExt};
use std::convert::Infallible;
use std::time::Duration;
use tokio_stream::wrappers::ReceiverStream;
use vr_app::logs::LogsQuery;

/// One SSE `message` per [`vr_app::logs::LogEvent`]: the procs followed, their history, a
/// `caught_up`, then lines and markers as they come. It ends when the server stops or the
/// credential is revoked; a client that reads too slowly is told what it missed.
pub async fn stream(
    State(state): State<AppState>,
    p: Principal,
    ApiQuery(q): ApiQuery<LogsQuery>,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, ApiError> {
    let (slot, ended) = open_stream(&state, p)?;
    let rx = merged::follow(state.fleet.clone(), state.store.clone(), q).await?;
    let events = ReceiverStream::new(rx)
        .filter_map(|e| async move { SseEvent::default().json_data(e).ok().map(Ok) })
        .take_until(ended)
        // The slot lives as long as the stream does.
        .map(move |m| {
            let _held = &slot;
            m
        });
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

impl From<FollowError> for ApiError {
    fn from(e: FollowError) -> Self {
        match e {
            FollowError::Invalid(i) => i.into(),
            FollowError::Store(s) => s.into(),
        }
    }
}
