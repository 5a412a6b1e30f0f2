//! The browser pages: `web/` embedded in the binary, so a forum runs offline from one file.
//!
//! `/` is the programme and registration, `/watch` the personal-link player (or, for a link
//! that does not work, a page that says so and sends the link again), `/link` that page on its
//! own, `/texts/{kind}` the consent texts, `/my` the viewer's own results, `/org` the
//! organiser's dashboard; `/assets/*` and `/vendor/*` are their scripts, styles and the
//! vendored hls.js and uPlot; `/favicon.svg` (also answered at `/favicon.ico`, where browsers
//! look by default) the icon. Any other address gets [`not_found`]: a Russian page, or JSON
//! under `/api/`. HTML is `no-cache` so a redeploy reaches every open browser at
//! its next load; every file carries an ETag, so revalidating costs a 304, not the file.
//!
//! In debug builds rust-embed reads the files from disk at request time (edit and reload);
//! release builds carry them inside the binary.

use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use rust_embed::Embed;

use super::AppState;
use super::auth::token_hash;
use super::evidence::page_cookie;
use super::pick::Picked;
use crate::domain::consent::ConsentKind;
use axum_extra::extract::CookieJar;

/// npm's working files live in `web/` too; only what the pages load is embedded. (The
/// exclusions need rust-embed's `include-exclude` feature; without it they are ignored.)
#[derive(Embed)]
#[folder = "web/"]
#[exclude = "node_modules/*"]
#[exclude = "package*.json"]
struct Web;

/// Asset URLs carry no content hash, so they are cached briefly and then revalidated.
const ASSET_CACHE: &str = "public, max-age=300, must-revalidate";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/",
            get(|h: HeaderMap| async move { serve(&h, "index.html", "no-cache") }),
        )
        .route("/watch", get(watch))
        .route(
            "/link",
            get(|h: HeaderMap| async move { serve(&h, "link.html", "no-cache") }),
        )
        .route(
            "/texts/{kind}",
            get(|h: HeaderMap, Path(kind): Path<String>| async move {
                match ConsentKind::parse(&kind) {
                    Some(_) => serve(&h, "text.html", "no-cache"),
                    None => (StatusCode::NOT_FOUND, "не найдено").into_response(),
                }
            }),
        )
        .route(
            "/my",
            get(|h: HeaderMap| async move { serve(&h, "my.html", "no-cache") }),
        )
        .route(
            "/org",
            get(|h: HeaderMap| async move { serve(&h, "org.html", "no-cache") }),
        )
        .route(
            "/org/forums",
            get(|h: HeaderMap| async move { serve(&h, "forum-editor.html", "no-cache") }),
        )
        .route(
            "/favicon.svg",
            get(|h: HeaderMap| async move { serve(&h, "favicon.svg", ASSET_CACHE) }),
        )
        .route(
            "/favicon.ico",
            get(|h: HeaderMap| async move { serve(&h, "favicon.svg", ASSET_CACHE) }),
        )
        .route(
            "/assets/{*path}",
            get(|h: HeaderMap, Path(p): Path<String>| async move {
                serve(&h, &format!("assets/{p}"), ASSET_CACHE)
            }),
        )
        .route(
            "/vendor/{*path}",
            get(|h: HeaderMap, Path(p): Path<String>| async move {
                serve(&h, &format!("vendor/{p}"), ASSET_CACHE)
            }),
        )
}

#[derive(serde::Deserialize)]
struct WatchQuery {
    token: Option<String>,
}

/// The player for a working personal link; for a missing, mistyped or revoked one, the page
/// that says so and offers to mail the link again (404: there is no such link). A store
/// error serves the player, which says itself what is wrong.
async fn watch(
    Picked(state): Picked,
    headers: HeaderMap,
    query: Result<Query<WatchQuery>, QueryRejection>,
) -> Response {
    let token = match &query {
        Ok(Query(q)) => q.token.as_deref().map(str::trim).unwrap_or_default(),
        Err(_) => "",
    };
    let works = !token.is_empty()
        && match state
            .store
            .viewer_by_token_hash(&state.forum.id, &token_hash(token))
            .await
        {
            Ok(viewer) => viewer.is_some(),
            Err(e) => {
                tracing::error!(error = %e, "personal link not checked");
                true
            }
        };
    if works {
        // The page vouches for the sockets it opens (issue 15's evidence, `evidence.rs`); set
        // on a 304 too, since a revalidated page is a loaded page.
        let cookie = page_cookie(&state.evidence_key, state.clock.now());
        (
            CookieJar::new().add(cookie),
            serve(&headers, "watch.html", "no-cache"),
        )
            .into_response()
    } else {
        let mut page = serve(&headers, "link.html", "no-cache");
        if page.status() == StatusCode::OK {
            *page.status_mut() = StatusCode::NOT_FOUND;
        }
        page
    }
}

