vcl 4.1;

# Varnish (Debian bookworm's 7.1) in front of the trading gateway: the `cdn` profile of
# docker-compose.yml, and the CDN of test/integration/cdn.varnish.test.ts (which runs this file
# with the backend's host and port replaced). README: "CDN in front".
#
# The gateway is the authority on what may be shared: Varnish stores only answers it marks
# `public` (GET queries from its response cache, with max-age, s-maxage and stale-while-revalidate
# as configured) and names by tag in `Surrogate-Key`. Everything else, private answers,
# `no-store`, PERSISTED_QUERY_NOT_FOUND (`private, no-cache, must-revalidate`), errors, POST and
# the operator endpoints, goes to the gateway every time.
#
# The gateway forwards every invalidation it makes as a purge (CDN_PURGE_URL pointing here):
#   PURGE / with `Surrogate-Key: Signal:7 Signal:~`  bans what names any of those tags, exactly;
#   PURGE / with `X-Purge-All: true`                  bans everything.
# If the gateway names its tags in another header (CDN_SURROGATE_KEY_HEADER), rename
# `Surrogate-Key` below to match.

import std;

backend gateway {
    .host = "gateway";
    .port = "4000";
    .connect_timeout = 2s;
    # The gateway's own deadline for a request is HTTP_REQUEST_TIMEOUT_MS (30 s).
    .first_byte_timeout = 35s;
    .between_bytes_timeout = 10s;
}

# Who may purge: this host and, in compose, the gateway service. A name in parentheses that does
# not resolve is left out (without them it would match every address). Names resolve when the VCL
# loads: reload it if the gateway comes back on another address.
acl purgers {
    "localhost";
    "127.0.0.1";
    "::1";
    ("gateway");
}

sub vcl_recv {
    if (req.method == "PURGE") {
        if (client.ip !~ purgers) {
            return (synth(403, "Forbidden"));
        }
        if (req.http.X-Purge-All == "true") {
            ban("obj.status != 0");
            return (synth(200, "Purged everything"));
        }
        # Tags contain regex metacharacters (`SignalList:EUR_USD/*/ACTIVE/*/*`): each is escaped,
        # then they are joined as alternatives that must span a whole token of the stored header
        # (bounded by its start or end, a space or a comma), so `Signal:1` never bans `Signal:10`.
        set req.http.X-Purge-Tags = regsuball(req.http.Surrogate-Key, "([][\\^$.|?*+(){}])", "\\\1");
        set req.http.X-Purge-Tags = regsuball(regsuball(req.http.X-Purge-Tags, "^[\s,]+|[\s,]+$", ""), "[\s,]+", "|");
        if (req.http.X-Purge-Tags == "") {
            return (synth(400, "Name the tags to purge in Surrogate-Key, or send X-Purge-All: true"));
        }
        # Only obj.* in the expression: the ban lurker can then apply it in the background.
        ban("obj.http.Surrogate-Key ~ (^|[\s,])(" + req.http.X-Purge-Tags + ")([\s,]|$)");
        return (synth(200, "Purged"));
    }

    if ((req.method != "GET" && req.method != "HEAD") || req.url !~ "^/graphql(\?|$)") {
        # Mutations (POST), the playground's assets and the operator endpoints.
        return (pass);
    }
    # The gateway refuses a GET that a plain HTML form could send (Apollo's CSRF prevention, 400):
    # let it, rather than answer such a request from the cache.
    if (req.http.apollo-require-preflight !~ "." && req.http.x-apollo-operation-name !~ "." &&
        (req.http.Content-Type !~ "." || req.http.Content-Type ~ "(?i)^\s*(application/x-www-form-urlencoded|multipart/form-data|text/plain)\s*(;|$)")) {
        return (pass);
    }
    # Looked up with or without Authorization (unlike the built-in VCL, which passes): only answers
    # marked public are ever stored (vcl_backend_response), and the gateway marks public only what
    # it serves to every viewer alike; a viewer's private answer is fetched for that viewer.
    return (hash);
}

sub vcl_hash {
    # The gateway keys an operation by what it means, Varnish by URL: sorting the query string at
    # least makes the order of its parameters not matter.
    hash_data(std.querysort(req.url));
    if (req.http.host) {
        hash_data(req.http.host);
    } else {
        hash_data(server.ip);
    }
    # The same URL serves the playground's HTML to browsers and JSON to clients.
    if (req.http.Accept) {
        hash_data(req.http.Accept);
    }
    return (lookup);
}

sub vcl_backend_response {
    if (bereq.uncacheable) {
        return (deliver);
    }
    # Stored only when the gateway says public and nothing forbids it; beresp.ttl comes from
    # s-maxage, else max-age, less the Age the gateway sends.
    if (beresp.status != 200 ||
        beresp.http.Cache-Control !~ "(?i)(^|,)\s*public\s*(,|$)" ||
        beresp.http.Cache-Control ~ "(?i)(^|,)\s*(private|no-store|no-cache)\b" ||
        beresp.http.Set-Cookie ||
        beresp.http.Vary == "*" ||
        beresp.ttl <= 0s) {
        # Hit-for-miss: the next requests go to the gateway without waiting for one another, and
        # one that is cacheable replaces this marker.
        set beresp.ttl = 120s;
        set beresp.uncacheable = true;
        return (deliver);
    }
    # No grace beyond what the gateway allows: a quote is stale when its hint says so.
    if (beresp.http.Cache-Control !~ "(?i)stale-while-revalidate") {
        set beresp.grace = 0s;
    }
    return (deliver);
}

sub vcl_deliver {
    if (obj.uncacheable) {
        set resp.http.X-Varnish-Cache = "PASS";
    } else if (obj.hits > 0) {
        set resp.http.X-Varnish-Cache = "HIT";
    } else {
        set resp.http.X-Varnish-Cache = "MISS";
    }
    # Tags are for purging here, not for clients.
    unset resp.http.Surrogate-Key;
    unset resp.http.X-Purge-Tags;
}
