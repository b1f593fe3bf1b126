"""Discovery: WebFinger, host-meta and NodeInfo, with real usage counts."""
from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedserver import __version__
from fedserver.activitypub import nodeinfo, webfinger
from fedserver.activitypub.errors import MalformedObject
from fedserver.api.responses import error, json_document
from fedserver.db import utcnow
from fedserver.local import accounts, statuses
from fedserver.local.errors import NotFound
from fedserver.local.models.actors import Actor
from fedserver.site import Site

CORS = {"Access-Control-Allow-Origin": "*"}
JRD = "application/jrd+json; charset=utf-8"


async def webfinger_endpoint(request: Request) -> Response:
    """RFC 7033 lookup of acct: and http(s) URL resources of our own accounts."""
    site: Site = request.app.state.site
    resource = request.query_params.get("resource", "").strip()
    if not resource:
        return error(400, "the resource parameter is missing (e.g. ?resource=acct:alice@example.org)", CORS)
    try:
        async with site.sessions() as session:
            actor = await _actor_for_resource(session, site, resource)
            subject = f"acct:{actor.username}@{site.urls.domain}"
            document = webfinger.render_jrd(subject, actor.ap_id, actor.url or actor.ap_id,
                                            aliases=[alias for alias in (actor.url, actor.ap_id) if alias])
    except MalformedObject as exc:
        return error(400, str(exc), CORS)
    except NotFound as exc:
        return error(404, str(exc), CORS)
    return json_document(document, JRD, headers={**CORS, "Cache-Control": "max-age=259200, public"})


async def _actor_for_resource(session: AsyncSession, site: Site, resource: str) -> Actor:
    if webfinger.is_url_resource(resource):
        return await _actor_for_url(session, site, resource)
    username, domain = webfinger.parse_resource(resource)
    if domain.lower() != site.urls.domain:
        raise NotFound(f"{domain} is not this server ({site.urls.domain})")
    if username.lower() == site.urls.domain:  # the instance actor, as Mastodon names it
        return await accounts.find_instance_actor(session, site.urls)
    return (await accounts.find_by_username(session, username)).actor


async def _actor_for_url(session: AsyncSession, site: Site, resource: str) -> Actor:
    parts = urlsplit(resource)
    if parts.netloc.lower() != site.urls.domain:
        raise NotFound(f"{parts.netloc} is not this server ({site.urls.domain})")
    if resource.rstrip("/") == site.urls.instance_actor:
        return await accounts.find_instance_actor(session, site.urls)
    path = parts.path.rstrip("/")
    for prefix in ("/users/", "/@"):
        if path.startswith(prefix) and "/" not in path[len(prefix):]:
            return (await accounts.find_by_username(session, path[len(prefix):])).actor
    raise NotFound(f"{resource} is not an account of this server")


async def host_meta(request: Request) -> Response:
    site: Site = request.app.state.site
    return Response(webfinger.render_host_meta(site.urls.base_url), media_type="application/xrd+xml", headers=CORS)


async def nodeinfo_discovery(request: Request) -> Response:
    site: Site = request.app.state.site
    return json_document(nodeinfo.render_discovery(site.urls.base_url), headers=CORS)


async def nodeinfo_document(request: Request) -> Response:
    """NodeInfo 2.0 / 2.1 with counted users and posts, and the city in metadata."""
    site: Site = request.app.state.site
    version = request.path_params["version"]
    if version not in ("2.0", "2.1"):
        return error(404, f"NodeInfo {version} is not served here; try 2.0 or 2.1", CORS)
    now = utcnow()
    async with site.sessions() as session:
        usage = nodeinfo.NodeUsage(
            users_total=await accounts.count_users(session),
            active_month=await accounts.count_users(session, active_since=now - timedelta(days=30)),
            active_halfyear=await accounts.count_users(session, active_since=now - timedelta(days=180)),
            local_posts=await statuses.count_local(session),
        )
    city = site.settings.city
    metadata = {
        "nodeName": city.name,
        "nodeDescription": city.description,
        # megalodon (Whalebird, Fedistar) logs in only to servers it knows (CLIENTS.md).
        "upstream": {"name": "mastodon", "version": "4.3.0"},
        "city": {"name": city.name, "latitude": city.latitude, "longitude": city.longitude,
                 "radiusKm": city.radius_km},
    }
    document = nodeinfo.render_nodeinfo(
        version, software_version=__version__, usage=usage,
        open_registrations=site.settings.registrations != "closed", metadata=metadata,
    )
    profile = f"http://nodeinfo.diaspora.software/ns/schema/{version}#"
    return json_document(document, f'application/json; profile="{profile}"', headers=CORS)


ROUTES = [
    Route("/.well-known/webfinger", webfinger_endpoint),
    Route("/.well-known/host-meta", host_meta),
    Route("/.well-known/nodeinfo", nodeinfo_discovery),
    Route("/nodeinfo/{version}", nodeinfo_document),
]
