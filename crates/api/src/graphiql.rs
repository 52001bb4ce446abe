//! GraphiQL served from the service itself: the page and its pinned assets (vendored from the
//! npm registry into `assets/graphiql/`, embedded in the binary). Agency networks often have
//! no internet, and a CDN would see the tokens pasted into the page; so the page names no other
//! host, and its Content-Security-Policy lets it reach none.

/// Where the assets are served; the page refers to them relative to the service.
pub const ASSET_PREFIX: &str = "/graphiql/assets/";

/// One embedded file.
pub struct Asset {
    pub name: &'static str,
    pub content_type: &'static str,
    pub bytes: &'static [u8],
}

/// Every asset the page loads. The names carry the package versions, so they may be cached
/// for good.
pub const ASSETS: &[Asset] = &[
    Asset {
        name: "react-18.3.1.production.min.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../../assets/graphiql/react-18.3.1.production.min.js"),
    },
    Asset {
        name: "react-dom-18.3.1.production.min.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../../assets/graphiql/react-dom-18.3.1.production.min.js"),
    },
    Asset {
        name: "graphiql-4.1.2.min.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../../assets/graphiql/graphiql-4.1.2.min.js"),
    },
    Asset {
        name: "graphiql-4.1.2.min.css",
        content_type: "text/css; charset=utf-8",
        bytes: include_bytes!("../../../assets/graphiql/graphiql-4.1.2.min.css"),
    },
];

pub fn asset(name: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.name == name)
}

/// Scripts and styles from this origin only (GraphiQL's inline style attributes and the
/// page's own start-up script aside); requests to this origin's HTTP and WebSocket endpoints.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self' 'unsafe-inline'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; \
     connect-src 'self' ws: wss:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The page. The token goes in GraphiQL's Headers tab as
/// `{"Authorization": "Bearer …"}`; subscriptions use the same endpoint's WebSocket.
pub const PAGE: &str = r#"<!DOCTYPE html>
<html lang="zh-CN">
  <head>
    <meta charset="utf-8">
    <meta name="robots" content="noindex">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <meta name="referrer" content="no-referrer">
    <title>permit-exchange GraphiQL</title>
    <style>
      body { height: 100%; margin: 0; width: 100%; overflow: hidden; }
      #graphiql { height: 100vh; }
    </style>
    <link rel="icon" href="data:,">
    <link rel="stylesheet" href="/graphiql/assets/graphiql-4.1.2.min.css">
    <script src="/graphiql/assets/react-18.3.1.production.min.js"></script>
    <script src="/graphiql/assets/react-dom-18.3.1.production.min.js"></script>
  </head>
  <body>
    <div id="graphiql">Loading…</div>
    <script src="/graphiql/assets/graphiql-4.1.2.min.js"></script>
    <script>
      const url = new URL('/graphql', window.location.origin).toString();
      const ws = new URL('/graphql/ws', window.location.origin);
      ws.protocol = ws.protocol === 'https:' ? 'wss:' : 'ws:';
      ReactDOM.createRoot(document.getElementById('graphiql')).render(
        React.createElement(GraphiQL, {
          fetcher: GraphiQL.createFetcher({ url, subscriptionUrl: ws.toString() }),
          defaultEditorToolsVisibility: true,
        })
      );
    </script>
  </body>
</html>
"#;
