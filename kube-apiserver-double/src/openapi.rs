//! OpenAPI documents (placeholder until served).

use http::Response;

use crate::handlers::Req;
use crate::http::{Body, Shared};
use crate::status::ApiError;

/// `GET /openapi/v3[/...]`.
pub(crate) fn v3(
    _shared: &Shared,
    _req: &Req<'_>,
    _rest: &[&str],
) -> Result<Response<Body>, ApiError> {
    Err(ApiError::no_route())
}

/// `GET /openapi/v2`.
pub(crate) fn v2(_shared: &Shared, _req: &Req<'_>) -> Result<Response<Body>, ApiError> {
    Err(ApiError::no_route())
}
