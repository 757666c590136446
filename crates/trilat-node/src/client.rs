//! A small HTTP client of a node's API, for the `trilat report …` and
//! `trilat audit …` and `trilat ais send` commands.

use serde_json::Value;

/// A call to a node that failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// Nothing answers at the node's address (not started, wrong port).
    #[error("cannot connect to {base} — is the node running?")]
    Unreachable {
        /// The node's base URL.
        base: String,
        /// The URL called.
        url: String,
    },
    /// The node answered garbage, or the connection failed midway.
    #[error("{url}: {reason}")]
    Transport {
        /// The URL called.
        url: String,
        /// Why.
        reason: String,
    },
    /// The node answered an error (`{"error": {"code", "message"}}`).
    #[error("{url}: {status} {code}: {message}")]
    Api {
        /// The URL called.
        url: String,
        /// HTTP status.
        status: u16,
        /// The node's stable error code.
        code: String,
        /// The node's message.
        message: String,
    },
}

/// A client of one node with one bearer token.
#[derive(Clone)]
pub struct NodeClient {
    base: String,
    token: String,
    http: reqwest::Client,
}

impl NodeClient {
    /// A client of the node at `base` (e.g. `http://127.0.0.1:7401`).
    pub fn new(base: &str, token: &str) -> NodeClient {
        NodeClient {
            base: base.trim_end_matches('/').to_string(),
            token: token.to_string(),
            http: reqwest::Client::new(),
        }
    }

    /// `GET path` (path with query); the JSON answer.
    pub async fn get(&self, path: &str) -> Result<Value, ClientError> {
        self.send(self.http.get(self.url(path)), path).await
    }

    /// `POST path` with a JSON body; the JSON answer.
    pub async fn post(&self, path: &str, body: &Value) -> Result<Value, ClientError> {
        self.send(self.http.post(self.url(path)).json(body), path)
            .await
    }

    /// `PUT path` with a JSON body; the JSON answer.
    pub async fn put(&self, path: &str, body: &Value) -> Result<Value, ClientError> {
        self.send(self.http.put(self.url(path)).json(body), path)
            .await
    }

    /// `POST path` with a `text/plain` body (NMEA lines, for example); the JSON answer.
    pub async fn post_text(&self, path: &str, body: String) -> Result<Value, ClientError> {
        let request = self
            .http
            .post(self.url(path))
            .header(reqwest::header::CONTENT_TYPE, "text/plain; charset=utf-8")
            .body(body);
        self.send(request, path).await
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn send(
        &self,
        request: reqwest::RequestBuilder,
        path: &str,
    ) -> Result<Value, ClientError> {
        let url = self.url(path);
        let transport = |reason: String| ClientError::Transport {
            url: url.clone(),
            reason,
        };
        let response = request.bearer_auth(&self.token).send().await.map_err(|e| {
            if e.is_connect() {
                ClientError::Unreachable {
                    base: self.base.clone(),
                    url: url.clone(),
                }
            } else {
                transport(e.to_string())
            }
        })?;
        let status = response.status().as_u16();
        let body: Value = response
            .json()
            .await
            .map_err(|e| transport(format!("answer is not JSON: {e}")))?;
        if (200..300).contains(&status) {
            return Ok(body);
        }
        Err(ClientError::Api {
            url,
            status,
            code: body["error"]["code"].as_str().unwrap_or("?").to_string(),
            message: body["error"]["message"].as_str().unwrap_or("").to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_node_that_is_not_running_is_named() {
        // A port that was free a moment ago: nothing listens there now.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        drop(listener);
        let err = NodeClient::new(&base, "trl_x")
            .get("/api/v1/whoami")
            .await
            .unwrap_err();
        assert!(matches!(err, ClientError::Unreachable { .. }), "{err:?}");
        assert_eq!(
            err.to_string(),
            format!("cannot connect to {base} — is the node running?")
        );
    }
}
