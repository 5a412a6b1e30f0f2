//! Organiser accounts over HTTP: administrators list, create (the generated password is shown
//! once), change roles, disable and enable accounts and reset passwords; every organiser
//! changes their own password. Each change is recorded in the audit trail; a new or reset
//! password and a disabled account end that account's sign-ins (the store does both at once).

use axum::extract::State;
use axum::http::StatusCode;
use axum_extra::extract::CookieJar;
use serde::Deserialize;
use serde_json::{Value, json};

use super::AppState;
use super::audit::record;
use super::auth::{
    ORGANISER_COOKIE, Organiser, hash_password, new_token, token_hash, verify_password,
};
use super::error::{ApiError, ApiResult};
use super::extract::{Json, Path};
use crate::domain::audit::Action;
use crate::domain::roles::{Role, check_login, check_password};
use crate::store::Account;

fn account_json(a: &Account, me: &Organiser) -> Value {
    json!({
        "login": a.login, "role": a.role, "role_title": a.role.title(),
        "disabled": a.disabled, "created_at": a.created_at, "sessions": a.sessions,
        "you": a.login == me.login,
    })
}

fn role_of(code: &str) -> ApiResult<Role> {
    Role::parse(code).ok_or_else(|| {
        ApiError::BadRequest(format!(
            "Роли «{code}» нет: admin (администратор), moderator (модератор) или auditor (аудитор)."
        ))
    })
}

fn no_account(login: &str) -> ApiError {
    ApiError::NotFound(format!("Учётной записи «{login}» нет."))
}

/// A generated password: 20 hex characters (80 random bits), like the command line's.
fn new_password() -> String {
    new_token()[..20].to_owned()
}

/// Argon2 is deliberately slow: off the async workers.
async fn hash(password: String) -> ApiResult<String> {
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)
}

/// `GET /api/org/accounts`
pub async fn list(me: Organiser, State(state): State<AppState>) -> ApiResult<Json<Value>> {
    let accounts = state.store.accounts(state.clock.now()).await?;
    Ok(Json(json!({
        "accounts": accounts.iter().map(|a| account_json(a, &me)).collect::<Vec<_>>(),
        "roles": Role::ALL.map(|r| json!({ "code": r, "title": r.title() })),
    })))
}

#[derive(Deserialize)]
pub struct NewAccount {
    #[serde(default)]
    pub login: String,
    #[serde(default)]
    pub role: String,
}

/// `POST /api/org/accounts {login, role}`: the answer holds the password, shown this once.
pub async fn create(
    me: Organiser,
    State(state): State<AppState>,
    Json(form): Json<NewAccount>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let login = check_login(&form.login)
        .map_err(ApiError::BadRequest)?
        .to_owned();
    let role = role_of(&form.role)?;
    let password = new_password();
    let hashed = hash(password.clone()).await?;
    state
        .store
        .insert_organiser_as(&login, &hashed, role, state.clock.now())
        .await?;
    record(
        &state,
        me.actor(),
        Action::AccountCreated,
        format!("Создана учётная запись «{login}», роль «{}»", role.title()),
        json!({ "login": login, "role": role }),
    )
    .await;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "login": login, "role": role, "password": password,
            "message": format!(
                "Учётная запись «{login}» ({}) создана. Пароль показан один раз: передайте его \
                 владельцу, он сменит его в разделе «Моя учётная запись».",
                role.title()
            ),
        })),
    ))
}

#[derive(Deserialize)]
pub struct RoleForm {
    #[serde(default)]
    pub role: String,
}

/// `POST /api/org/accounts/{login}/role {role}`: takes effect at the account's next request.
pub async fn set_role(
    me: Organiser,
    State(state): State<AppState>,
    Path(login): Path<String>,
    Json(form): Json<RoleForm>,
) -> ApiResult<Json<Value>> {
    let role = role_of(&form.role)?;
    let changed = state
        .store
        .set_role(&login, role)
        .await?
        .ok_or_else(|| no_account(&login))?;
    let message = if changed.before == role {
        format!("У «{login}» уже роль «{}».", role.title())
    } else {
        record(
            &state,
            me.actor(),
            Action::RoleChanged,
            format!(
                "Роль «{login}»: «{}» → «{}»",
                changed.before.title(),
                role.title()
            ),
            json!({ "login": login, "before": changed.before, "after": role }),
        )
        .await;
        format!("Теперь у «{login}» роль «{}».", role.title())
    };
    Ok(Json(
        json!({ "login": login, "role": role, "message": message }),
    ))
}

/// `POST /api/org/accounts/{login}/disable`: the account cannot sign in and its sign-ins end.
pub async fn disable(
    me: Organiser,
    State(state): State<AppState>,
    Path(login): Path<String>,
) -> ApiResult<Json<Value>> {
    if login == me.login {
        return Err(ApiError::Conflict(
            "Свою учётную запись отключить нельзя: попросите другого администратора.".into(),
        ));
    }
    switch(me, state, login, true).await
}

