"""URL identity: one canonical string per article, whatever tracking, AMP or mobile dressing it came in.

Pure and deterministic; nothing here raises on junk input. See docs/dedupe.md for the rules.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from functools import lru_cache
from urllib.parse import SplitResult, quote, unquote, urljoin, urlsplit, urlunsplit

_HTTP = ("http", "https")
_DEFAULT_PORTS = {"http": 80, "https": 443}

# Query keys that only say how the reader arrived (compared case-insensitively).
TRACKING_KEYS = frozenset(
    {
        "fbclid",
        "gclid",
        "gclsrc",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "yclid",
        "twclid",
        "ttclid",
        "igshid",
        "igsh",
        "li_fat_id",
        "mc_cid",
        "mc_eid",
        "mkt_tok",
        "ref",
        "ref_src",
        "ref_url",
        "referrer",
        "referer",
        "_ga",
        "_gl",
        "_hsenc",
        "_hsmi",
        "hsctatracking",
        "ncid",
        "cmpid",
        "cmp",
        "ocid",
        "icid",
        "smid",
        "smtyp",
        "sr_share",
        "taid",
        "ito",
        "xtor",
        "at_xtor",
        "at_medium",
        "at_campaign",
        "at_source",
        "wt_mc",
        "wt.mc_id",
        "wt_zmc",
        "s_cid",
        "sc_cid",
        "spm",
        "trk",
        "trkcampaign",
        "soc_src",
        "soc_trk",
        "oly_enc_id",
        "oly_anon_id",
        "vero_id",
        "rb_clickid",
        "guccounter",
        "guce_referrer",
        "guce_referrer_sig",
        "fb_action_ids",
        "fb_action_types",
        "fb_source",
        "fb_ref",
        "action_object_map",
        "action_type_map",
        "action_ref_map",
        "__twitter_impression",
        "ns_mchannel",
        "ns_source",
        "ns_campaign",
        "ns_linkname",
        "ns_fee",
        "ftag",
        "cid_source",
        "share",
        "shared",
        "via",
        "rss",
        "from_rss",
        "feed_source",
        "amp",
    }
)
TRACKING_PREFIXES = ("utm_", "mtm_", "pk_", "piwik_", "hsa_", "matomo_")
# `?outputType=amp` and friends: the AMP rendering of the same page.
_AMP_VALUED_KEYS = frozenset({"outputtype", "output", "format", "view"})

# Leading host labels that are another rendering of the same site.
_ALIAS_LABELS = frozenset({"www", "www1", "www2", "m", "mobile", "amp", "amp-www"})

# Second-level labels that, under a two-letter country TLD, form a public suffix (co.uk, com.br, ...).
_GENERIC_SLD = frozenset(
    {
        "co",
        "com",
        "net",
        "org",
        "gov",
        "gob",
        "gouv",
        "edu",
        "ac",
        "or",
        "ne",
        "go",
        "mil",
        "nic",
        "web",
        "ltd",
        "plc",
        "sch",
        "nom",
        "info",
        "biz",
        "int",
        "res",
        "lg",
        "ad",
        "ed",
        "gr",
        "in",
        "me",
        "id",
    }
)
# Multi-label suffixes that the two-letter rule does not catch.
_EXTRA_SUFFIXES = frozenset(
    {
        "com.au",
        "net.au",
        "org.au",
        "blogspot.com",
        "github.io",
        "gitlab.io",
        "herokuapp.com",
        "appspot.com",
        "wordpress.com",
        "substack.com",
        "medium.com",
        "tumblr.com",
        "cloudfront.net",
        "azurewebsites.net",
        "pages.dev",
        "netlify.app",
        "vercel.app",
        "co.com",
        "eu.com",
        "uk.com",
        "us.com",
    }
)

# Hosts whose links stand in for another site's article (feed proxies, AMP caches, aggregators):
# a rel=canonical or GUID on another site is trusted when the URL comes from one of these.
_PROXY_SITES = frozenset(
    {
        "feedproxy.google.com",
        "feedburner.com",
        "ampproject.org",
        "news.google.com",
        "google.com",
        "flipboard.com",
        "msn.com",
        "yahoo.com",
        "feedly.com",
        "inoreader.com",
        "newsbreak.com",
        "t.co",
        "lnkd.in",
        "bit.ly",
        "ow.ly",
        "dlvr.it",
        "trib.al",
    }
)

_SCHEME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_PATH_SAFE = ":@!$&'()*+,;=-._~"
_QUERY_SAFE = "/:@!$'()*,;-._~?"
_IPV4_RE = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")


def canonicalize_url(url: str) -> str:
    """The identity form of an http(s) URL. Idempotent; anything that is not http(s) comes back trimmed.

    Lower-cases scheme and host, drops userinfo, default ports, fragments, `www.`/`m.`/`mobile.`/`amp.`
    host prefixes, tracking parameters and AMP markers (`/amp/` segments, `.amp.html`, `?amp=1`,
    `?outputType=amp`), unwraps AMP-cache URLs, normalises percent-encoding, drops a trailing slash
    (except the root) and sorts the query.
    """
    if not isinstance(url, str):
        return ""
    return _canonical_form(url)


@lru_cache(maxsize=16384)
def _canonical_form(url: str) -> str:
    """`canonicalize_url` of a string, remembered: a poll canonicalises each entry's URL several times
    (its key, its sighting, the known-articles lookup)."""
    out = url.strip()
    try:
        for _ in range(4):  # rewriting can expose another layer (an AMP wrapper, `x.amp.amp.html`)
            nxt = _canonicalize(out)
            if nxt == out:
                break
            out = nxt
    except (ValueError, UnicodeError):
        return url.strip()
    return out


def _canonicalize(url: str) -> str:
    raw = url.strip()
    if raw.startswith("//"):
        raw = "https:" + raw
    if not _SCHEME_RE.match(raw):
        return raw
    parts = urlsplit(raw)
    scheme = parts.scheme.lower()
    if scheme not in _HTTP:
        return raw
    inner = _unwrap_amp_cache(parts.hostname or "", parts.path, parts.query)
    if inner is not None:
        return inner  # canonicalize_url runs again on the unwrapped URL
    host = _canonical_host(parts.hostname or "")
    if not host:
        return raw
    netloc = host if ":" not in host else f"[{host}]"
    port = _port_of(_valid_port(parts), scheme)
    if port is not None:
        netloc = f"{netloc}:{port}"
    path = _canonical_path(parts.path)
    query = _canonical_query(parts.query)
    return urlunsplit((scheme, netloc, path, query, ""))


def _valid_port(parts: SplitResult) -> int | None:
    try:
        return parts.port
    except ValueError:
        return None


def _port_of(port: int | None, scheme: str) -> int | None:
    if port is None or port == _DEFAULT_PORTS[scheme]:
        return None
    return port


def _unwrap_amp_cache(host: str, path: str, query: str) -> str | None:
    """`https://www-x-com.cdn.ampproject.org/c/s/www.x.com/a` and `google.com/amp/s/x.com/a` -> inner URL."""
    host = host.lower()
    rest: str | None = None
    secure = False
    if host.endswith(".cdn.ampproject.org"):
        m = re.match(r"^/(?:c|v|i|r)/(?:s/)?(.+)$", path)
        secure = "/s/" in path[:5]
        rest = m.group(1) if m else None
    elif host.endswith("google.com") and path.startswith("/amp/"):
        secure = path.startswith("/amp/s/")
        rest = path[len("/amp/s/") if secure else len("/amp/") :]
    if not rest or "." not in rest.split("/", 1)[0]:
        return None
    inner = ("https://" if secure else "http://") + rest
    return f"{inner}?{query}" if query else inner


def _canonical_host(hostname: str) -> str:
    host = hostname.strip().rstrip(".").lower()
    if not host:
        return ""
    if any(ord(c) > 127 for c in host):
        with contextlib.suppress(UnicodeError):
            host = host.encode("idna").decode("ascii")
    labels = host.split(".")
    while len(labels) > 2 and labels[0] in _ALIAS_LABELS:
        shorter = ".".join(labels[1:])
        if _site_of_host(shorter) != _site_of_host(host):
            break
        labels = labels[1:]
        host = shorter
    return host


def _canonical_path(path: str) -> str:
    segments = [_requote(seg, _PATH_SAFE) for seg in path.split("/")]
    kept: list[str] = []
    for seg in segments:
        if seg.lower() == "amp":
            continue
        kept.append(seg)
    if kept and kept[-1]:
        last = kept[-1]
        low = last.lower()
        if low.endswith(".amp.html") or low.endswith(".amp.htm"):
            last = last[: low.rindex(".amp.")] + last[low.rindex(".amp.") + 4 :]
        elif low.endswith(".amp"):
            last = last[:-4]
        kept[-1] = last
    out = "/".join(kept)
    if not out.startswith("/"):
        out = "/" + out
    while len(out) > 1 and out.endswith("/"):
        out = out[:-1]
    return out


def _requote(text: str, safe: str) -> str:
    return quote(unquote(text, errors="replace"), safe=safe)


def _canonical_query(query: str) -> str:
    if not query:
        return ""
    pairs: list[tuple[str, str]] = []
    for item in query.split("&"):
        if not item:
            continue
        key, sep, value = item.partition("=")
        key = unquote(key.replace("+", " "), errors="replace")
        value = unquote(value.replace("+", " "), errors="replace")
        if _is_tracking(key, value):
            continue
        pairs.append((key, value if sep else ""))
    pairs.sort()
    return "&".join(
        f"{quote(k, safe=_QUERY_SAFE)}={quote(v, safe=_QUERY_SAFE)}" if v else quote(k, safe=_QUERY_SAFE)
        for k, v in pairs
    )


def _is_tracking(key: str, value: str) -> bool:
    low = key.strip().lower()
    if not low or low in TRACKING_KEYS or low.startswith(TRACKING_PREFIXES):
        return True
    return low in _AMP_VALUED_KEYS and value.strip().lower() == "amp"


def host_of(url: str) -> str:
    """The lower-case host of a URL, without port or trailing dot ('' when there is none)."""
    try:
        raw = url.strip()
        if raw.startswith("//"):
            raw = "https:" + raw
        host = urlsplit(raw).hostname or ""
    except (ValueError, AttributeError):
        return ""
    return host.rstrip(".").lower()


def site_of(url: str) -> str:
    """The registrable-ish domain of a URL ('bbc.co.uk' for 'https://news.bbc.co.uk/x'): a heuristic.

    Accepts a bare host too. IP addresses and single-label hosts come back whole.
    """
    host = host_of(url) if "/" in url or ":" in url else url.strip().rstrip(".").lower()
    return _site_of_host(host)


def _site_of_host(host: str) -> str:
    if not host or ":" in host or _IPV4_RE.match(host):
        return host
    labels = host.split(".")
    if len(labels) <= 2:
        return host
    last2 = ".".join(labels[-2:])
    suffix_len = 1
    if last2 in _EXTRA_SUFFIXES or (len(labels[-1]) == 2 and labels[-2] in _GENERIC_SLD):
        suffix_len = 2
    return ".".join(labels[-(suffix_len + 1) :])


def _is_http(url: str | None) -> bool:
    if not url:
        return False
    try:
        return urlsplit(url.strip()).scheme.lower() in _HTTP
    except ValueError:
        return False


def _is_root(url: str) -> bool:
    parts = urlsplit(url)
    return parts.path in ("", "/") and not parts.query


def choose_canonical(url: str, link_canonical: str | None, guid: str | None) -> str:
    """The canonical URL of an article, from its URL, its page's `<link rel=canonical>` and its feed GUID.

    1. rel=canonical (resolved against `url`) wins when it is http(s), is not the site's home page
       (unless `url` is too), and is on the same registrable site as `url` — or `url` is on a feed
       proxy, AMP cache or aggregator, which stands in for someone else's page.
    2. Otherwise the GUID wins when it is an http(s) permalink (not a home page) and `url` is missing,
       not http(s), or on a feed proxy / aggregator. A publisher URL is otherwise kept over its GUID
       (often a `?p=123` shortlink), so the same article found by a page source, which has no GUID,
       gets the same identity.
    3. Otherwise `url`.
    The winner is returned through `canonicalize_url`.
    """
    try:
        return canonicalize_url(_choose(url, link_canonical, guid))
    except (ValueError, UnicodeError, TypeError):
        return canonicalize_url(url)


def _choose(url: str, link_canonical: str | None, guid: str | None) -> str:
    url_ok = _is_http(url)
    url_site = site_of(url) if url_ok else ""
    from_proxy = not url_ok or url_site in _PROXY_SITES
    if link_canonical and link_canonical.strip():
        cand = urljoin(url, link_canonical.strip()) if url_ok else link_canonical.strip()
        if _is_http(cand) and host_of(cand):
            home = _is_root(cand) and not (url_ok and _is_root(url))
            if not home and (from_proxy or site_of(cand) == url_site):
                return cand
    if from_proxy and guid and _is_http(guid) and host_of(guid) and not _is_root(guid):
        return guid.strip()
    return url


def article_id(canonical_url: str) -> str:
    """A stable 16-hex id for an article: sha256 of its canonical URL without the scheme.

    `http://` and `https://` forms of one page get one id. The input is canonicalised first
    (idempotent), so passing a raw URL is safe.
    """
    canon = canonicalize_url(canonical_url)
    key = re.sub(r"^https?://", "", canon, flags=re.IGNORECASE)
    return hashlib.sha256(key.encode("utf-8", errors="surrogatepass")).hexdigest()[:16]
