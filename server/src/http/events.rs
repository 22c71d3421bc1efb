//! The activity log and the live channel (server-sent events).

use super::error::{ApiError, ApiResult};
use super::extract::ApiQuery;
use super::principal::Principal;
use crate::slots::Slot;
use crate::state::{AppState, MAX_STREAMS_PER_USER};
use axum::Json;
use axum::extract::State;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures_util::{Stream, StreamExt};
use std::convert::Infallible;
use std::time::Duration;
use tokio_stream::wrappers::BroadcastStream;
use vr_app::api::{Event, EventQuery};

/// How often an open stream re-checks that its credential is still valid.
const REVALIDATE: Duration = Duration::from_secs(10);

pub async fn list(
    State(state): State<AppState>,
    _p: Principal,
    ApiQuery(q): ApiQuery<EventQuery>,
) -> ApiResult<Json<Vec<Event>>> {
    Ok(Json(state.store.list_events(q).await?))
}

/// One SSE `message` per [`vr_app::api::LiveMessage`]. A client that falls behind skips what it
/// missed (pages re-read the API on reconnect), and every stream ends when the server stops.
pub async fn stream(
    State(state): State<AppState>,
    p: Principal,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, ApiError> {
    let (slot, ended) = open_stream(&state, p)?;
    let messages = BroadcastStream::new(state.live.subscribe())
        .filter_map(|m| async move { m.ok() })
        .filter_map(|m| async move { SseEvent::default().json_data(m).ok().map(Ok) })
        .take_until(ended)
        // The slot lives as long as the stream does.
        .map(move |m| {
            let _held = &slot;
            m
        });
    Ok(Sse::new(messages).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

/// What ends a live stream.
pub type Ending = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;

/// A live stream's slot among the user's, and the future that ends it: the server stopping,
/// or the credential no longer valid (signed out, token revoked, user disabled).
pub fn open_stream(state: &AppState, p: Principal) -> Result<(Slot<i64>, Ending), ApiError> {
    let slot = state.streams.take(p.user_id).ok_or_else(|| {
        ApiError::TooManyRequests(format!(
            "{} already has {MAX_STREAMS_PER_USER} live streams open; close some tabs",
            p.username
        ))
    })?;
    let mut shutdown = state.shutdown.clone();
    let checker = state.clone();
    let ended = async move {
        let stopping = async {
            // Err means the sender is gone: also a reason to end.
            let _ = shutdown.wait_for(|stopping| *stopping).await;
        };
        let revoked = async {
            let mut tick = tokio::time::interval(REVALIDATE);
            tick.tick().await;
            loop {
                tick.tick().await;
                if !p.still_valid(&checker).await {
                    break;
                }
            }
        };
        tokio::select! {
            () = stopping => {}
            () = revoked => {}
        }
    };
    Ok((slot, Box::pin(ended)))
}
