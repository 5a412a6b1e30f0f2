//! Who may call which organiser endpoint, declared where the endpoint is routed.
//!
//! Organiser routes are added through [`OrgRoutes`], which takes each endpoint's [`Access`]
//! beside its handler and keeps the list ([`OrgRoutes::endpoints`], which the role tests walk).
//! One guard on the whole organiser router then signs the caller in from their cookie (the
//! account's role as it is now, so a changed role or a disabled account takes effect at the
//! next request), checks the permission, and hands the handler an [`Organiser`]. A refusal is
//! a 403 with a Russian sentence, a warning in the log and an entry in the audit trail.
//!
//! Nothing is served without a declaration: a route is added only through [`OrgRoutes`], a
//! request whose route or method is not in the table is refused, and a handler that takes an
//! [`Organiser`] on a route outside the guard gets none and fails (500, logged as a bug).

use std::sync::Arc;

use axum::Router;
use axum::extract::{FromRequestParts, MatchedPath, OriginalUri, Request, State};
use axum::handler::Handler;
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, delete, get, post, put};
use axum_extra::extract::CookieJar;
use serde_json::json;

use super::AppState;
use super::audit;
use super::auth::{ORGANISER_COOKIE, Organiser, token_hash};
use super::error::ApiError;
use crate::domain::audit::{Action, Actor};
use crate::domain::roles::{Permission, Role};

/// What an endpoint requires of its caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone (signing in).
    Public,
    /// Any signed-in organiser, whatever their role (their own account, signing out).
    SignedIn,
    /// A signed-in organiser whose role has this permission.
    Needs(Permission),
}

impl Access {
    /// Whether a caller with `role` (`None`: signed out) passes.
    pub fn admits(self, role: Option<Role>) -> bool {
        match (self, role) {
            (Access::Public, _) => true,
            (_, None) => false,
            (Access::SignedIn, Some(_)) => true,
            (Access::Needs(p), Some(r)) => r.may(p),
        }
    }
}

/// One declared organiser endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub method: Method,
    /// The full path as routed, e.g. `/api/org/viewers/{id}/link`.
    pub path: String,
    pub access: Access,
}

/// The organiser router under construction, with each endpoint's declared access.
pub struct OrgRoutes {
    prefix: &'static str,
    router: Router<AppState>,
    endpoints: Vec<Endpoint>,
}

impl OrgRoutes {
    /// Routes to be nested at `prefix` (`/api/org`).
    pub fn new(prefix: &'static str) -> OrgRoutes {
        OrgRoutes {
            prefix,
            router: Router::new(),
            endpoints: Vec::new(),
        }
    }

    pub fn get<H: Handler<T, AppState>, T: 'static>(
        self,
        path: &str,
        access: Access,
        handler: H,
    ) -> Self {
        self.add(Method::GET, path, access, get(handler))
    }

    pub fn post<H: Handler<T, AppState>, T: 'static>(
        self,
        path: &str,
        access: Access,
        handler: H,
    ) -> Self {
        self.add(Method::POST, path, access, post(handler))
    }

    pub fn put<H: Handler<T, AppState>, T: 'static>(
        self,
        path: &str,
        access: Access,
        handler: H,
    ) -> Self {
        self.add(Method::PUT, path, access, put(handler))
    }

    pub fn delete<H: Handler<T, AppState>, T: 'static>(
        self,
        path: &str,
        access: Access,
        handler: H,
    ) -> Self {
        self.add(Method::DELETE, path, access, delete(handler))
    }

    fn add(
        mut self,
        method: Method,
        path: &str,
        access: Access,
        route: MethodRouter<AppState>,
    ) -> Self {
        self.endpoints.push(Endpoint {
            method,
            path: format!("{}{path}", self.prefix),
            access,
        });
        self.router = self.router.route(path, route);
        self
    }

    pub fn endpoints(&self) -> &[Endpoint] {
        &self.endpoints
    }

    /// The router with the guard on every route.
    pub fn into_router(self, state: AppState) -> Router<AppState> {
        let table: Arc<[Endpoint]> = self.endpoints.into();
        self.router
            .route_layer(from_fn_with_state((state, table), guard))
    }
}

/// What the table says about a routed request.
#[derive(Debug, PartialEq, Eq)]
enum Lookup<'a> {
    Declared(&'a Endpoint),
    /// The path is declared, not for this method: 405 (an undeclared method never reaches a
    /// handler, whatever the router holds).
    OtherMethods(Vec<&'a str>),
    /// Not declared at all: a bug, refused.
    Undeclared,
}

fn lookup<'a>(table: &'a [Endpoint], method: &Method, route: &str) -> Lookup<'a> {
    if let Some(e) = table.iter().find(|e| e.method == method && e.path == route) {
        return Lookup::Declared(e);
    }
    let others: Vec<&str> = table
        .iter()
        .filter(|e| e.path == route)
        .map(|e| e.method.as_str())
        .collect();
    if others.is_empty() {
        Lookup::Undeclared
    } else {
        Lookup::OtherMethods(others)
    }
}