/// The answer for an address the server does not have: a page in Russian with the ways
/// forward; under `/api/` and `/ws` a bare 404, which `guard::json_errors` words as JSON for
/// the scripts that called it.
pub async fn not_found(uri: Uri) -> Response {
    let path = uri.path();
    if path.starts_with("/api/") || path == "/api" || path == "/ws" {
        return StatusCode::NOT_FOUND.into_response();
    }
    not_found_page()
}

fn not_found_page() -> Response {
    let page = Web::get("404.html").map(|f| f.data).unwrap_or_default();
    (
        StatusCode::NOT_FOUND,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        page,
    )
        .into_response()
}

fn serve(request: &HeaderMap, path: &str, cache: &'static str) -> Response {
    let Some(file) = Web::get(path) else {
        return not_found_page();
    };
    let etag = format!("\"{}\"", hex::encode(&file.metadata.sha256_hash()[..12]));
    let cache_headers = [
        (header::CACHE_CONTROL, cache.to_owned()),
        (header::ETAG, etag.clone()),
    ];
    let matches = request
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    if matches {
        return (StatusCode::NOT_MODIFIED, cache_headers).into_response();
    }
    let mime = mime_guess::from_path(path).first_or_octet_stream();
    // mime_guess names no charset; every text file here is UTF-8 (and Russian).
    let textual = mime.type_() == mime_guess::mime::TEXT
        || mime.subtype() == mime_guess::mime::JAVASCRIPT
        || mime.subtype() == mime_guess::mime::JSON;
    let content_type = if textual {
        format!("{mime}; charset=utf-8")
    } else {
        mime.to_string()
    };
    (
        cache_headers,
        [
            (header::CONTENT_TYPE, content_type),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
        ],
        file.data,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header_of(r: &Response, name: header::HeaderName) -> &str {
        r.headers()[name].to_str().unwrap()
    }

    #[test]
    fn pages_and_assets_have_types_and_cache_headers() {
        let none = HeaderMap::new();
        let r = serve(&none, "index.html", "no-cache");
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(
            header_of(&r, header::CONTENT_TYPE),
            "text/html; charset=utf-8"
        );
        assert_eq!(header_of(&r, header::CACHE_CONTROL), "no-cache");
        let r = serve(&none, "assets/player.js", ASSET_CACHE);
        assert!(header_of(&r, header::CONTENT_TYPE).contains("javascript; charset=utf-8"));
        let r = serve(&none, "vendor/uPlot.min.css", ASSET_CACHE);
        assert_eq!(
            header_of(&r, header::CONTENT_TYPE),
            "text/css; charset=utf-8"
        );
        assert_eq!(
            serve(&none, "assets/nope.js", ASSET_CACHE).status(),
            StatusCode::NOT_FOUND
        );
    }

    #[test]
    fn a_matching_etag_gets_304() {
        let first = serve(&HeaderMap::new(), "watch.html", "no-cache");
        let mut again = HeaderMap::new();
        again.insert(header::IF_NONE_MATCH, first.headers()[header::ETAG].clone());
        assert_eq!(
            serve(&again, "watch.html", "no-cache").status(),
            StatusCode::NOT_MODIFIED
        );
    }

    #[test]
    fn the_favicon_is_an_svg() {
        let r = serve(&HeaderMap::new(), "favicon.svg", ASSET_CACHE);
        assert_eq!(header_of(&r, header::CONTENT_TYPE), "image/svg+xml");
    }

    #[tokio::test]
    async fn unknown_addresses_get_a_russian_page_and_the_api_a_bare_404() {
        let page = not_found(Uri::from_static("/nope")).await;
        assert_eq!(page.status(), StatusCode::NOT_FOUND);
        assert_eq!(
            header_of(&page, header::CONTENT_TYPE),
            "text/html; charset=utf-8"
        );
        let body = axum::body::to_bytes(page.into_body(), 1 << 20)
            .await
            .unwrap();
        let html = String::from_utf8(body.to_vec()).unwrap();
        assert!(html.contains("Страница не найдена") && html.contains("href=\"/\""));
        let api = not_found(Uri::from_static("/api/nope")).await;
        assert_eq!(api.status(), StatusCode::NOT_FOUND);
        assert!(
            api.headers().get(header::CONTENT_TYPE).is_none(),
            "worded by the guard"
        );
    }

    #[test]
    fn npm_files_are_not_embedded() {
        assert!(Web::get("package.json").is_none());
        assert!(Web::get("package-lock.json").is_none());
        assert!(Web::iter().all(|p| !p.starts_with("node_modules/")));
        assert!(Web::get("vendor/hls.min.js").is_some());
    }
}
