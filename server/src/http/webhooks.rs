//! Webhooks: admins only, reads included (a receiver's URL is often itself a credential, e.g. a
//! Slack incoming webhook). The signing secret is answered once, when made.

use super::error::ApiResult;
use super::extract::{ApiJson, ApiPath, ApiQuery};
use super::principal::Principal;
use crate::clock::now_ms;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use vr_app::Role;
use vr_app::api::Outcome;
use vr_app::notify::{
    Delivery, DeliveryQuery, NewWebhook, TestQueued, Webhook, WebhookPatch, WebhookSecret,
};

pub async fn list(State(state): State<AppState>, p: Principal) -> ApiResult<Json<Vec<Webhook>>> {
    p.require(Role::Admin)?;
    Ok(Json(state.store.list_webhooks(now_ms()).await?))
}

pub async fn create(
    State(state): State<AppState>,
    p: Principal,
    ApiJson(new): ApiJson<NewWebhook>,
) -> ApiResult<(StatusCode, Json<WebhookSecret>)> {
    p.require(Role::Admin)?;
    vr_app::notify::validate(&new.name, &new.url, &new.events)?;
    let secret = match new.secret {
        Some(s) => {
            vr_app::notify::check_secret(&s)?;
            s
        }
        None => crate::auth::random_secret(),
    };
    let w = state
        .store
        .create_webhook(
            new.name,
            new.url,
            new.events,
            new.format,
            secret.clone(),
            p.username.clone(),
            now_ms(),
        )
        .await?;
    state
        .record(
            &p.username,
            "webhook.create",
            &format!("webhook:{}", w.name),
            Outcome::Ok,
            &format!("{} for {}", w.url_shown(), events_text(&w)),
        )
        .await;
    Ok((
        StatusCode::CREATED,
        Json(WebhookSecret {
            webhook: w,
            secret: Some(secret),
        }),
    ))
}

pub async fn update(
    State(state): State<AppState>,
    p: Principal,
    ApiPath(name): ApiPath<String>,
    ApiJson(patch): ApiJson<WebhookPatch>,
) -> ApiResult<Json<WebhookSecret>> {
    p.require(Role::Admin)?;
    let current = state.store.webhook(name.clone(), now_ms()).await?;
    vr_app::notify::validate(
        &name,
        patch.url.as_deref().unwrap_or(&current.url),
        patch.events.as_deref().unwrap_or(&current.events),
    )?;
    let secret = patch.new_secret.then(crate::auth::random_secret);
    let w = state
        .store
        .update_webhook(
            name,
            patch.url,
            patch.events,
            patch.format,
            patch.enabled,
            secret.clone(),
            now_ms(),
        )
        .await?;
    let mut said = format!(
        "{} for {}{}",
        w.url_shown(),
        events_text(&w),
        if w.enabled { "" } else { " (disabled)" }
    );
    if secret.is_some() {
        said.push_str("; new signing secret");
    }
    state
        .record(
            &p.username,
            "webhook.update",
            &format!("webhook:{}", w.name),
            Outcome::Ok,
            &said,
        )
        .await;
    Ok(Json(WebhookSecret { webhook: w, secret }))
}

pub async fn delete(
    State(state): State<AppState>,
    p: Principal,
    ApiPath(name): ApiPath<String>,
) -> ApiResult<StatusCode> {
    p.require(Role::Admin)?;
    state.store.delete_webhook(name.clone()).await?;
    state
        .record(
            &p.username,
            "webhook.delete",
            &format!("webhook:{name}"),
            Outcome::Ok,
            "",
        )
        .await;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn test(
    State(state): State<AppState>,
    p: Principal,
    ApiPath(name): ApiPath<String>,
) -> ApiResult<(StatusCode, Json<TestQueued>)> {
    p.require(Role::Admin)?;
    let w = state.store.webhook(name, now_ms()).await?;
    let delivery = state.notifier.send_test(&w, &p.username).await?;
    Ok((StatusCode::ACCEPTED, Json(TestQueued { delivery })))
}

pub async fn deliveries(
    State(state): State<AppState>,
    p: Principal,
    ApiPath(name): ApiPath<String>,
    ApiQuery(q): ApiQuery<DeliveryQuery>,
) -> ApiResult<Json<Vec<Delivery>>> {
    p.require(Role::Admin)?;
    let limit = q.limit.unwrap_or(50).clamp(1, 500);
    Ok(Json(state.store.list_deliveries(name, limit).await?))
}

fn events_text(w: &Webhook) -> String {
    w.events
        .iter()
        .map(|e| e.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}
