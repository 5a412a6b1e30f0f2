//! Who is asking: viewers by their personal-link token, organisers by a signed-in cookie.
//!
//! Tokens are 192 random bits; only their SHA-256 is stored, so a leaked database does not
//! open anyone's link. Organiser passwords are argon2id hashes. The organiser cookie is
//! HttpOnly, SameSite=Strict and, over https, Secure; organiser routes accept nothing but that
//! cookie, so a viewer's token can never open them. Sign-in is throttled per account here and
//! per client address in `guard.rs`.

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use serde::Deserialize;
use serde_json::{Value, json};

use super::AppState;
use super::access::ClientAddress;
use super::audit;
use super::error::{ApiError, ApiResult};
use super::extract::{Json, NoBody};
use crate::domain::audit::{Action, Actor};
use crate::domain::roles::Role;
use crate::domain::time::MINUTE;

pub const ORGANISER_COOKIE: &str = "yavka_org";

pub use crate::ids::{new_token, token_hash};

pub fn hash_password(password: &str) -> anyhow::Result<String> {
    use argon2::password_hash::PasswordHasher;
    let hash = argon2::Argon2::default()
        .hash_password(password.as_bytes())
        .map_err(|e| anyhow::anyhow!("argon2: {e}"))?;
    Ok(hash.to_string())
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    use argon2::password_hash::PasswordVerifier;
    use argon2::password_hash::phc::PasswordHash;
    PasswordHash::new(hash).is_ok_and(|parsed| {
        argon2::Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// A signed-in organiser, as the access guard (`access.rs`) found them: only routes declared
/// there can extract one, so a handler taking it is always behind the role check.
#[derive(Debug, Clone)]
pub struct Organiser {
    pub login: String,
    /// The account's role at this request.
    pub role: Role,
    /// The client address the request came from, for the audit trail.
    pub address: Option<String>,
}

impl FromRequestParts<AppState> for Organiser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<Organiser>().cloned().ok_or_else(|| {
            ApiError::internal(anyhow::anyhow!(
                "{} {}: a handler wants the organiser but the route has no declared access",
                parts.method,
                parts.uri.path()
            ))
        })
    }
}

#[derive(Deserialize)]
pub struct LoginForm {
    pub login: String,
    pub password: String,
}

pub async fn login(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    jar: CookieJar,
    Json(form): Json<LoginForm>,
) -> ApiResult<(CookieJar, Json<Value>)> {
    state.throttles.login_attempt(&form.login)?;
    let hash = state
        .store
        .organiser_password_hash(form.login.trim())
        .await?;
    // Verify against a dummy hash when the login is unknown, so timing does not tell
    // which logins exist. Argon2 is deliberately slow: keep it off the async workers.
    let password = form.password.clone();
    let ok = tokio::task::spawn_blocking(move || match &hash {
        Some(h) => verify_password(&password, h),
        None => {
            verify_password(&password, dummy_hash());
            false
        }
    })
    .await
    .map_err(ApiError::internal)?;
    if !ok {
        tracing::warn!(login = %form.login, "organiser sign-in refused");
        failed_sign_in(&state, &form.login, address, "wrong_password").await;
        return Err(ApiError::Unauthorized("неверный логин или пароль".into()));
    }
    let account = state
        .store
        .account(form.login.trim(), state.clock.now())
        .await?
        .filter(|a| !a.disabled);
    let Some(role) = account.map(|a| a.role) else {
        tracing::warn!(login = %form.login, "organiser sign-in refused: the account is disabled");
        failed_sign_in(&state, &form.login, address, "disabled").await;
        return Err(ApiError::Forbidden(format!(
            "Учётная запись «{}» отключена. Чтобы её включили, обратитесь к администратору форума.",
            form.login.trim()
        )));
    };
    let token = new_token();
    let hours = state.settings.organiser.session_hours as i64;
    let expires = state.clock.now() + hours * 60 * MINUTE;
    state
        .store
        .insert_login(&token_hash(&token), form.login.trim(), expires)
        .await?;
    // A browser-session cookie; the server enforces the expiry itself. Over https it is
    // `Secure`, so a browser never sends it over plain http (a hostile Wi-Fi could read it).
    let cookie = Cookie::build((ORGANISER_COOKIE, token))
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure_cookies(&state))
        .path("/")
        .build();
    let login = form.login.trim();
    let actor = Actor {
        login: login.to_owned(),
        role: Some(role),
        address,
    };
    audit::record(
        &state,
        actor,
        Action::SignIn,
        "Вход в панель организатора".into(),
        json!({}),
    )
    .await;
    Ok((
        jar.add(cookie),
        Json(json!({ "login": login, "role": role })),
    ))
}

/// Whether people reach the server over https (its public URL says so).
fn secure_cookies(state: &AppState) -> bool {
    state
        .public_url
        .get(..8)
        .is_some_and(|s| s.eq_ignore_ascii_case("https://"))
}

/// Records a refused sign-in under the login that was typed (cut to a sane length).
async fn failed_sign_in(state: &AppState, typed: &str, address: Option<String>, reason: &str) {
    let login: String = typed.trim().chars().take(100).collect();
    let why = match reason {
        "disabled" => "учётная запись отключена",
        _ => "неверный логин или пароль",
    };
    let description = format!("Неудачная попытка входа под логином «{login}»: {why}");
    let actor = Actor {
        login,
        role: None,
        address,
    };
    audit::record(
        state,
        actor,
        Action::SignInFailed,
        description,
        json!({ "reason": reason }),
    )
    .await;
}

/// Ends the sign-in. Only a signed-in organiser can sign out: anyone else gets 401, as from
/// every organiser route, rather than a success that tells them nothing.
pub async fn logout(
    organiser: Organiser,
    State(state): State<AppState>,
    jar: CookieJar,
    _: NoBody,
) -> ApiResult<CookieJar> {
    if let Some(c) = jar.get(ORGANISER_COOKIE) {
        state.store.delete_login(&token_hash(c.value())).await?;
    }
    audit::record(
        &state,
        organiser.actor(),
        Action::SignOut,
        "Выход из панели организатора".into(),
        json!({}),
    )
    .await;
    tracing::info!(organiser = %organiser.login, "organiser signed out");
    let gone = Cookie::build(ORGANISER_COOKIE)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure_cookies(&state));
    Ok(jar.remove(gone))
}

/// Who is signed in, their role and what it allows (the dashboard shows only that).
pub async fn whoami(organiser: Organiser) -> Json<Value> {
    Json(json!({
        "login": organiser.login,
        "role": organiser.role,
        "role_title": organiser.role.title(),
        "permissions": organiser.role.permissions(),
    }))
}

/// An argon2id hash of a random string, used only to spend the same time on unknown logins.
fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password(&new_token()).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_hashed() {
        let a = new_token();
        assert_eq!(a.len(), 48);
        assert_ne!(a, new_token());
        assert_eq!(token_hash(&a).len(), 64);
        assert_ne!(token_hash(&a), a);
    }

    #[test]
    fn passwords_verify_only_themselves() {
        let h = hash_password("correct horse").unwrap();
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("wrong", &h));
        assert!(!verify_password("x", "not a hash"));
    }
}