/// The guard: runs after routing (a route layer), so the matched route is known.
async fn guard(
    State((state, table)): State<(AppState, Arc<[Endpoint]>)>,
    mut request: Request,
    next: Next,
) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned())
        .unwrap_or_default();
    // HEAD is served by GET handlers.
    let method = match request.method() {
        &Method::HEAD => Method::GET,
        m => m.clone(),
    };
    let endpoint = match lookup(&table, &method, &route) {
        Lookup::Declared(e) => e,
        Lookup::OtherMethods(allowed) => {
            let message = format!(
                "Этот адрес не принимает запросы {method}: только {}.",
                allowed.join(", ")
            );
            return (
                StatusCode::METHOD_NOT_ALLOWED,
                axum::Json(json!({ "error": message })),
            )
                .into_response();
        }
        Lookup::Undeclared => {
            return ApiError::internal(anyhow::anyhow!(
                "organiser route {method} {route} has no declared access; refused"
            ))
            .into_response();
        }
    };
    if endpoint.access == Access::Public {
        return next.run(request).await;
    }
    let address = client_address(&state, request.headers(), request.extensions());
    // Only owned values cross an await: a `&Request` is not `Send`.
    let cookie = CookieJar::from_headers(request.headers())
        .get(ORGANISER_COOKIE)
        .map(|c| c.value().to_owned());
    let organiser = match signed_in(&state, cookie.as_deref()).await {
        Ok(Some(o)) => Organiser { address, ..o },
        Ok(None) => return unauthorized(cookie.is_some()).into_response(),
        Err(e) => return e.into_response(),
    };
    if let Access::Needs(permission) = endpoint.access
        && !organiser.role.may(permission)
    {
        // Inside the nested router the URI has lost its `/api/org` prefix; the original has it.
        let path = request
            .extensions()
            .get::<OriginalUri>()
            .map_or(request.uri().path(), |u| u.path())
            .to_owned();
        return refuse(&state, &organiser, permission, &method, path).await;
    }
    request.extensions_mut().insert(organiser);
    next.run(request).await
}

/// The organiser of the request's cookie, if it names a live sign-in of an enabled account.
async fn signed_in(state: &AppState, cookie: Option<&str>) -> Result<Option<Organiser>, ApiError> {
    let Some(cookie) = cookie else {
        return Ok(None);
    };
    let now = state.clock.now();
    Ok(state
        .store
        .signed_in(&token_hash(cookie), now)
        .await?
        .map(|s| Organiser {
            login: s.login,
            role: s.role,
            address: None,
        }))
}

fn unauthorized(has_cookie: bool) -> ApiError {
    ApiError::Unauthorized(if has_cookie {
        "Сеанс организатора закончился: войдите снова".into()
    } else {
        "Войдите как организатор".into()
    })
}

/// 403, logged with who and where, and recorded in the audit trail.
async fn refuse(
    state: &AppState,
    organiser: &Organiser,
    permission: Permission,
    method: &Method,
    path: String,
) -> Response {
    let message = permission.refusal(organiser.role);
    tracing::warn!(
        organiser = %organiser.login,
        role = organiser.role.code(),
        %method,
        path,
        "organiser request refused: the role lacks the permission"
    );
    audit::record(
        state,
        organiser.actor(),
        Action::AccessDenied,
        format!(
            "Отказано в доступе: {method} {path} — роль «{}» не может {}",
            organiser.role.title(),
            permission.doing()
        ),
        json!({ "method": method.as_str(), "path": path, "permission": permission }),
    )
    .await;
    ApiError::Forbidden(message).into_response()
}

/// The client address as the server sees it: the socket's peer.
pub fn client_address(
    state: &AppState,
    headers: &axum::http::HeaderMap,
    extensions: &axum::http::Extensions,
) -> Option<String> {
    super::throttle::client_ip_of(state, headers, extensions).map(|ip| ip.to_string())
}

/// The request's client address, for public routes that record who tried (signing in).
pub struct ClientAddress(pub Option<String>);

impl FromRequestParts<AppState> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(ClientAddress(client_address(
            state,
            &parts.headers,
            &parts.extensions,
        )))
    }
}

impl Organiser {
    /// This organiser as the audit trail names them.
    pub fn actor(&self) -> Actor {
        Actor {
            login: self.login.clone(),
            role: Some(self.role),
            address: self.address.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_declared_routes_and_methods_pass() {
        let endpoint = |method: Method, path: &str, p: Permission| Endpoint {
            method,
            path: path.into(),
            access: Access::Needs(p),
        };
        let table = [
            endpoint(Method::GET, "/api/org/audit", Permission::Audit),
            endpoint(Method::POST, "/api/org/accounts", Permission::Accounts),
            endpoint(Method::GET, "/api/org/accounts", Permission::Accounts),
        ];
        assert_eq!(
            lookup(&table, &Method::GET, "/api/org/audit"),
            Lookup::Declared(&table[0])
        );
        assert_eq!(
            lookup(&table, &Method::DELETE, "/api/org/accounts"),
            Lookup::OtherMethods(vec!["POST", "GET"])
        );
        assert_eq!(
            lookup(&table, &Method::GET, "/api/org/secret"),
            Lookup::Undeclared
        );
    }

    #[test]
    fn access_admits_by_role() {
        let audit = Access::Needs(Permission::Audit);
        assert!(audit.admits(Some(Role::Auditor)));
        assert!(!audit.admits(Some(Role::Moderator)));
        assert!(!audit.admits(None));
        assert!(Access::SignedIn.admits(Some(Role::Moderator)));
        assert!(!Access::SignedIn.admits(None));
        assert!(Access::Public.admits(None));
    }
}