/// `POST /api/org/accounts/{login}/enable`
pub async fn enable(
    me: Organiser,
    State(state): State<AppState>,
    Path(login): Path<String>,
) -> ApiResult<Json<Value>> {
    switch(me, state, login, false).await
}

async fn switch(
    me: Organiser,
    state: AppState,
    login: String,
    disabled: bool,
) -> ApiResult<Json<Value>> {
    let changed = state
        .store
        .set_disabled(&login, disabled)
        .await?
        .ok_or_else(|| no_account(&login))?;
    let message = match (changed.before, disabled) {
        (true, true) => format!("Учётная запись «{login}» уже отключена."),
        (false, false) => format!("Учётная запись «{login}» уже включена."),
        (false, true) => {
            record(
                &state,
                me.actor(),
                Action::AccountDisabled,
                format!(
                    "Учётная запись «{login}» отключена; завершено входов: {}",
                    changed.sessions_ended
                ),
                json!({ "login": login, "sessions_ended": changed.sessions_ended }),
            )
            .await;
            format!("Учётная запись «{login}» отключена: войти под ней нельзя, её входы завершены.")
        }
        (true, false) => {
            record(
                &state,
                me.actor(),
                Action::AccountEnabled,
                format!("Учётная запись «{login}» включена"),
                json!({ "login": login }),
            )
            .await;
            format!("Учётная запись «{login}» включена: под ней снова можно войти.")
        }
    };
    Ok(Json(
        json!({ "login": login, "disabled": disabled, "message": message }),
    ))
}

/// `POST /api/org/accounts/{login}/password`: a new generated password (shown once); every
/// sign-in of that account ends.
pub async fn reset_password(
    me: Organiser,
    State(state): State<AppState>,
    Path(login): Path<String>,
) -> ApiResult<Json<Value>> {
    if login == me.login {
        return Err(ApiError::Conflict(
            "Свой пароль меняйте в разделе «Моя учётная запись»: там нужен текущий пароль.".into(),
        ));
    }
    let password = new_password();
    let hashed = hash(password.clone()).await?;
    let changed = state
        .store
        .set_password(&login, &hashed, None)
        .await?
        .ok_or_else(|| no_account(&login))?;
    record(
        &state,
        me.actor(),
        Action::PasswordReset,
        format!(
            "Сброшен пароль «{login}»; завершено входов: {}",
            changed.sessions_ended
        ),
        json!({ "login": login, "sessions_ended": changed.sessions_ended }),
    )
    .await;
    Ok(Json(json!({
        "login": login, "password": password,
        "message": format!(
            "Новый пароль «{login}» показан один раз: передайте его владельцу. Все входы под \
             этой учётной записью завершены."
        ),
    })))
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    pub current: String,
    #[serde(default, rename = "new")]
    pub new_password: String,
}

/// `POST /api/org/password {current, new}`: a person changes their own password; their other
/// sign-ins end, this one goes on.
pub async fn change_own(
    me: Organiser,
    State(state): State<AppState>,
    jar: CookieJar,
    Json(form): Json<PasswordForm>,
) -> ApiResult<Json<Value>> {
    check_password(&form.new_password).map_err(|m| ApiError::Invalid {
        message: "Новый пароль не подходит.".into(),
        fields: vec![crate::domain::registration::FieldError {
            field: "new",
            message: m,
        }],
    })?;
    let stored = state.store.organiser_password_hash(&me.login).await?;
    let current = form.current.clone();
    let ok =
        tokio::task::spawn_blocking(move || stored.is_some_and(|h| verify_password(&current, &h)))
            .await
            .map_err(ApiError::internal)?;
    if !ok {
        return Err(ApiError::Invalid {
            message: "Текущий пароль введён неверно; пароль не изменён.".into(),
            fields: vec![crate::domain::registration::FieldError {
                field: "current",
                message: "Неверный текущий пароль.".into(),
            }],
        });
    }
    let hashed = hash(form.new_password.clone()).await?;
    let keep = jar.get(ORGANISER_COOKIE).map(|c| token_hash(c.value()));
    let changed = state
        .store
        .set_password(&me.login, &hashed, keep.as_deref())
        .await?
        .ok_or_else(|| no_account(&me.login))?;
    record(
        &state,
        me.actor(),
        Action::PasswordChanged,
        format!(
            "Пароль сменён владельцем учётной записи «{}»; завершено других входов: {}",
            me.login, changed.sessions_ended
        ),
        json!({ "login": me.login, "sessions_ended": changed.sessions_ended }),
    )
    .await;
    Ok(Json(json!({
        "sessions_ended": changed.sessions_ended,
        "message": match changed.sessions_ended {
            0 => "Пароль изменён.".to_owned(),
            n => format!("Пароль изменён. Завершены другие входы под вашей учётной записью: {n}."),
        },
    })))
}
