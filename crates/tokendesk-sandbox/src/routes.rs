//! The URL map: `{base}/`, and the same endpoints under `/standard`, `/gateway`, `/bank` and
//! `/fapi`; the bank adds its PSD2 API and puts every back-channel route behind its `x-api-key`
//! check; the FAPI issuer adds its PAR endpoint.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::middleware;
use axum::response::Response;
use axum::routing::{get, post};

use crate::state::{Issuer, Shared};
use crate::style::Style;
use crate::{api, authorize, bank, discovery, fapi, introspect, pages, revoke, token, userinfo};

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    let mut router = Router::new()
        .route("/", get(index))
        .route(
            "/.well-known/oauth-authorization-server/{style}",
            get(discovery::metadata_by_path),
        )
        .with_state(shared.clone())
        .merge(api::routes(shared.clone()));
    for style in Style::ALL {
        let issuer = Issuer {
            shared: shared.clone(),
            style,
        };
        router = router.nest(&format!("/{}", style.path()), issuer_routes(issuer));
    }
    router
}

fn issuer_routes(issuer: Issuer) -> Router {
    // What a browser or anyone may fetch.
    let public = Router::new()
        .route(
            "/.well-known/openid-configuration",
            get(discovery::metadata),
        )
        .route(
            "/.well-known/oauth-authorization-server",
            get(discovery::metadata),
        )
        .route("/jwks", get(discovery::jwks))
        .route("/authorize", get(authorize::authorize))
        .route("/authorize/decision", post(authorize::decision));
    // What clients call.
    let back_channel = Router::new()
        .route("/token", post(token::token))
        .route("/revoke", post(revoke::revoke))
        .route("/introspect", post(introspect::introspect))
        .route(
            "/userinfo",
            get(userinfo::userinfo).post(userinfo::userinfo),
        );
    let back_channel = match issuer.style {
        Style::Standard | Style::Gateway => back_channel,
        Style::Bank => back_channel
            .merge(bank::api_routes())
            .layer(middleware::from_fn(bank::require_api_key))
            .merge(bank::public_routes()),
        Style::Fapi => back_channel.merge(fapi::routes()),
    };
    public.merge(back_channel).with_state(issuer)
}

async fn index(State(shared): State<Arc<Shared>>) -> Response {
    pages::index(&shared.base_url)
}
